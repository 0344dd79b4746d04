"""codes tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_batches",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("production_date", sa.Date(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("range_start", sa.BigInteger(), nullable=False),
        sa.Column("range_end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("level IN ('unit', 'case', 'pallet')", name=op.f("ck_code_batches_level")),
        sa.CheckConstraint("status IN ('active', 'voided')", name=op.f("ck_code_batches_status")),
        sa.CheckConstraint(
            "range_end > range_start AND range_start >= 0", name=op.f("ck_code_batches_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_batches")),
        sa.UniqueConstraint("tenant_id", "range_start", name=op.f("uq_code_batches_tenant_id_range_start")),
    )
    op.create_index("ix_code_batches_gtin", "code_batches", ["gtin"], unique=False)
    op.create_index(op.f("ix_code_batches_sku_id"), "code_batches", ["sku_id"], unique=False)
    op.create_index(op.f("ix_code_batches_tenant_id"), "code_batches", ["tenant_id"], unique=False)
    op.create_table(
        "code_keys",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_keys")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_code_keys_tenant_id_version")),
    )
    op.create_index(op.f("ix_code_keys_tenant_id"), "code_keys", ["tenant_id"], unique=False)
    op.create_table(
        "code_spaces",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("next_counter", sa.BigInteger(), nullable=False),
        sa.Column("current_key_version", sa.Integer(), nullable=False),
        sa.Column("resolver_host", sa.String(length=253), nullable=True),
        sa.Column("warn_threshold", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("next_counter >= 0", name=op.f("ck_code_spaces_next_counter_not_negative")),
        sa.CheckConstraint("warn_threshold >= 1", name=op.f("ck_code_spaces_warn_threshold_positive")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_code_spaces")),
    )
    op.create_table(
        "code_checks",
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["code_batches.id"], name=op.f("fk_code_checks_batch_id_code_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_checks")),
    )
    op.create_index(op.f("ix_code_checks_tenant_id"), "code_checks", ["tenant_id"], unique=False)
    op.create_index("ix_code_checks_tenant_serial", "code_checks", ["tenant_id", "serial"], unique=False)
    op.create_table(
        "code_states",
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("first_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_region", sa.String(length=6), nullable=True),
        sa.Column("first_lat", sa.Float(), nullable=True),
        sa.Column("first_lng", sa.Float(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["code_batches.id"], name=op.f("fk_code_states_batch_id_code_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_states")),
        sa.UniqueConstraint("tenant_id", "serial", name=op.f("uq_code_states_tenant_id_serial")),
    )
    op.create_index(op.f("ix_code_states_batch_id"), "code_states", ["batch_id"], unique=False)
    op.create_index(op.f("ix_code_states_tenant_id"), "code_states", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_code_states_tenant_id"), table_name="code_states")
    op.drop_index(op.f("ix_code_states_batch_id"), table_name="code_states")
    op.drop_table("code_states")
    op.drop_index("ix_code_checks_tenant_serial", table_name="code_checks")
    op.drop_index(op.f("ix_code_checks_tenant_id"), table_name="code_checks")
    op.drop_table("code_checks")
    op.drop_table("code_spaces")
    op.drop_index(op.f("ix_code_keys_tenant_id"), table_name="code_keys")
    op.drop_table("code_keys")
    op.drop_index(op.f("ix_code_batches_tenant_id"), table_name="code_batches")
    op.drop_index(op.f("ix_code_batches_sku_id"), table_name="code_batches")
    op.drop_index("ix_code_batches_gtin", table_name="code_batches")
    op.drop_table("code_batches")
