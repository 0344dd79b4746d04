"""cdp tables: identifiers, links, profiles, merge audit, settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cdp_merge_audit",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.String(length=36), nullable=False),
        sa.Column("other_profiles", sa.Text(), nullable=False),
        sa.Column("identifiers", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "kind IN ('merge', 'split', 'unlink', 'quarantine', 'release')",
            name=op.f("ck_cdp_merge_audit_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_merge_audit")),
    )
    op.create_index(op.f("ix_cdp_merge_audit_profile_id"), "cdp_merge_audit", ["profile_id"], unique=False)
    op.create_index("ix_cdp_merge_audit_tenant_at", "cdp_merge_audit", ["tenant_id", "at"], unique=False)
    op.create_index(op.f("ix_cdp_merge_audit_tenant_id"), "cdp_merge_audit", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_profiles",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('active', 'merged')", name=op.f("ck_cdp_profiles_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_profiles")),
    )
    op.create_index(op.f("ix_cdp_profiles_merged_into"), "cdp_profiles", ["merged_into"], unique=False)
    op.create_index(op.f("ix_cdp_profiles_tenant_id"), "cdp_profiles", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_settings",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("attach_only", sa.Text(), nullable=False),
        sa.Column("quarantine_threshold", sa.Integer(), nullable=False),
        sa.Column("unknown_event_types", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "unknown_event_types IN ('reject', 'keep')", name=op.f("ck_cdp_settings_unknown_event_types")
        ),
        sa.CheckConstraint("quarantine_threshold >= 1", name=op.f("ck_cdp_settings_threshold")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_cdp_settings")),
    )
    op.create_table(
        "cdp_identifiers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("display", sa.String(length=128), nullable=False),
        sa.Column("profile_id", sa.String(length=36), nullable=True),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["cdp_profiles.id"], name=op.f("fk_cdp_identifiers_profile_id_cdp_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdp_identifiers")),
        sa.UniqueConstraint(
            "tenant_id", "namespace", "key", name=op.f("uq_cdp_identifiers_tenant_id_namespace_key")
        ),
    )
    op.create_index(op.f("ix_cdp_identifiers_profile_id"), "cdp_identifiers", ["profile_id"], unique=False)
    op.create_index(op.f("ix_cdp_identifiers_tenant_id"), "cdp_identifiers", ["tenant_id"], unique=False)
    op.create_table(
        "cdp_links",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("a_id", sa.BigInteger(), nullable=False),
        sa.Column("b_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('active', 'removed')", name=op.f("ck_cdp_links_status")),
        sa.CheckConstraint("a_id < b_id", name=op.f("ck_cdp_links_ordered")),
        sa.ForeignKeyConstraint(
            ["a_id"], ["cdp_identifiers.id"], name=op.f("fk_cdp_links_a_id_cdp_identifiers")
        ),
        sa.ForeignKeyConstraint(
            ["b_id"], ["cdp_identifiers.id"], name=op.f("fk_cdp_links_b_id_cdp_identifiers")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_cdp_links")),
        sa.UniqueConstraint("a_id", "b_id", name=op.f("uq_cdp_links_a_id_b_id")),
    )
    op.create_index("ix_cdp_links_b_id", "cdp_links", ["b_id"], unique=False)
    op.create_index(op.f("ix_cdp_links_tenant_id"), "cdp_links", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cdp_links_tenant_id"), table_name="cdp_links")
    op.drop_index("ix_cdp_links_b_id", table_name="cdp_links")
    op.drop_table("cdp_links")
    op.drop_index(op.f("ix_cdp_identifiers_tenant_id"), table_name="cdp_identifiers")
    op.drop_index(op.f("ix_cdp_identifiers_profile_id"), table_name="cdp_identifiers")
    op.drop_table("cdp_identifiers")
    op.drop_table("cdp_settings")
    op.drop_index(op.f("ix_cdp_profiles_tenant_id"), table_name="cdp_profiles")
    op.drop_index(op.f("ix_cdp_profiles_merged_into"), table_name="cdp_profiles")
    op.drop_table("cdp_profiles")
    op.drop_index(op.f("ix_cdp_merge_audit_tenant_id"), table_name="cdp_merge_audit")
    op.drop_index("ix_cdp_merge_audit_tenant_at", table_name="cdp_merge_audit")
    op.drop_index(op.f("ix_cdp_merge_audit_profile_id"), table_name="cdp_merge_audit")
    op.drop_table("cdp_merge_audit")
