"""The ledger domain's behaviour: the only entry other domains may call.

Every function takes the caller's ``session`` (bound to a tenant) as a keyword argument, works
inside the caller's transaction and never commits. Take a *write* session
(``db.session(tenant_id=..., write=True)``, the default; every POST request has one): on SQLite it
holds the write lock from the start. See ``docs/ledger.md`` for how other domains pay rewards.

Accounts
    :func:`get_or_open_account` (idempotent by kind, unit and owner), :func:`find_account`,
    :func:`get_account`, :func:`funding_account`, :func:`list_accounts`, :func:`balances_by_kind`,
    :func:`totals_by_unit`, :func:`statement`.
Transactions
    :func:`post_transaction` (balanced, exactly once per idempotency key), :func:`transfer`
    (two entries), :func:`reverse_transaction`, :func:`get_transaction`, :func:`find_transaction`.
WeChat Pay API v3 helpers (also used by the store's JSAPI payments)
    :class:`WechatPayConfig`, :func:`config_for`, :func:`authorization`, :func:`sign`,
    :func:`verify_signed`, :func:`decrypt_resource`, :class:`InvalidSignature`.
Payouts
    :func:`request_payout`, :func:`create_batch`, :func:`export_batch_csv`, :func:`confirm_batch`,
    :func:`parse_confirmation_csv`, :func:`submit_batch` (= :func:`lines_to_submit`, the
    provider, :func:`record_submission`), :func:`settle_line`, :func:`apply_transfer_notice`,
    :func:`reconciliation`, :func:`pending_summary`, :func:`list_batches`, :func:`get_batch`,
    :func:`list_lines`, and the :class:`PayoutProvider` port with :class:`FinanceExportProvider` (default) and
    :class:`~bcone.ledger.wechatpay.WechatTransferProvider`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bcone.ledger._payouts import (
    FinanceExportProvider,
    PayoutProvider,
    clearing_account,
    confirm_batch,
    create_batch,
    export_batch_csv,
    external_account,
    get_batch,
    lines_by_ids,
    lines_to_submit,
    list_batches,
    list_lines,
    parse_confirmation_csv,
    pending_summary,
    reconciliation,
    record_submission,
    request_payout,
    settle_line,
    submit_batch,
)
from bcone.ledger._posting import (
    balances_by_kind,
    find_account,
    find_transaction,
    get_account,
    get_or_open_account,
    get_transaction,
    list_accounts,
    post_transaction,
    reverse_transaction,
    statement,
    totals_by_unit,
    transfer,
)
from bcone.ledger.errors import InvalidSignature, PayoutLineNotFound
from bcone.ledger.schemas import AccountOut, AccountSpec, PayoutLineOut, Unit
from bcone.ledger.wechatpay import (
    TransferNotice,
    WechatPayConfig,
    authorization,
    config_for,
    decrypt_resource,
    line_id_from_bill_no,
    sign,
    verify_signed,
)


def funding_account(*, session: Session, unit: Unit = "fen") -> AccountOut:
    """The brand's external funding source for ``unit`` (may go negative): budgets are topped
    up from it."""
    spec = AccountSpec(kind="funding", unit=unit, owner_type="tenant", name="Brand funding")
    return get_or_open_account(spec, session=session)


def apply_transfer_notice(notice: TransferNotice, *, session: Session) -> PayoutLineOut | None:
    """Settle the line of a verified WeChat Pay transfer callback; None for a non-final state.

    Delivered twice, it pays once (see :func:`settle_line`).
    """
    outcome = notice.outcome
    line_id = line_id_from_bill_no(notice.out_bill_no)
    if outcome is None:
        if not lines_by_ids([line_id], session=session):
            raise PayoutLineNotFound(f"no payout line {notice.out_bill_no}", field="out_bill_no")
        return None
    return settle_line(
        line_id,
        outcome,
        session=session,
        reason=(notice.fail_reason or notice.state) if outcome == "failed" else "",
        provider_ref=notice.transfer_bill_no,
    )


__all__ = [
    "FinanceExportProvider",
    "InvalidSignature",
    "PayoutProvider",
    "WechatPayConfig",
    "apply_transfer_notice",
    "authorization",
    "balances_by_kind",
    "clearing_account",
    "config_for",
    "confirm_batch",
    "create_batch",
    "decrypt_resource",
    "export_batch_csv",
    "external_account",
    "find_account",
    "find_transaction",
    "funding_account",
    "get_account",
    "get_batch",
    "get_or_open_account",
    "get_transaction",
    "lines_to_submit",
    "list_accounts",
    "list_batches",
    "list_lines",
    "parse_confirmation_csv",
    "pending_summary",
    "post_transaction",
    "reconciliation",
    "record_submission",
    "request_payout",
    "reverse_transaction",
    "settle_line",
    "sign",
    "statement",
    "submit_batch",
    "totals_by_unit",
    "transfer",
    "verify_signed",
]
