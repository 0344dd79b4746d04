"""ledger tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("owner_type", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "kind IN ('campaign_budget', 'consumer_wallet', 'store_wallet', 'staff_wallet', 'payouts_clearing', 'funding', 'payouts_external')",
            name=op.f("ck_ledger_accounts_kind"),
        ),
        sa.CheckConstraint("unit IN ('fen', 'points')", name=op.f("ck_ledger_accounts_unit")),
        sa.CheckConstraint(
            "floor IS NULL OR balance >= floor", name=op.f("ck_ledger_accounts_balance_floor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "unit",
            "owner_type",
            "owner_id",
            name=op.f("uq_ledger_accounts_tenant_id_kind_unit_owner_type_owner_id"),
        ),
    )
    op.create_index(op.f("ix_ledger_accounts_tenant_id"), "ledger_accounts", ["tenant_id"], unique=False)
    op.create_table(
        "ledger_payout_batches",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "provider IN ('finance_export', 'wechat_transfer')",
            name=op.f("ck_ledger_payout_batches_provider"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'submitted', 'closed')", name=op.f("ck_ledger_payout_batches_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payout_batches")),
    )
    op.create_index(
        op.f("ix_ledger_payout_batches_tenant_id"), "ledger_payout_batches", ["tenant_id"], unique=False
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reverses_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_transactions_reverses_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_transactions_reverses_id")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_ledger_transactions_tenant_id_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_ledger_transactions_reference"), "ledger_transactions", ["reference"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_transactions_tenant_id"), "ledger_transactions", ["tenant_id"], unique=False
    )
    op.create_table(
        "ledger_entries",
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_entries_account_id_ledger_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("account_id", "seq", name=op.f("uq_ledger_entries_account_id_seq")),
    )
    op.create_index(op.f("ix_ledger_entries_tenant_id"), "ledger_entries", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_ledger_entries_transaction_id"), "ledger_entries", ["transaction_id"], unique=False
    )
    op.create_table(
        "ledger_payout_lines",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("payee_name", sa.String(length=200), nullable=False),
        sa.Column("payee_account", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("request_transaction_id", sa.String(length=36), nullable=False),
        sa.Column("settle_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'batched', 'submitted', 'paid', 'failed')",
            name=op.f("ck_ledger_payout_lines_status"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_ledger_payout_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_payout_lines_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ledger_payout_batches.id"],
            name=op.f("fk_ledger_payout_lines_batch_id_ledger_payout_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["request_transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_payout_lines_request_transaction_id_ledger_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["settle_transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_payout_lines_settle_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payout_lines")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_ledger_payout_lines_tenant_id_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_ledger_payout_lines_account_id"), "ledger_payout_lines", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_payout_lines_batch_id"), "ledger_payout_lines", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_payout_lines_tenant_id"), "ledger_payout_lines", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_ledger_payout_lines_tenant_status", "ledger_payout_lines", ["tenant_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_payout_lines_tenant_status", table_name="ledger_payout_lines")
    op.drop_index(op.f("ix_ledger_payout_lines_tenant_id"), table_name="ledger_payout_lines")
    op.drop_index(op.f("ix_ledger_payout_lines_batch_id"), table_name="ledger_payout_lines")
    op.drop_index(op.f("ix_ledger_payout_lines_account_id"), table_name="ledger_payout_lines")
    op.drop_table("ledger_payout_lines")
    op.drop_index(op.f("ix_ledger_entries_transaction_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_tenant_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_ledger_transactions_tenant_id"), table_name="ledger_transactions")
    op.drop_index(op.f("ix_ledger_transactions_reference"), table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_index(op.f("ix_ledger_payout_batches_tenant_id"), table_name="ledger_payout_batches")
    op.drop_table("ledger_payout_batches")
    op.drop_index(op.f("ix_ledger_accounts_tenant_id"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
