"""Payouts: wallet → clearing at request time, batches, providers, settlement, reconciliation.

A payout request moves the money out of the wallet into ``payouts_clearing`` at once (so it cannot
be spent twice) and opens a line. A batch gathers the pending lines and hands them to a provider
(:class:`PayoutProvider`): the finance export (a CSV paid by hand, then confirmed) or WeChat Pay
merchant transfers (confirmed by signed callbacks). Settling a line is exactly-once: the line's
status changes with a conditional UPDATE before its transaction is posted, and the posting's key
is ``payout:<line id>:<outcome>``; paid lines move clearing → ``payouts_external``, failed lines
go back to the wallet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.db import utcnow
from bcone.core.money import fen_to_yuan
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.ledger._posting import find_account, get_account, get_or_open_account, transfer
from bcone.ledger.errors import (
    IdempotencyConflict,
    InvalidConfirmation,
    InvalidPosting,
    PayoutBatchNotFound,
    PayoutLineNotFound,
    PayoutStateConflict,
)
from bcone.ledger.models import PayoutBatch, PayoutLine
from bcone.ledger.schemas import (
    AccountOut,
    AccountSpec,
    ConfirmationIn,
    LineOutcome,
    LineResult,
    PayoutBatchDetail,
    PayoutBatchOut,
    PayoutLineOut,
    PayoutProviderName,
    PayoutRequestIn,
    Reconciliation,
)
from bcone.ledger.wechatpay import SubmitResult

WALLET_KINDS = frozenset({"consumer_wallet", "store_wallet", "staff_wallet"})
OPEN_STATUSES = ("pending", "batched", "submitted")
CSV_COLUMNS = ("line_id", "payee_name", "payee_account", "amount_yuan", "status", "reason")
_CSV_OUTCOMES: dict[str, LineOutcome] = {
    "paid": "paid",
    "failed": "failed",
    "已支付": "paid",
    "失败": "failed",
}


class PayoutProvider(Protocol):
    """Where the money of a batch's lines leaves for the payees."""

    name: str

    def submit(self, lines: list[PayoutLineOut]) -> list[SubmitResult]:
        """Hand the lines over; returns the provider's reference per line (may be empty)."""
        ...


class FinanceExportProvider:
    """The default: finance pays the exported CSV by hand and uploads the outcome."""

    name = "finance_export"

    def submit(self, lines: list[PayoutLineOut]) -> list[SubmitResult]:
        return []  # nothing leaves automatically; the CSV export is the hand-over


CLEARING = AccountSpec(kind="payouts_clearing", unit="fen", owner_type="tenant", name="Payouts clearing")


def clearing_account(*, session: Session) -> AccountOut:
    return get_or_open_account(CLEARING, session=session)


def external_account(*, session: Session) -> AccountOut:
    spec = AccountSpec(kind="payouts_external", unit="fen", owner_type="tenant", name="Paid out")
    return get_or_open_account(spec, session=session)


def line_out(line: PayoutLine) -> PayoutLineOut:
    return PayoutLineOut.model_validate(line, from_attributes=True)


def batch_out(batch: PayoutBatch) -> PayoutBatchOut:
    return PayoutBatchOut.model_validate(batch, from_attributes=True)


def _line_by_key(key: str, session: Session) -> PayoutLine | None:
    return session.scalars(select(PayoutLine).where(PayoutLine.idempotency_key == key)).one_or_none()


def _same_request(line: PayoutLine, body: PayoutRequestIn) -> PayoutLineOut:
    if (line.account_id, line.amount_fen, line.payee_name, line.payee_account) != (
        body.account_id,
        body.amount_fen,
        body.payee_name,
        body.payee_account,
    ):
        raise IdempotencyConflict(
            f"idempotency key {body.idempotency_key!r} was used for another payout request",
            field="idempotency_key",
        )
    return line_out(line)


