"""codes and promotions fraud flags and wechat identities

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _space_columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    return (
        sa.Column("wechat_appid", sa.String(length=32), nullable=True),
        sa.Column("wechat_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("wechat_scope", sa.String(length=16), nullable=True),
        sa.Column("wechat_open_platform_id", sa.String(length=64), nullable=True),
        sa.Column("nps_survey_url", sa.String(length=500), nullable=True),
    )


def _campaign_columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    return (
        sa.Column("max_scans_per_minute", sa.Integer(), nullable=True),
        sa.Column("max_scans_per_hour", sa.Integer(), nullable=True),
        sa.Column("max_codes_per_device_day", sa.Integer(), nullable=True),
        sa.Column("cluster_min_codes", sa.Integer(), nullable=True),
        sa.Column("cluster_km", sa.Integer(), nullable=True),
    )


def _alert_columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    return (
        sa.Column("group_key", sa.String(length=120), nullable=True),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
    )


def upgrade() -> None:
    for column in _space_columns():
        op.add_column("code_spaces", column)
    for column in _campaign_columns():
        op.add_column("promotion_campaigns", column)
    for column in _alert_columns():
        op.add_column("code_diversion_alerts", column)
    op.add_column("promotion_attempts", sa.Column("reason", sa.String(length=120), nullable=True))
    op.create_index(
        "uq_code_diversion_alerts_open_group",
        "code_diversion_alerts",
        ["tenant_id", "group_key"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "code_consumer_otps",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_consumer_otps")),
    )
    op.create_index(
        "ix_code_consumer_otps_tenant_phone", "code_consumer_otps", ["tenant_id", "phone_hash"], unique=False
    )
    op.create_index(
        op.f("ix_code_consumer_otps_tenant_id"), "code_consumer_otps", ["tenant_id"], unique=False
    )
    op.create_table(
        "promotion_flags",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("identity", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_flags")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "identity",
            "subject",
            name=op.f("uq_promotion_flags_tenant_id_kind_identity_subject"),
        ),
    )
    op.create_index(
        "ix_promotion_flags_tenant_time", "promotion_flags", ["tenant_id", "last_seen_at"], unique=False
    )
    op.create_index(op.f("ix_promotion_flags_tenant_id"), "promotion_flags", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_promotion_flags_tenant_id"), table_name="promotion_flags")
    op.drop_index("ix_promotion_flags_tenant_time", table_name="promotion_flags")
    op.drop_table("promotion_flags")
    op.drop_index(op.f("ix_code_consumer_otps_tenant_id"), table_name="code_consumer_otps")
    op.drop_index("ix_code_consumer_otps_tenant_phone", table_name="code_consumer_otps")
    op.drop_table("code_consumer_otps")
    op.drop_index("uq_code_diversion_alerts_open_group", table_name="code_diversion_alerts")
    with op.batch_alter_table("promotion_attempts") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("code_diversion_alerts") as batch:
        for column in reversed(_alert_columns()):
            batch.drop_column(column.name)
    with op.batch_alter_table("promotion_campaigns") as batch:
        for column in reversed(_campaign_columns()):
            batch.drop_column(column.name)
    with op.batch_alter_table("code_spaces") as batch:
        for column in reversed(_space_columns()):
            batch.drop_column(column.name)
