"""promotions tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promotion_attempts",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("openid", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("store_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("reward_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('granted', 'thanks', 'not_genuine', 'already_rewarded', 'no_campaign', 'budget_exhausted', 'daily_limit', 'consumer_limit', 'rate_limited', 'blocked', 'no_identity')",
            name=op.f("ck_promotion_attempts_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_attempts")),
    )
    op.create_index(
        "ix_promotion_attempts_campaign",
        "promotion_attempts",
        ["tenant_id", "campaign_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_promotion_attempts_tenant_id"), "promotion_attempts", ["tenant_id"], unique=False
    )
    op.create_table(
        "promotion_blocks",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('identity', 'device')", name=op.f("ck_promotion_blocks_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_blocks")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "value", name=op.f("uq_promotion_blocks_tenant_id_kind_value")
        ),
    )
    op.create_index(op.f("ix_promotion_blocks_tenant_id"), "promotion_blocks", ["tenant_id"], unique=False)
    op.create_table(
        "promotion_campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sku_ids", sa.JSON(), nullable=False),
        sa.Column("gtins", sa.JSON(), nullable=False),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prizes", sa.JSON(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("budget_points", sa.BigInteger(), nullable=False),
        sa.Column("daily_fen", sa.BigInteger(), nullable=True),
        sa.Column("daily_points", sa.BigInteger(), nullable=True),
        sa.Column("per_consumer_limit", sa.Integer(), nullable=True),
        sa.Column("per_store_limit", sa.Integer(), nullable=True),
        sa.Column("store_rebate_fen", sa.Integer(), nullable=False),
        sa.Column("rate_limit_scans", sa.Integer(), nullable=True),
        sa.Column("rate_limit_window_s", sa.Integer(), nullable=False),
        sa.Column("funded_fen", sa.BigInteger(), nullable=False),
        sa.Column("funded_points", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'paused', 'ended')", name=op.f("ck_promotion_campaigns_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_campaigns")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_promotion_campaigns_tenant_id_name")),
    )
    op.create_index(
        op.f("ix_promotion_campaigns_tenant_id"), "promotion_campaigns", ["tenant_id"], unique=False
    )
    op.create_table(
        "promotion_counters",
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_counters")),
        sa.UniqueConstraint(
            "tenant_id", "scope", "key", name=op.f("uq_promotion_counters_tenant_id_scope_key")
        ),
    )
    op.create_index(
        op.f("ix_promotion_counters_tenant_id"), "promotion_counters", ["tenant_id"], unique=False
    )
    op.create_table(
        "promotion_rewards",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("openid", sa.String(length=128), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("store_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.Column("rebate_fen", sa.BigInteger(), nullable=False),
        sa.Column("rebate_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "kind IN ('random_red_packet', 'red_packet', 'points', 'coupon', 'thanks')",
            name=op.f("ck_promotion_rewards_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_rewards")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_promotion_rewards_tenant_id_code")),
    )
    op.create_index(
        "ix_promotion_rewards_campaign",
        "promotion_rewards",
        ["tenant_id", "campaign_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_promotion_rewards_tenant_id"), "promotion_rewards", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_promotion_rewards_tenant_id"), table_name="promotion_rewards")
    op.drop_index("ix_promotion_rewards_campaign", table_name="promotion_rewards")
    op.drop_table("promotion_rewards")
    op.drop_index(op.f("ix_promotion_counters_tenant_id"), table_name="promotion_counters")
    op.drop_table("promotion_counters")
    op.drop_index(op.f("ix_promotion_campaigns_tenant_id"), table_name="promotion_campaigns")
    op.drop_table("promotion_campaigns")
    op.drop_index(op.f("ix_promotion_blocks_tenant_id"), table_name="promotion_blocks")
    op.drop_table("promotion_blocks")
    op.drop_index(op.f("ix_promotion_attempts_tenant_id"), table_name="promotion_attempts")
    op.drop_index("ix_promotion_attempts_campaign", table_name="promotion_attempts")
    op.drop_table("promotion_attempts")