def request_payout(body: PayoutRequestIn, *, session: Session) -> PayoutLineOut:
    """Hold ``amount_fen`` of a wallet in clearing and open a payout line (once per key)."""
    existing = _line_by_key(body.idempotency_key, session)
    if existing is not None:
        return _same_request(existing, body)
    wallet = get_account(body.account_id, session=session)
    if wallet.kind not in WALLET_KINDS or wallet.unit != "fen":
        raise InvalidPosting("payouts are paid from a money wallet (fen)", field="account_id")
    clearing = clearing_account(session=session)
    try:
        with session.begin_nested():
            tx = transfer(
                session=session,
                idempotency_key=f"payout-request:{body.idempotency_key}",
                from_account_id=wallet.id,
                to_account_id=clearing.id,
                amount=body.amount_fen,
                kind="payout_request",
                memo=body.payee_name,
                reference=body.idempotency_key,
            )
            line = PayoutLine(
                idempotency_key=body.idempotency_key,
                account_id=wallet.id,
                amount_fen=body.amount_fen,
                payee_name=body.payee_name,
                payee_account=body.payee_account,
                status="pending",
                request_transaction_id=tx.id,
            )
            session.add(line)
            session.flush()
    except IntegrityError:
        existing = _line_by_key(body.idempotency_key, session)
        if existing is None:
            raise
        return _same_request(existing, body)
    return line_out(line)


