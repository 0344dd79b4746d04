"""Tables of the ledger domain: accounts, balanced transactions and their entries, payouts.

Every balance is a cached sum of its entries, changed only by :mod:`bcone.ledger._posting` with a
conditional ``UPDATE`` (``balance + :delta >= floor``); a check constraint repeats the floor rule
in the database itself, so even a bug elsewhere cannot leave a wallet or a budget below its floor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

ACCOUNT_KINDS = (
    "campaign_budget",
    "consumer_wallet",
    "store_wallet",
    "staff_wallet",
    "payouts_clearing",
    "funding",
    "payouts_external",
)
UNITS = ("fen", "points")
PAYOUT_PROVIDERS = ("finance_export", "wechat_transfer")
BATCH_STATUSES = ("open", "submitted", "closed")
LINE_STATUSES = ("pending", "batched", "submitted", "paid", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class LedgerAccount(IdMixin, TimestampMixin, TenantScoped, Base):
    """One account: a budget, a wallet, a clearing account or the brand's external funding."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "unit", "owner_type", "owner_id"),
        CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind"),
        CheckConstraint(_in("unit", UNITS), name="unit"),
        CheckConstraint("floor IS NULL OR balance >= floor", name="balance_floor"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(8))
    # Who the account belongs to, as opaque strings (e.g. "campaign"/<id>, "profile"/<id>,
    # "organization"/<id>, "tenant"/""): never a foreign key into another domain.
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Lowest allowed balance; NULL = unbounded (the funding account may go negative).
    floor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Number of entries posted so far; each entry takes the next number (statement order).
    entry_count: Mapped[int] = mapped_column(Integer, default=0)


class LedgerTransaction(IdMixin, TenantScoped, Base):
    """A balanced set of entries, posted once per idempotency key."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        # A transaction is reversed at most once.
        UniqueConstraint("reverses_id"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str] = mapped_column(String(200), default="", index=True)
    # sha256 of the canonical content (kind, memo, reference, entries): a replay must match it.
    content_hash: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("ledger_transactions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerEntry(IdMixin, TenantScoped, Base):
    """One signed amount on one account; the entries of a transaction sum to 0 per unit."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("account_id", "seq"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    transaction_id: Mapped[str] = mapped_column(String(36), ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    # Position of the entry on its account (1, 2, ...) and the account's balance right after it.
    seq: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PayoutBatch(IdMixin, TimestampMixin, TenantScoped, Base):
    """Payout lines paid together, through one provider (finance export or WeChat Pay)."""

    __tablename__ = "ledger_payout_batches"
    __table_args__ = (
        CheckConstraint(_in("provider", PAYOUT_PROVIDERS), name="provider"),
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
    )

    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PayoutLine(IdMixin, TimestampMixin, TenantScoped, Base):
    """A payout request: money held in clearing until the provider pays it or it fails."""

    __tablename__ = "ledger_payout_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        CheckConstraint(_in("status", LINE_STATUSES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_ledger_payout_lines_tenant_status", "tenant_id", "status"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(200), default="")
    # Where the money goes: a WeChat openid, a bank account number, ... (provider specific).
    payee_account: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    batch_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("ledger_payout_batches.id"), nullable=True, index=True
    )
    request_transaction_id: Mapped[str] = mapped_column(String(36), ForeignKey("ledger_transactions.id"))
    settle_transaction_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("ledger_transactions.id"), nullable=True
    )
    provider_ref: Mapped[str] = mapped_column(String(100), default="")
    failure_reason: Mapped[str] = mapped_column(String(500), default="")
