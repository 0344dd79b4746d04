"""cdp tags, segments, traits, consent and deletion

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cdp_deletions",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("pending_profiles", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'done', 'failed')", name=op.f("ck_cdp_deletions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_deletions")),
    )
    op.create_index(op.f("ix_cdp_deletions_subject"), "cdp_deletions", ["subject"], unique=False)
    op.create_index(op.f("ix_cdp_deletions_tenant_id"), "cdp_deletions", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_segments",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('dynamic', 'static')", name=op.f("ck_cdp_segments_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_segments")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_cdp_segments_tenant_id_name")),
    )
    op.create_index(op.f("ix_cdp_segments_tenant_id"), "cdp_segments", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_tags",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('manual', 'rule')", name=op.f("ck_cdp_tags_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_tags")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_cdp_tags_tenant_id_name")),
    )
    op.create_index(op.f("ix_cdp_tags_tenant_id"), "cdp_tags", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_consents",
        sa.Column("profile_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('marketing_sms', 'marketing_wechat', 'profiling', 'analytics', 'cross_border')",
            name=op.f("ck_cdp_consents_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["cdp_profiles.id"], name=op.f("fk_cdp_consents_profile_id_cdp_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_consents")),
    )
    op.create_index(
        "ix_cdp_consents_profile_purpose", "cdp_consents", ["profile_id", "purpose", "at"], unique=False
    )
    op.create_index(op.f("ix_cdp_consents_tenant_id"), "cdp_consents", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_profile_tags",
        sa.Column("tag_id", sa.String(length=36), nullable=False),
        sa.Column("profile_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("source IN ('manual', 'rule')", name=op.f("ck_cdp_profile_tags_source")),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["cdp_profiles.id"], name=op.f("fk_cdp_profile_tags_profile_id_cdp_profiles")
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["cdp_tags.id"], name=op.f("fk_cdp_profile_tags_tag_id_cdp_tags")
        ),
        sa.PrimaryKeyConstraint("tag_id", "profile_id", name=op.f("pk_cdp_profile_tags")),
    )
    op.create_index("ix_cdp_profile_tags_profile_id", "cdp_profile_tags", ["profile_id"], unique=False)
    op.create_index(op.f("ix_cdp_profile_tags_tenant_id"), "cdp_profile_tags", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_segment_members",
        sa.Column("segment_id", sa.String(length=36), nullable=False),
        sa.Column("profile_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["cdp_segments.id"], name=op.f("fk_cdp_segment_members_segment_id_cdp_segments")
        ),
        sa.PrimaryKeyConstraint("segment_id", "profile_id", name=op.f("pk_cdp_segment_members")),
    )
    op.create_index(
        op.f("ix_cdp_segment_members_tenant_id"), "cdp_segment_members", ["tenant_id"], unique=False
    )
    op.create_table(
        "cdp_traits",
        sa.Column("profile_id", sa.String(length=36), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=True),
        sa.Column("f_score", sa.Integer(), nullable=True),
        sa.Column("m_score", sa.Integer(), nullable=True),
        sa.Column("last_scan", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usual_store", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["cdp_profiles.id"], name=op.f("fk_cdp_traits_profile_id_cdp_profiles")
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_cdp_traits")),
    )
    op.create_index(op.f("ix_cdp_traits_tenant_id"), "cdp_traits", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_cdp_traits_usual_store"), "cdp_traits", ["usual_store"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cdp_traits_usual_store"), table_name="cdp_traits")
    op.drop_index(op.f("ix_cdp_traits_tenant_id"), table_name="cdp_traits")
    op.drop_table("cdp_traits")
    op.drop_index(op.f("ix_cdp_segment_members_tenant_id"), table_name="cdp_segment_members")
    op.drop_table("cdp_segment_members")
    op.drop_index(op.f("ix_cdp_profile_tags_tenant_id"), table_name="cdp_profile_tags")
    op.drop_index("ix_cdp_profile_tags_profile_id", table_name="cdp_profile_tags")
    op.drop_table("cdp_profile_tags")
    op.drop_index(op.f("ix_cdp_consents_tenant_id"), table_name="cdp_consents")
    op.drop_index("ix_cdp_consents_profile_purpose", table_name="cdp_consents")
    op.drop_table("cdp_consents")
    op.drop_index(op.f("ix_cdp_tags_tenant_id"), table_name="cdp_tags")
    op.drop_table("cdp_tags")
    op.drop_index(op.f("ix_cdp_segments_tenant_id"), table_name="cdp_segments")
    op.drop_table("cdp_segments")
    op.drop_index(op.f("ix_cdp_deletions_tenant_id"), table_name="cdp_deletions")
    op.drop_index(op.f("ix_cdp_deletions_subject"), table_name="cdp_deletions")
    op.drop_table("cdp_deletions")