def list_lines(
    params: PageParams, *, session: Session, status: str | None = None, batch_id: str | None = None
) -> Page[PayoutLineOut]:
    stmt = select(PayoutLine)
    if status:
        stmt = stmt.where(PayoutLine.status == status)
    if batch_id:
        stmt = stmt.where(PayoutLine.batch_id == batch_id)
    rows, total = paginate_rows(session, stmt.order_by(PayoutLine.created_at.desc(), PayoutLine.id), params)
    return Page(items=[line_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def create_batch(*, session: Session, provider: PayoutProviderName = "finance_export") -> PayoutBatchDetail:
    """Gather every pending line into a new batch; 409 when there is none.

    Lines are claimed with ``UPDATE … WHERE status = 'pending'``: two batches created at the same
    time never share a line.
    """
    batch = PayoutBatch(provider=provider, status="open", line_count=0, total_fen=0)
    with session.begin_nested():
        session.add(batch)
        session.flush()
        claimed = session.execute(
            update(PayoutLine)
            .where(PayoutLine.status == "pending", PayoutLine.batch_id.is_(None))
            .values(status="batched", batch_id=batch.id, updated_at=utcnow())
            .returning(PayoutLine.id, PayoutLine.amount_fen)
            .execution_options(synchronize_session=False)
        ).all()
        if not claimed:
            raise PayoutStateConflict("there are no pending payout requests", field="lines")
        batch.line_count = len(claimed)
        batch.total_fen = sum(int(amount) for _, amount in claimed)
        session.flush()
    _expire_lines(session)
    return get_batch(batch.id, session=session)


def _expire_lines(session: Session) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, PayoutLine | PayoutBatch):
            session.expire(obj)


def _batch(batch_id: str, session: Session) -> PayoutBatch:
    batch = session.scalars(
        select(PayoutBatch).where(PayoutBatch.id == batch_id).execution_options(populate_existing=True)
    ).one_or_none()
    if batch is None:
        raise PayoutBatchNotFound(f"no payout batch {batch_id}", field="batch_id")
    return batch


def _batch_lines(batch_id: str, session: Session) -> list[PayoutLine]:
    return list(
        session.scalars(
            select(PayoutLine)
            .where(PayoutLine.batch_id == batch_id)
            .order_by(PayoutLine.created_at, PayoutLine.id)
            .execution_options(populate_existing=True)
        )
    )


def get_batch(batch_id: str, *, session: Session) -> PayoutBatchDetail:
    batch = _batch(batch_id, session)
    lines = [line_out(line) for line in _batch_lines(batch_id, session)]
    return PayoutBatchDetail(**batch_out(batch).model_dump(), lines=lines)


def list_batches(params: PageParams, *, session: Session, status: str | None = None) -> Page[PayoutBatchOut]:
    stmt = select(PayoutBatch)
    if status:
        stmt = stmt.where(PayoutBatch.status == status)
    rows, total = paginate_rows(session, stmt.order_by(PayoutBatch.created_at.desc(), PayoutBatch.id), params)
    return Page(items=[batch_out(b) for b in rows], total=total, page=params.page, page_size=params.page_size)


def _cell(text: str) -> str:
    """A text cell that a spreadsheet program shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_batch_csv(batch_id: str, *, session: Session) -> bytes:
    """The batch as CSV for finance (UTF-8 with BOM, so spreadsheet programs read the Chinese).

    One row per line: line id, payee, payee account, amount in yuan, status and failure reason.
    Finance fills ``status`` with ``paid`` or ``failed`` and uploads the file back to confirm.
    """
    _batch(batch_id, session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in _batch_lines(batch_id, session):
        writer.writerow(
            (
                line.id,
                _cell(line.payee_name),
                _cell(line.payee_account),
                f"{fen_to_yuan(line.amount_fen):.2f}",
                line.status,
                _cell(line.failure_reason),
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def settle_line(
    line_id: str, outcome: LineOutcome, *, session: Session, reason: str = "", provider_ref: str = ""
) -> PayoutLineOut:
    """Close one line as paid or failed, exactly once.

    The same outcome again changes nothing (a callback delivered twice); the other outcome for a
    closed line is refused with 409 ``payout_state_conflict``.
    """
    with session.begin_nested():
        changed = session.execute(
            update(PayoutLine)
            .where(PayoutLine.id == line_id, PayoutLine.status.in_(("batched", "submitted")))
            .values(
                status=outcome,
                failure_reason=reason if outcome == "failed" else "",
                updated_at=utcnow(),
            )
            .returning(PayoutLine.account_id, PayoutLine.amount_fen, PayoutLine.provider_ref)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if changed is None:
            line = session.scalars(
                select(PayoutLine).where(PayoutLine.id == line_id).execution_options(populate_existing=True)
            ).one_or_none()
            if line is None:
                raise PayoutLineNotFound(f"no payout line {line_id}", field="line_id")
            if line.status == outcome:
                return line_out(line)
            raise PayoutStateConflict(
                f"payout line {line_id} is {line.status}, it cannot become {outcome}", field="line_id"
            )
        wallet_id, amount, old_ref = changed
        clearing = clearing_account(session=session)
        target = external_account(session=session).id if outcome == "paid" else wallet_id
        tx = transfer(
            session=session,
            idempotency_key=f"payout:{line_id}:{outcome}",
            from_account_id=clearing.id,
            to_account_id=target,
            amount=int(amount),
            kind="payout_paid" if outcome == "paid" else "payout_failed",
            memo=reason,
            reference=line_id,
        )
        session.execute(
            update(PayoutLine)
            .where(PayoutLine.id == line_id)
            .values(settle_transaction_id=tx.id, provider_ref=provider_ref or old_ref)
            .execution_options(synchronize_session=False)
        )
    _expire_lines(session)
    line = session.scalars(select(PayoutLine).where(PayoutLine.id == line_id)).one()
    if line.batch_id:
        _close_if_done(line.batch_id, session)
    return line_out(line)


def _close_if_done(batch_id: str, session: Session) -> None:
    open_lines = session.scalar(
        select(func.count())
        .select_from(PayoutLine)
        .where(PayoutLine.batch_id == batch_id, PayoutLine.status.in_(OPEN_STATUSES))
    )
    if not open_lines:
        session.execute(
            update(PayoutBatch)
            .where(PayoutBatch.id == batch_id, PayoutBatch.status != "closed")
            .values(status="closed", closed_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        _expire_lines(session)


def confirm_batch(batch_id: str, body: ConfirmationIn, *, session: Session) -> PayoutBatchDetail:
    """Record paid / failed for lines of a batch; all or nothing. Closes the batch when no line
    is left open. Confirming a line again with the same outcome changes nothing."""
    _batch(batch_id, session)
    ids = {line.id for line in _batch_lines(batch_id, session)}
    seen: set[str] = set()
    for i, result in enumerate(body.results):
        if result.line_id not in ids:
            raise InvalidConfirmation(
                f"line {result.line_id} is not in batch {batch_id}", field=f"results.{i}.line_id"
            )
        if result.line_id in seen:
            raise InvalidConfirmation(f"line {result.line_id} is given twice", field=f"results.{i}.line_id")
        seen.add(result.line_id)
    with session.begin_nested():
        for result in body.results:
            settle_line(
                result.line_id,
                result.outcome,
                session=session,
                reason=result.reason,
                provider_ref=result.provider_ref,
            )
    return get_batch(batch_id, session=session)


def parse_confirmation_csv(data: bytes) -> ConfirmationIn:
    """Read a confirmation file: the exported CSV with ``status`` set to paid or failed.

    Needs the columns ``line_id`` and ``status``; ``reason`` is optional. Rows whose status is
    still open (pending, batched, submitted) are skipped. Errors name the row.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError:
            raise InvalidConfirmation("the file is neither UTF-8 nor GBK text", field="file") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip() for f in reader.fieldnames or ()}
    missing = {"line_id", "status"} - fields
    if missing:
        raise InvalidConfirmation(f"missing column(s): {', '.join(sorted(missing))}", field="file")
    results: list[LineResult] = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        status = row.get("status", "").lower()
        if status in OPEN_STATUSES or (not status and not row.get("line_id")):
            continue
        outcome = _CSV_OUTCOMES.get(status)
        if outcome is None:
            raise InvalidConfirmation(
                f"row {number}: status must be paid or failed, not {status!r}", field="status", row=number
            )
        if not row.get("line_id"):
            raise InvalidConfirmation(f"row {number}: line_id is empty", field="line_id", row=number)
        results.append(
            LineResult(line_id=row["line_id"], outcome=outcome, reason=row.get("reason", "")[:500])
        )
    if not results:
        raise InvalidConfirmation("no row says paid or failed", field="file")
    return ConfirmationIn(results=results)


