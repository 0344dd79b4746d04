"""HTTP API of the ledger domain under ``/api/v1/ledger``.

Owners, admins and analysts read accounts, statements and payouts; owners and admins change
them. Another tenant's ids answer 404. The WeChat Pay transfer callback is the one route without
a login: it is accepted only when the platform's signature verifies and its resource decrypts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status
from sqlalchemy.orm import Session

from bcone.core.auth import Principal, Role
from bcone.core.db import run_blocking
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import NotFound
from bcone.core.pagination import Page
from bcone.core.tenancy import bind_tenant
from bcone.ledger import service
from bcone.ledger.errors import InvalidConfirmation, ProviderNotConfigured
from bcone.ledger.jobs import enqueue_submission
from bcone.ledger.schemas import (
    AccountKind,
    AccountOut,
    AccountSpec,
    ConfirmationIn,
    KindBalance,
    LineStatus,
    PayoutBatchDetail,
    PayoutBatchIn,
    PayoutBatchOut,
    PayoutLineOut,
    PayoutRequestIn,
    PostingIn,
    Reconciliation,
    Statement,
    SubmitAccepted,
    TransactionOut,
    Unit,
)
from bcone.ledger.wechatpay import config_for, parse_transfer_notification

router = APIRouter(tags=["ledger"])

Reader = Annotated[Principal, Depends(require_roles(Role.analyst))]
Writer = Annotated[Principal, Depends(require_roles())]
MAX_CONFIRMATION_BYTES = 10 * 1024 * 1024


# --- accounts and transactions ----------------------------------------------------------------


@router.get("/ledger/accounts")
async def list_accounts(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    kind: AccountKind | None = None,
    unit: Unit | None = None,
    owner_type: str | None = None,
    owner_id: str | None = None,
) -> Page[AccountOut]:
    """Accounts, filtered by kind, unit and owner; ``q`` searches name and owner id."""
    return await run_blocking(
        service.list_accounts,
        page,
        session=session,
        kind=kind,
        unit=unit,
        owner_type=owner_type,
        owner_id=owner_id,
    )


@router.post("/ledger/accounts")
def open_account(body: AccountSpec, _: Writer, session: SessionDep) -> AccountOut:
    """The account of this kind, unit and owner, opened if new (idempotent)."""
    return service.get_or_open_account(body, session=session)


@router.get("/ledger/accounts/{account_id}")
async def account_statement(account_id: str, _: Reader, session: SessionDep, page: PageDep) -> Statement:
    """An account with its statement: entries newest first, each with the balance after it."""
    return await run_blocking(service.statement, account_id, page, session=session)


@router.get("/ledger/balances")
async def balances(_: Reader, session: SessionDep) -> list[KindBalance]:
    """Accounts and total balance per kind and unit."""
    return await run_blocking(service.balances_by_kind, session=session)


@router.post("/ledger/transactions", status_code=status.HTTP_201_CREATED)
def post_transaction(body: PostingIn, _: Writer, session: SessionDep, response: Response) -> TransactionOut:
    """Post a balanced transaction (a manual adjustment); 200 with the original on a replay."""
    tx = service.post_transaction(body, session=session)
    if not tx.created:
        response.status_code = status.HTTP_200_OK
    return tx


@router.get("/ledger/transactions/{transaction_id}")
async def get_transaction(transaction_id: str, _: Reader, session: SessionDep) -> TransactionOut:
    return await run_blocking(service.get_transaction, transaction_id, session=session)


@router.post("/ledger/transactions/{transaction_id}/reverse")
def reverse_transaction(transaction_id: str, _: Writer, session: SessionDep) -> TransactionOut:
    """Post the mirror image of a transaction, once."""
    return service.reverse_transaction(transaction_id, session=session)


# --- payouts ----------------------------------------------------------------------------------


@router.post("/ledger/payouts", status_code=status.HTTP_201_CREATED)
def request_payout(body: PayoutRequestIn, _: Writer, session: SessionDep) -> PayoutLineOut:
    """Hold money of a wallet in clearing and open a payout line (idempotent by key)."""
    return service.request_payout(body, session=session)


@router.get("/ledger/payouts")
async def list_payouts(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    status: LineStatus | None = None,
    batch_id: str | None = None,
) -> Page[PayoutLineOut]:
    return await run_blocking(service.list_lines, page, session=session, status=status, batch_id=batch_id)


@router.get("/ledger/payouts/reconciliation")
def reconciliation(_: Reader, session: SessionDep) -> Reconciliation:
    """Clearing balance against the open payout lines."""
    return service.reconciliation(session=session)


@router.get("/ledger/payout-batches")
async def list_batches(_: Reader, session: SessionDep, page: PageDep) -> Page[PayoutBatchOut]:
    return await run_blocking(service.list_batches, page, session=session)


@router.post("/ledger/payout-batches", status_code=status.HTTP_201_CREATED)
def create_batch(_: Writer, session: SessionDep, body: PayoutBatchIn | None = None) -> PayoutBatchDetail:
    """Gather every pending payout line into a new batch (409 when none is pending)."""
    return service.create_batch(session=session, provider=(body or PayoutBatchIn()).provider)


@router.get("/ledger/payout-batches/{batch_id}")
async def get_batch(batch_id: str, _: Reader, session: SessionDep) -> PayoutBatchDetail:
    return await run_blocking(service.get_batch, batch_id, session=session)


@router.get("/ledger/payout-batches/{batch_id}/export.csv")
async def export_batch(batch_id: str, _: Reader, session: SessionDep) -> Response:
    """The batch as CSV for finance (line id, payee, account, amount in yuan, status, reason)."""
    data = await run_blocking(service.export_batch_csv, batch_id, session=session)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="payout-batch-{batch_id}.csv"'},
    )


@router.post("/ledger/payout-batches/{batch_id}/confirm")
def confirm_batch(batch_id: str, body: ConfirmationIn, _: Writer, session: SessionDep) -> PayoutBatchDetail:
    """Record paid / failed lines; all or nothing."""
    return service.confirm_batch(batch_id, body, session=session)


@router.post("/ledger/payout-batches/{batch_id}/confirm-file")
def confirm_batch_file(
    batch_id: str,
    _: Writer,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="the exported CSV with status set to paid or failed")],
) -> PayoutBatchDetail:
    """Confirm from the exported CSV, its ``status`` column filled in by finance."""
    data = file.file.read(MAX_CONFIRMATION_BYTES + 1)
    if len(data) > MAX_CONFIRMATION_BYTES:
        raise InvalidConfirmation("the file is larger than 10 MB", field="file")
    return service.confirm_batch(batch_id, service.parse_confirmation_csv(data), session=session)


@router.post("/ledger/payout-batches/{batch_id}/submit", status_code=status.HTTP_202_ACCEPTED)
def submit_batch(batch_id: str, principal: Writer, session: SessionDep) -> SubmitAccepted:
    """Queue the sending of a WeChat Pay batch's lines as merchant transfers (202 with the job).

    A background job calls WeChat Pay outside any database transaction; follow it at
    ``GET /api/v1/jobs/{job_id}`` and see the lines become ``submitted``.
    """
    if config_for(principal.tenant_id) is None:
        raise ProviderNotConfigured("WeChat Pay is not configured for this tenant", field="provider")
    service.lines_to_submit(batch_id, "wechat_transfer", session=session)
    job_id = enqueue_submission(batch_id, session=session)
    return SubmitAccepted(batch_id=batch_id, job_id=job_id)


# --- WeChat Pay callback ----------------------------------------------------------------------


def _apply_notice(session: Session, tenant_id: str, notice: Any) -> None:
    bind_tenant(session, tenant_id)
    service.apply_transfer_notice(notice, session=session)


@router.post(
    "/ledger/wechatpay/notify/{tenant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def wechatpay_notify(tenant_id: str, request: Request, session: SessionDep) -> Response:
    """WeChat Pay's transfer result callback: verified, decrypted, applied exactly once.

    401 when the signature or the timestamp does not verify, 404 for an unknown tenant or line.
    """
    config = config_for(tenant_id)
    if config is None:
        raise NotFound("no WeChat Pay merchant for this address", field="tenant_id")
    body = await request.body()
    notice = parse_transfer_notification(config, request.headers, body)
    await run_blocking(_apply_notice, session, tenant_id, notice)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
