"""Schemas of the ledger domain: API input and output, and the contracts other domains receive.

Amounts are signed integers in the account's unit: fen (分) for money, whole points for points.
"""

from __future__ import annotations

from datetime import datetime
from math import ceil
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

AccountKind = Literal[
    "campaign_budget",
    "consumer_wallet",
    "store_wallet",
    "staff_wallet",
    "payouts_clearing",
    "funding",
    "payouts_external",
]
Unit = Literal["fen", "points"]
PayoutProviderName = Literal["finance_export", "wechat_transfer"]
BatchStatus = Literal["open", "submitted", "closed"]
LineStatus = Literal["pending", "batched", "submitted", "paid", "failed"]
LineOutcome = Literal["paid", "failed"]

# Kinds whose balance may go below zero: the brand's external funding source, and the account
# that collects what left the system (it only ever receives).
UNBOUNDED_KINDS: frozenset[str] = frozenset({"funding", "payouts_external"})
# Far above any real amount (10 billion yuan in fen), far below 2**63: sums cannot overflow.
MAX_AMOUNT = 10**12

Key = Annotated[str, Field(min_length=1, max_length=200)]
OwnerText = Annotated[str, Field(max_length=64)]
Amount = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]

_STRICT = ConfigDict(str_strip_whitespace=True, extra="forbid")


class AccountSpec(BaseModel):
    """Which account: ``get_or_open_account`` returns the one with this kind, unit and owner."""

    model_config = _STRICT

    kind: AccountKind
    unit: Unit = "fen"
    owner_type: Annotated[str, Field(min_length=1, max_length=32)]
    owner_id: OwnerText = ""
    name: str = Field(default="", max_length=200)


class AccountOut(BaseModel):
    id: str
    kind: AccountKind
    unit: Unit
    owner_type: str
    owner_id: str
    name: str
    floor: int | None
    balance: int
    entry_count: int
    created_at: datetime


class EntryIn(BaseModel):
    model_config = _STRICT

    account_id: str = Field(min_length=1, max_length=36)
    amount: Amount


class PostingIn(BaseModel):
    """A transaction to post: entries that sum to 0 per unit, under one idempotency key.

    Posting the same key again with the same content returns the first transaction and changes
    nothing; the same key with other content is refused (409 ``idempotency_conflict``).
    """

    model_config = _STRICT

    idempotency_key: Key
    kind: Annotated[str, Field(min_length=1, max_length=64)]
    memo: str = Field(default="", max_length=500)
    reference: str = Field(default="", max_length=200)
    entries: list[EntryIn] = Field(min_length=2, max_length=100)


class EntryOut(BaseModel):
    id: str
    transaction_id: str
    account_id: str
    amount: int
    seq: int
    balance_after: int
    created_at: datetime


class TransactionOut(BaseModel):
    id: str
    idempotency_key: str
    kind: str
    memo: str
    reference: str
    reverses_id: str | None
    created_at: datetime
    entries: list[EntryOut]
    # False when this call found the transaction already posted under its key (a replay).
    created: bool = True


class StatementLine(BaseModel):
    """One entry of an account's statement, with the balance right after it."""

    entry_id: str
    transaction_id: str
    seq: int
    amount: int
    balance_after: int
    kind: str
    memo: str
    reference: str
    created_at: datetime


class Statement(BaseModel):
    account: AccountOut
    items: list[StatementLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


class KindBalance(BaseModel):
    kind: AccountKind
    unit: Unit
    accounts: int
    balance: int


class PayoutRequestIn(BaseModel):
    """Move money from a wallet into payouts clearing, to be paid out by a batch."""

    model_config = _STRICT

    idempotency_key: Key
    account_id: str = Field(min_length=1, max_length=36)
    amount_fen: PositiveAmount
    payee_name: str = Field(default="", max_length=200)
    payee_account: str = Field(default="", max_length=200)


class PayoutLineOut(BaseModel):
    id: str
    idempotency_key: str
    account_id: str
    amount_fen: int
    payee_name: str
    payee_account: str
    status: LineStatus
    batch_id: str | None
    provider_ref: str
    failure_reason: str
    created_at: datetime


class PayoutBatchIn(BaseModel):
    model_config = _STRICT

    provider: PayoutProviderName = "finance_export"


class PayoutBatchOut(BaseModel):
    id: str
    provider: PayoutProviderName
    status: BatchStatus
    line_count: int
    total_fen: int
    created_at: datetime
    closed_at: datetime | None


class PayoutBatchDetail(PayoutBatchOut):
    lines: list[PayoutLineOut]


class LineResult(BaseModel):
    model_config = _STRICT

    line_id: str = Field(min_length=1, max_length=36)
    outcome: LineOutcome
    reason: str = Field(default="", max_length=500)
    provider_ref: str = Field(default="", max_length=100)


class ConfirmationIn(BaseModel):
    """The outcome of some or all lines of a batch (paid or failed)."""

    model_config = _STRICT

    results: list[LineResult] = Field(min_length=1, max_length=10_000)


class SubmitAccepted(BaseModel):
    """A batch's submission to its provider, queued as a background job."""

    batch_id: str
    job_id: str


class Reconciliation(BaseModel):
    """Payouts clearing must hold exactly the money of the lines not yet paid or failed."""

    clearing_balance: int
    open_lines: int
    open_lines_total: int
    balanced: bool