def lines_to_submit(batch_id: str, provider_name: str, *, session: Session) -> list[PayoutLineOut]:
    """The lines of an open batch still to hand to its provider (409 when the batch is not open
    or is for another provider)."""
    batch = _batch(batch_id, session)
    if batch.provider != provider_name:
        raise PayoutStateConflict(
            f"batch {batch_id} is for {batch.provider}, not {provider_name}", field="provider"
        )
    if batch.status != "open":
        raise PayoutStateConflict(f"batch {batch_id} is {batch.status}", field="batch_id")
    return [line_out(line) for line in _batch_lines(batch_id, session) if line.status == "batched"]


def record_submission(
    batch_id: str, results: Sequence[SubmitResult], *, session: Session
) -> PayoutBatchDetail:
    """Mark the lines the provider accepted as ``submitted`` (with its reference); the batch
    becomes ``submitted`` once every line was handed over."""
    for result in results:
        session.execute(
            update(PayoutLine)
            .where(PayoutLine.id == result.line_id, PayoutLine.status == "batched")
            .values(status="submitted", provider_ref=result.provider_ref, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    left = session.scalar(
        select(func.count())
        .select_from(PayoutLine)
        .where(PayoutLine.batch_id == batch_id, PayoutLine.status == "batched")
    )
    if not left:
        session.execute(
            update(PayoutBatch)
            .where(PayoutBatch.id == batch_id, PayoutBatch.status == "open")
            .values(status="submitted", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    _expire_lines(session)
    return get_batch(batch_id, session=session)


def submit_batch(batch_id: str, provider: PayoutProvider, *, session: Session) -> PayoutBatchDetail:
    """Hand an open batch's lines to ``provider`` within the caller's unit of work.

    The provider's calls run while the caller's transaction is open; the API therefore runs
    :func:`lines_to_submit`, the provider and :func:`record_submission` in a background job, each
    database step in its own short unit of work. Providers must be idempotent per line (WeChat
    Pay dedupes by ``out_bill_no`` = line id), so a retried submission never pays twice.
    """
    lines = lines_to_submit(batch_id, provider.name, session=session)
    return record_submission(batch_id, provider.submit(lines), session=session)


def reconciliation(*, session: Session) -> Reconciliation:
    """Clearing's balance against the lines still open: they must be equal."""
    clearing = find_account(CLEARING, session=session)
    balance = clearing.balance if clearing is not None else 0
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PayoutLine.amount_fen), 0)).where(
            PayoutLine.status.in_(OPEN_STATUSES)
        )
    ).one()
    return Reconciliation(
        clearing_balance=balance,
        open_lines=int(count),
        open_lines_total=int(total),
        balanced=balance == int(total),
    )


def pending_summary(*, session: Session) -> tuple[int, int]:
    """Number and total (fen) of the payout requests not yet in a batch."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PayoutLine.amount_fen), 0)).where(
            PayoutLine.status == "pending"
        )
    ).one()
    return int(count), int(total)


def lines_by_ids(ids: Sequence[str], *, session: Session) -> list[PayoutLineOut]:
    rows = session.scalars(select(PayoutLine).where(PayoutLine.id.in_(list(ids))))
    return [line_out(r) for r in rows]
