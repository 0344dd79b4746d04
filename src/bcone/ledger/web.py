"""Console pages of the ledger: balances by kind, accounts and statements, payout batches.

Owners, admins and analysts see the pages; owners and admins create batches and upload the
payment results.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError
from bcone.core.money import format_yuan
from bcone.core.pagination import PageParams
from bcone.ledger import service
from bcone.ledger.messages import register as _register_messages
from bcone.ledger.schemas import AccountKind
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import has_message
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.ledger", "/ledger", "inbox", 60))

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(Role.analyst))]
Writer = Annotated[Principal, Depends(require_roles())]
ACCOUNT_RESULTS = "account-results"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _error_key(exc: BconeError) -> str:
    key = f"ledger.error.{exc.code}"
    return key if has_message(key) else "ledger.error"


@router.get("/ledger")
def ledger_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    kind: AccountKind | None = None,
) -> Response:
    """Balances by kind, the accounts (filtered by kind), payout batches and reconciliation."""
    pending_count, pending_total = service.pending_summary(session=session)
    ctx = {
        "kinds": service.balances_by_kind(session=session),
        "result": service.list_accounts(page, session=session, kind=kind),
        "filters": {"kind": kind or ""},
        "batches": service.list_batches(PageParams(page_size=20), session=session).items,
        "pending_count": pending_count,
        "pending_total": pending_total,
        "reconciliation": service.reconciliation(session=session),
        "can_edit": principal.has_role(),
        "results_target": ACCOUNT_RESULTS,
        "format_yuan": format_yuan,
    }
    return render_list(request, "ledger/ledger.html", "ledger/_account_results.html", ctx)


@router.get("/ledger/accounts/{account_id}")
def account_page(
    request: Request, account_id: str, _: ConsolePrincipal, __: Reader, session: SessionDep, page: PageDep
) -> Response:
    """One account's statement, newest entry first."""
    result = service.statement(account_id, page, session=session)
    return render(request, "ledger/account.html", {"statement": result})


@router.post("/ledger/batches")
def create_batch(request: Request, _: ConsolePrincipal, __: Writer, session: SessionDep) -> Response:
    """Gather the pending payouts into a finance-export batch and open it."""
    try:
        batch = service.create_batch(session=session)
    except BconeError as exc:
        response = redirect_to("/ledger")
        flash(request, response, _error_key(exc), kind="error", detail=exc.detail)
        return response
    response = redirect_to(f"/ledger/batches/{batch.id}")
    flash(request, response, "ledger.batch_created", count=str(batch.line_count))
    return response


@router.get("/ledger/batches/{batch_id}")
def batch_page(
    request: Request, batch_id: str, _: ConsolePrincipal, principal: Reader, session: SessionDep
) -> Response:
    """A batch with its lines, the CSV export and the upload of payment results."""
    batch = service.get_batch(batch_id, session=session)
    return render(request, "ledger/batch.html", {"batch": batch, "can_edit": principal.has_role()})


@router.post("/ledger/batches/{batch_id}/confirm")
def confirm_batch(
    request: Request,
    batch_id: str,
    _: ConsolePrincipal,
    __: Writer,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Apply the uploaded payment results; nothing changes when the file has an error."""
    service.get_batch(batch_id, session=session)
    response = redirect_to(f"/ledger/batches/{batch_id}")
    try:
        data = file.file.read(MAX_UPLOAD_BYTES + 1)
        service.confirm_batch(
            batch_id, service.parse_confirmation_csv(data[:MAX_UPLOAD_BYTES]), session=session
        )
    except BconeError as exc:
        flash(request, response, _error_key(exc), kind="error", detail=exc.detail)
        return response
    flash(request, response, "ledger.confirmed")
    return response
