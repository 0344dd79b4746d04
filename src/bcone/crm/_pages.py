"""Console pages for tiers and growth tasks, leads, bonus statements and field visits, and the
edit forms of accounts and opportunities (iron triangle, contributions, assessments, comments,
tasks, back-office requests, cancellation). Included by :mod:`bcone.crm.web`.

Scope follows the roles: a sales rep sees their own accounts, leads, tasks, statement and visits;
a sales manager the team's; owners and admins everything. A form that fails comes back to its
page with the field and the reason (a flash message); nothing is half-written.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError as PydanticValidationError

from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError, Forbidden, NotFound, ValidationFailed
from bcone.core.ids import new_id
from bcone.core.imports import ImportMode
from bcone.core.money import fen_to_yuan, yuan_to_fen
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.crm.schemas import (
    AccountIn,
    AccountUpdate,
    ActivityIn,
    AssessmentIn,
    BackOfficeRequestIn,
    BackOfficeRequestUpdate,
    CheckInIn,
    ContactIn,
    ContributionIn,
    GrowthTaskClose,
    LeadConvert,
    LeadIn,
    LeadQualify,
    OpportunityIn,
    OpportunityUpdate,
    ScorecardTemplateIn,
    ScorecardTemplateOut,
    StoreAuditIn,
    TeamMemberIn,
    VisitOrderIn,
    VisitPlanIn,
)
from bcone.iam import service as iam
from bcone.web.deps import ConsolePrincipal
from bcone.web.forms import read_upload
from bcone.web.templating import flash, redirect_to, render, render_list

router = APIRouter(include_in_schema=False)

Seller = Annotated[Principal, Depends(require_roles(Role.sales_rep, Role.sales_manager))]
# The scorecard is read by every brand role and changed by owners and admins only.
ScorecardReader = Annotated[
    Principal,
    Depends(require_roles(Role.sales_rep, Role.sales_manager, Role.analyst, Role.marketer)),
]
ScorecardEditor = Annotated[Principal, Depends(require_roles())]
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormData = Annotated[dict[str, str], Depends(_form)]


def _v(principal: Principal) -> service.Viewer:
    return service.Viewer.of(principal)


def _is_manager(principal: Principal) -> bool:
    return principal.has_role(Role.sales_manager)


def _users(session: Any) -> dict[str, str]:
    """Display names of the tenant's users, for pickers and tables."""
    out: dict[str, str] = {}
    page = 1
    while True:
        chunk = iam.list_users(session=session, params=PageParams(page=page, page_size=200))
        out.update({u.id: u.display_name or u.email for u in chunk.items})
        if page >= chunk.pages:
            return out
        page += 1


def _sellers(session: Any, principal: Principal) -> dict[str, str]:
    """The users the caller may pick as owner or rep: everyone in scope (names by id)."""
    names = _users(session)
    scope = service.visible_owner_ids(session, _v(principal))
    if scope is None:
        return names
    return {uid: names.get(uid, uid) for uid in scope}


def _fail(request: Request, url: str, exc: Exception) -> Response:
    """Back to ``url`` with the field and reason of what went wrong."""
    if isinstance(exc, PydanticValidationError):
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ())) or "form"
        detail = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    elif isinstance(exc, BconeError):
        field, detail = exc.field or "form", exc.detail
    else:
        raise exc
    response = redirect_to(url)
    flash(request, response, "crm.form_error", kind="error", field=field, detail=detail)
    return response


def _done(request: Request, url: str, key: str, **params: str) -> Response:
    response = redirect_to(url)
    flash(request, response, key, kind="success", **params)
    return response


def _fen(value: str | None, field: str) -> int:
    text = (value or "").strip().replace(",", "")
    if not text:
        return 0
    try:
        fen = yuan_to_fen(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from None
    if fen < 0:
        raise ValidationFailed("an amount is not negative", field=field)
    return fen


def _opt(value: str | None) -> str | None:
    return (value or "").strip() or None


# --- accounts and tiers --------------------------------------------------------------------------


@router.get("/crm/accounts")
def accounts_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    tier: str = "",
) -> Response:
    """Accounts in the caller's scope with their tier and score; search, tier filter, tiering."""
    owners = service.visible_owner_ids(session, _v(principal))
    tier_filter = tier if tier in ("A", "B", "C") else None
    result = service.list_accounts(page, session=session, tier=tier_filter, owner_user_ids=owners)
    ctx = {
        "result": result,
        "filters": {"tier": tier_filter or ""},
        "filtered": bool(page.q or tier_filter),
        "users": _users(session),
        "model": service.current_tier_model(session=session),
        "growth": service.growth_summary(session=session, viewer=_v(principal)),
        "can_run": _is_manager(principal),
        "results_target": "account-results",
    }
    return render_list(request, "crm/accounts.html", "crm/_account_results.html", ctx)


@router.post("/crm/tiers/run")
def run_tiering(request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep) -> Response:
    """Tier every account now and generate the period's growth tasks (managers, owners, admins)."""
    if not _is_manager(principal):
        raise Forbidden("only managers run the tiering", field="role")
    out = service.run_tiering(session=session, viewer=_v(principal))
    return _done(
        request, "/crm/accounts", "crm.tiers.ran", changed=str(out.changed), tasks=str(out.tasks_created)
    )


def _account_form(
    request: Request,
    session: Any,
    principal: Principal,
    account: Any,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    contact_form: dict[str, str] | None = None,
    contact_errors: dict[str, str] | None = None,
) -> Response:
    ctx: dict[str, Any] = {
        "account": account,
        "form": form
        or (
            {}
            if account is None
            else {k: ("" if v is None else str(v)) for k, v in account.model_dump().items()}
        ),
        "errors": errors or {},
        "owners": _sellers(session, principal),
        "history": service.tier_history(account.id, session=session) if account else [],
        "tasks": service.list_growth_tasks(
            PageParams(page_size=50), session=session, viewer=_v(principal), account_id=account.id
        ).items
        if account
        else [],
        "contacts": service.list_contacts(account.id, session=session) if account else [],
        "relmap": service.relationship_map(account.id, session=session) if account else [],
        "contact_options": [
            (c.id, c.name) for c in (service.list_contacts(account.id, session=session) if account else [])
        ],
        "contact_form": contact_form or {},
        "contact_errors": contact_errors or {},
        "users": _users(session),
    }
    return render(request, "crm/account_form.html", ctx, status_code=status_code)


def _check_account_scope(session: Any, principal: Principal, owner: str | None) -> None:
    owners = service.visible_owner_ids(session, _v(principal))
    if owners is not None and owner not in owners:
        raise NotFound("no such account", field="account_id")


@router.get("/crm/accounts/new")
def new_account_page(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    return _account_form(
        request,
        session,
        principal,
        None,
        form={"owner_user_id": principal.user_id or "", "potential": "50", "strategic_fit": "50"},
    )


def _account_errors(exc: Exception) -> dict[str, str]:
    if isinstance(exc, PydanticValidationError):
        return {str(e["loc"][0]) if e.get("loc") else "form": str(e["msg"]) for e in exc.errors()}
    if isinstance(exc, BconeError):
        return {exc.field or "form": exc.detail}
    raise exc


@router.post("/crm/accounts/new")
def create_account(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    owner = _opt(form.get("owner_user_id")) or principal.user_id
    try:
        if principal.has_role(Role.sales_rep) and not _is_manager(principal) and owner != principal.user_id:
            raise Forbidden("a sales rep adds accounts for themselves", field="owner_user_id")
        data = AccountIn(
            name=form.get("name", ""),
            industry=form.get("industry", ""),
            owner_user_id=owner,
            potential=form.get("potential") or 50,
            strategic_fit=form.get("strategic_fit") or 50,
            notes=form.get("notes", ""),
        )
        out = service.create_account(data, session=session)
    except (BconeError, PydanticValidationError) as exc:
        return _account_form(request, session, principal, None, 422, form, _account_errors(exc))
    return _done(request, f"/crm/accounts/{out.id}", "crm.saved", name=out.name)


@router.get("/crm/accounts/{account_id}")
def account_page(
    request: Request, account_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    """An account: its edit form (tiering criteria, owner, tier by hand), tier history, growth
    tasks and contacts."""
    account = service.get_account(account_id, session=session)
    _check_account_scope(session, principal, account.owner_user_id)
    return _account_form(request, session, principal, account)


@router.post("/crm/accounts/{account_id}")
def save_account(
    request: Request,
    account_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    account = service.get_account(account_id, session=session)
    _check_account_scope(session, principal, account.owner_user_id)
    try:
        values: dict[str, Any] = {
            "name": form.get("name", ""),
            "industry": form.get("industry", ""),
            "potential": form.get("potential") or None,
            "strategic_fit": form.get("strategic_fit") or None,
            "notes": form.get("notes", ""),
        }
        if _is_manager(principal):
            values["owner_user_id"] = _opt(form.get("owner_user_id"))
            values["tier"] = _opt(form.get("tier"))
        out = service.update_account(
            account_id, AccountUpdate.model_validate(values), session=session, changed_by=principal.user_id
        )
    except (BconeError, PydanticValidationError) as exc:
        return _account_form(request, session, principal, account, 422, form, _account_errors(exc))
    return _done(request, f"/crm/accounts/{out.id}", "crm.saved", name=out.name)


@router.post("/crm/accounts/{account_id}/contacts")
def add_contact(
    request: Request,
    account_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    """Add a contact to the account's relationship map."""
    account = service.get_account(account_id, session=session)
    _check_account_scope(session, principal, account.owner_user_id)
    try:
        data = ContactIn.model_validate(
            {
                "name": form.get("contact_name", ""),
                "title": form.get("contact_title", ""),
                "phone": form.get("contact_phone", ""),
                "email": form.get("contact_email", ""),
                "decision_role": form.get("decision_role", ""),
                "reports_to_contact_id": _opt(form.get("reports_to_contact_id")),
                "attitude": form.get("attitude") or "unknown",
                "relationship_strength": form.get("relationship_strength") or 0,
                "owner_user_id": _opt(form.get("contact_owner_user_id")),
            }
        )
        out = service.add_contact(account_id, data, session=session)
    except (BconeError, PydanticValidationError) as exc:
        names = {"name": "contact_name", "title": "contact_title", "phone": "contact_phone"}
        names |= {"email": "contact_email", "owner_user_id": "contact_owner_user_id"}
        errors = {names.get(k, k): v for k, v in _account_errors(exc).items()}
        return _account_form(
            request, session, principal, account, 422, contact_form=form, contact_errors=errors
        )
    return _done(request, f"/crm/accounts/{account_id}#relationship-map", "crm.saved", name=out.name)


# --- growth tasks --------------------------------------------------------------------------------


@router.get("/crm/growth")
def growth_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    status: str = "open",
) -> Response:
    """Growth tasks by due date: close each with its outcome (the closed loop)."""
    status_filter = status if status in ("open", "done", "cancelled") else None
    result = service.list_growth_tasks(page, session=session, viewer=_v(principal), status=status_filter)
    names = _account_names(session, [t.account_id for t in result.items])
    ctx = {
        "result": result,
        "accounts": names,
        "users": _users(session),
        "filters": {"status": status_filter or ""},
        "filtered": bool(page.q) or status_filter != "open",
        "summary": service.growth_summary(session=session, viewer=_v(principal)),
        "today": date.today(),
        "results_target": "growth-results",
    }
    return render_list(request, "crm/growth.html", "crm/_growth_results.html", ctx)


def _account_names(session: Any, ids: list[str]) -> dict[str, str]:
    out = {}
    for account_id in set(ids):
        try:
            out[account_id] = service.get_account(account_id, session=session).name
        except NotFound:
            out[account_id] = account_id
    return out


@router.post("/crm/growth/{task_id}/close")
def close_growth_task(
    request: Request,
    task_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    back = request.headers.get("referer") or "/crm/growth"
    try:
        status = form.get("status", "")
        data = GrowthTaskClose.model_validate(
            {
                "status": status,
                "outcome": _opt(form.get("outcome")) if status == "done" else None,
                "outcome_note": form.get("outcome_note", ""),
                "growth_fen": _fen(form.get("growth_yuan"), "growth_fen"),
            }
        )
        service.close_growth_task(task_id, data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, back, exc)
    return _done(request, back, "crm.growth.closed")


# --- leads ---------------------------------------------------------------------------------------


@router.get("/crm/leads")
def leads_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    status: str = "",
) -> Response:
    """Leads in scope: capture, import, qualify, convert."""
    status_filter = status if status in ("new", "qualified", "disqualified", "converted") else None
    result = service.list_leads(page, session=session, viewer=_v(principal), status=status_filter)
    ctx = {
        "result": result,
        "users": _users(session),
        "filters": {"status": status_filter or ""},
        "filtered": bool(page.q or status_filter),
        "default_close": (date.today() + timedelta(days=60)).isoformat(),
        "results_target": "lead-results",
        "report": None,
    }
    return render_list(request, "crm/leads.html", "crm/_lead_results.html", ctx)


@router.post("/crm/leads/new")
def create_lead(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    try:
        referrer = _opt(form.get("referrer_user_id"))
        data = LeadIn(
            company=form.get("company", ""),
            contact_name=form.get("contact_name", ""),
            phone=form.get("phone", ""),
            email=form.get("email", ""),
            need=form.get("need", ""),
            source="referral" if referrer or form.get("referrer_name") else "form",
            referrer_user_id=referrer,
            referrer_name=form.get("referrer_name", ""),
            estimated_fen=_fen(form.get("estimated_yuan"), "estimated_fen"),
        )
        out = service.create_lead(data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, "/crm/leads", exc)
    return _done(request, "/crm/leads", "crm.saved", name=out.company)


@router.post("/crm/leads/import")
def import_leads(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import a CSV/XLSX of leads: good rows are written, bad rows listed with their column."""
    try:
        report = service.import_leads(
            read_upload(file),
            file.filename or "upload",
            session=session,
            viewer=_v(principal),
            mode=ImportMode.valid_rows,
        )
    except BconeError as exc:
        return _fail(request, "/crm/leads", exc)
    result = service.list_leads(PageParams(), session=session, viewer=_v(principal))
    ctx = {
        "result": result,
        "users": _users(session),
        "filters": {"status": ""},
        "filtered": False,
        "default_close": (date.today() + timedelta(days=60)).isoformat(),
        "results_target": "lead-results",
        "report": report,
    }
    return render(request, "crm/leads.html", ctx, status_code=200 if not report.failed else 422)


@router.post("/crm/leads/{lead_id}/qualify")
def qualify_lead(
    request: Request,
    lead_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    try:
        data = LeadQualify(qualified=form.get("qualified") == "1", note=form.get("note", ""))
        service.qualify_lead(lead_id, data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, "/crm/leads", exc)
    return _done(request, "/crm/leads", "crm.leads.qualified")


@router.post("/crm/leads/{lead_id}/convert")
def convert_lead(
    request: Request,
    lead_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    try:
        data = LeadConvert.model_validate({"close_date": form.get("close_date", "")})
        out = service.convert_lead(lead_id, data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, "/crm/leads", exc)
    return _done(request, f"/crm/opportunities/{out.opportunity_id}", "crm.leads.converted")


# --- opportunities: create and edit --------------------------------------------------------------


@router.get("/crm/opportunities/new")
def new_opportunity_page(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep, account_id: str = ""
) -> Response:
    owners = service.visible_owner_ids(session, _v(principal))
    accounts = service.list_accounts(PageParams(page_size=200), session=session, owner_user_ids=owners).items
    ctx = {
        "account_options": [(a.id, a.name) for a in accounts],
        "owners": _sellers(session, principal),
        "form": {
            "account_id": account_id,
            "owner_user_id": principal.user_id or "",
            "close_date": (date.today() + timedelta(days=60)).isoformat(),
            "grade": "normal",
        },
        "errors": {},
    }
    return render(request, "crm/opportunity_new.html", ctx)


@router.post("/crm/opportunities/new")
def create_opportunity(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    try:
        data = OpportunityIn.model_validate(
            {
                "account_id": form.get("account_id", ""),
                "name": form.get("name", ""),
                "owner_user_id": _opt(form.get("owner_user_id")),
                "amount_fen": _fen(form.get("amount_yuan"), "amount_fen"),
                "close_date": form.get("close_date", ""),
                "grade": form.get("grade") or "normal",
                "forecast_category": form.get("forecast_category") or "pipeline",
                "own_estimate": _opt(form.get("own_estimate")),
            }
        )
        out = service.create_opportunity(data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        owners = service.visible_owner_ids(session, _v(principal))
        accounts = service.list_accounts(
            PageParams(page_size=200), session=session, owner_user_ids=owners
        ).items
        errors = _account_errors(exc)
        if "amount_fen" in errors:
            errors["amount_yuan"] = errors.pop("amount_fen")
        ctx = {
            "account_options": [(a.id, a.name) for a in accounts],
            "owners": _sellers(session, principal),
            "form": form,
            "errors": errors,
        }
        return render(request, "crm/opportunity_new.html", ctx, status_code=422)
    return _done(request, f"/crm/opportunities/{out.id}", "crm.saved", name=out.name)


def _opp_url(opp_id: str) -> str:
    return f"/crm/opportunities/{opp_id}"


@router.post("/crm/opportunities/{opp_id}/edit")
def edit_opportunity(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    try:
        values: dict[str, Any] = {
            "name": form.get("name", ""),
            "amount_fen": _fen(form.get("amount_yuan"), "amount_fen"),
            "close_date": form.get("close_date", ""),
            "grade": form.get("grade", ""),
            "own_estimate": _opt(form.get("own_estimate")),
        }
        if form.get("forecast_category"):
            values["forecast_category"] = form["forecast_category"]
        service.update_opportunity(
            opp_id, OpportunityUpdate.model_validate(values), session=session, viewer=_v(principal)
        )
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, _opp_url(opp_id), exc)
    return _done(request, _opp_url(opp_id), "crm.saved", name=values["name"])


def _on_opportunity(
    request: Request, opp_id: str, done_key: str, action: Callable[[], object], *, anchor: str = ""
) -> Response:
    """Run one of the opportunity page's forms: back to the page with its outcome flashed."""
    try:
        action()
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, _opp_url(opp_id) + anchor, exc)
    return _done(request, _opp_url(opp_id), done_key)


def _fields(form: Mapping[str, str], *names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The named form fields ("" when absent); ``optional`` ones become None when blank."""
    values: dict[str, Any] = {name: form.get(name, "") for name in names}
    values.update({name: _opt(form.get(name)) for name in optional})
    return values


@router.post("/crm/opportunities/{opp_id}/team")
def add_team_member(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.team.added",
        lambda: service.add_team_member(
            opp_id,
            TeamMemberIn.model_validate(_fields(form, "user_id", "role", "note")),
            session=session,
            viewer=_v(principal),
        ),
    )


@router.post("/crm/opportunities/{opp_id}/team/{member_id}/remove")
def remove_team_member(
    request: Request, opp_id: str, member_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.team.removed",
        lambda: service.remove_team_member(opp_id, member_id, session=session, viewer=_v(principal)),
    )


@router.post("/crm/opportunities/{opp_id}/contributions")
def add_contribution(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.contribution.added",
        lambda: service.add_contribution(
            opp_id,
            ContributionIn.model_validate(_fields(form, "user_id", "what", "weight")),
            session=session,
            viewer=_v(principal),
        ),
    )


@router.post("/crm/opportunities/{opp_id}/assessments")
def record_assessment(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    """The scorecard form: a score (and evidence) per item of the current template."""
    scores: dict[str, int] = {}
    evidence: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith("score.") and value != "":
            scores[key.removeprefix("score.")] = int(value) if value.lstrip("-").isdigit() else -1
        elif key.startswith("evidence.") and value.strip():
            evidence[key.removeprefix("evidence.")] = value
    return _on_opportunity(
        request,
        opp_id,
        "crm.assessment.saved",
        lambda: service.record_assessment(
            opp_id, AssessmentIn(scores=scores, evidence=evidence), session=session, viewer=_v(principal)
        ),
        anchor="#assess",
    )


@router.post("/crm/opportunities/{opp_id}/activities")
def add_activity(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    values = _fields(form, "body", optional=("assignee_user_id", "due_date"))
    values["kind"] = form.get("kind", "comment")
    return _on_opportunity(
        request,
        opp_id,
        "crm.activity.added",
        lambda: service.add_activity(
            opp_id, ActivityIn.model_validate(values), session=session, viewer=_v(principal)
        ),
    )


@router.post("/crm/opportunities/{opp_id}/tasks/{activity_id}/done")
def task_done(
    request: Request,
    opp_id: str,
    activity_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.activity.done",
        lambda: service.set_task_done(opp_id, activity_id, True, session=session, viewer=_v(principal)),
    )


@router.post("/crm/opportunities/{opp_id}/requests")
def create_request(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.request.added",
        lambda: service.create_request(
            opp_id,
            BackOfficeRequestIn.model_validate(
                _fields(form, "kind", "body", "due_date", optional=("assignee_user_id",))
            ),
            session=session,
            viewer=_v(principal),
        ),
    )


@router.post("/crm/opportunities/{opp_id}/requests/{request_id}")
def update_request(
    request: Request,
    opp_id: str,
    request_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    return _on_opportunity(
        request,
        opp_id,
        "crm.request.updated",
        lambda: service.update_request(
            opp_id,
            request_id,
            BackOfficeRequestUpdate.model_validate(_fields(form, "status", "response")),
            session=session,
            viewer=_v(principal),
        ),
    )


@router.post("/crm/opportunities/{opp_id}/cancel")
def cancel_won(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    """Cancel a won deal (managers): it becomes lost and the bonuses are clawed back."""

    def cancel() -> None:
        reason = (form.get("reason") or "").strip()
        if not reason:
            raise ValidationFailed("give the reason", field="reason")
        service.cancel_won(opp_id, reason, session=session, viewer=_v(principal))

    return _on_opportunity(request, opp_id, "crm.cancelled", cancel)


def opportunity_extras(session: Any, principal: Principal, opp_id: str) -> dict[str, Any]:
    """What the opportunity page adds for its forms: users, requests, bonus."""
    viewer = _v(principal)
    return {
        "users": _users(session),
        "requests": service.list_requests(opp_id, session=session, viewer=viewer),
        "bonus": service.bonus_of(opp_id, session=session, viewer=viewer),
        "is_manager": _is_manager(principal),
        "today": date.today(),
        "yuan": fen_to_yuan,
    }


# --- bonuses -------------------------------------------------------------------------------------


@router.get("/crm/bonus")
def bonus_page(request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep) -> Response:
    """Bonus totals per person in scope, and the policy in use."""
    ctx = {
        "rows": service.bonus_summary(session=session, viewer=_v(principal)),
        "policy": service.bonus_policy(session=session),
        "users": _users(session),
        "me": principal.user_id,
    }
    return render(request, "crm/bonus.html", ctx)


@router.get("/crm/bonus/{user_id}")
def bonus_statement_page(
    request: Request, user_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    """One person's statement: each deal's share, clawbacks, totals, the ledger balance."""
    statement = service.bonus_statement(user_id, session=session, viewer=_v(principal))
    return render(request, "crm/bonus_statement.html", {"statement": statement})


# --- field visits --------------------------------------------------------------------------------


@router.get("/crm/visits")
def visits_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    day: date | None = None,
    rep: str = "",
    sku: str = "",
) -> Response:
    """A week of visit plans (a rep's own; a manager picks a rep of the team), planning, and the
    distribution rate of a SKU."""
    start = (day or date.today()) - timedelta(days=(day or date.today()).weekday())
    viewer = _v(principal)
    reps = _sellers(session, principal)
    rep_id = rep if rep in reps else None
    plans = service.list_plans(
        session=session, viewer=viewer, date_from=start, date_to=start + timedelta(days=6), rep_user_id=rep_id
    )
    rate = None
    if sku.strip():
        rate = service.distribution_rate(sku.strip(), session=session, viewer=viewer)
    ctx = {
        "plans": plans,
        "start": start,
        "prev": start - timedelta(days=7),
        "next": start + timedelta(days=7),
        "reps": reps,
        "rep": rep_id or "",
        "users": _users(session),
        "month": date.today().strftime("%Y-%m"),
        "rate": rate,
        "sku": sku,
        "today": date.today(),
    }
    return render(request, "crm/visits.html", ctx)


@router.post("/crm/visits/plan")
def plan_visits(
    request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep, form: FormData
) -> Response:
    try:
        data = VisitPlanIn.model_validate(
            {
                "rep_user_id": _opt(form.get("rep_user_id")),
                "month": form.get("month", ""),
                "start_lng": form.get("start_lng", ""),
                "start_lat": form.get("start_lat", ""),
            }
        )
        out = service.plan_visits(data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, "/crm/visits", exc)
    first = f"{data.month}-01"
    return _done(
        request,
        f"/crm/visits?day={first}&rep={out.rep_user_id}",
        "crm.visits.planned",
        plans=str(out.plans),
        visits=str(out.visits),
    )


@router.get("/crm/visits/{visit_id}")
def visit_page(
    request: Request, visit_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    """One visit: check-in, the store audit form, an order, and what was recorded."""
    viewer = _v(principal)
    visit = service.get_visit(visit_id, session=session, viewer=viewer)
    audits, orders = service.visit_records(visit_id, session=session, viewer=viewer)
    ctx = {
        "visit": visit,
        "audits": audits,
        "orders": orders,
        "is_rep": visit.rep_user_id == principal.user_id,
        "radius": service.CHECKIN_RADIUS_M,
        "users": _users(session),
    }
    return render(request, "crm/visit.html", ctx)


def _visit_url(visit_id: str) -> str:
    return f"/crm/visits/{visit_id}"


@router.post("/crm/visits/{visit_id}/check-in")
def check_in(
    request: Request,
    visit_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    form: FormData,
) -> Response:
    try:
        data = CheckInIn.model_validate({"lng": form.get("lng", ""), "lat": form.get("lat", "")})
        service.check_in(visit_id, data, session=session, viewer=_v(principal))
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, _visit_url(visit_id), exc)
    return _done(request, _visit_url(visit_id), "crm.visits.checked_in")


def _photo_dir(request: Request, tenant_id: str) -> Path:
    return Path(request.app.state.settings.data_dir) / "crm-photos" / tenant_id


@router.post("/crm/visits/{visit_id}/audit")
def record_audit(
    request: Request,
    visit_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    sku: Annotated[list[str], Form()],
    facings: Annotated[list[str], Form()],
    stock: Annotated[list[str], Form()],
    price_yuan: Annotated[list[str], Form()],
    photo_url: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The store audit form: a line per SKU, a photo (uploaded or a URL) and a note."""
    try:
        lines: list[dict[str, object]] = []
        for i, code in enumerate(sku):
            if not code.strip():
                continue
            price = (price_yuan[i] if i < len(price_yuan) else "").strip()
            lines.append(
                {
                    "sku": code,
                    "facings": (facings[i] if i < len(facings) else "") or "0",
                    "stock": (stock[i] if i < len(stock) else "") or "0",
                    "price_fen": _fen(price, f"lines.{len(lines)}.price_fen") if price else None,
                }
            )
        photos = [photo_url.strip()] if photo_url.strip() else []
        if photo is not None and photo.filename:
            photos.append(_save_photo(request, principal, photo))
        service.record_audit(
            visit_id,
            StoreAuditIn.model_validate({"lines": lines, "photos": photos, "note": note}),
            session=session,
            viewer=_v(principal),
        )
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, _visit_url(visit_id), exc)
    return _done(request, _visit_url(visit_id), "crm.visits.audited")


def _save_photo(request: Request, principal: Principal, photo: UploadFile) -> str:
    suffix = PHOTO_TYPES.get(photo.content_type or "")
    if suffix is None:
        raise ValidationFailed("a photo is a JPEG, PNG or WebP image", field="photo")
    data = photo.file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed("a photo is at most 5 MB", field="photo")
    name = f"{new_id()}{suffix}"
    folder = _photo_dir(request, principal.tenant_id or "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return f"/crm/photos/{name}"


@router.get("/crm/photos/{name}")
def photo(request: Request, name: str, _: ConsolePrincipal, principal: Seller) -> Response:
    """An uploaded audit photo of the caller's tenant."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise NotFound("no such photo", field="name")
    path = _photo_dir(request, principal.tenant_id or "") / name
    if not path.is_file():
        raise NotFound("no such photo", field="name")
    return FileResponse(path, media_type=mimetypes.guess_type(name)[0] or "application/octet-stream")


@router.post("/crm/visits/{visit_id}/orders")
def take_order(
    request: Request,
    visit_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    sku: Annotated[list[str], Form()],
    quantity: Annotated[list[str], Form()],
    price_yuan: Annotated[list[str], Form()],
) -> Response:
    try:
        lines = [
            {
                "sku": code,
                "quantity": quantity[i] if i < len(quantity) else "",
                "price_fen": _fen(price_yuan[i] if i < len(price_yuan) else "", f"lines.{i}.price_fen"),
            }
            for i, code in enumerate(sku)
            if code.strip()
        ]
        service.take_order(
            visit_id, VisitOrderIn.model_validate({"lines": lines}), session=session, viewer=_v(principal)
        )
    except (BconeError, PydanticValidationError) as exc:
        return _fail(request, _visit_url(visit_id), exc)
    return _done(request, _visit_url(visit_id), "crm.visits.ordered")


# --- scorecard template --------------------------------------------------------------------------

ITEM_FIELDS = (
    "key",
    "dimension",
    "label_zh",
    "label_en",
    "evidence_zh",
    "evidence_en",
    "evidence_from_score",
)


def _levels_text(item: dict[str, Any]) -> str:
    return "\n".join(f"{lv['score']} | {lv['label_zh']} | {lv['label_en']}" for lv in item["levels"])


def _item_rows(template: ScorecardTemplateOut) -> list[dict[str, str]]:
    rows = []
    for item in template.items:
        data = item.model_dump()
        row = {k: str(data[k]) for k in ITEM_FIELDS}
        row["levels"] = _levels_text(data)
        rows.append(row)
    return rows


def _form_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The item rows of a submitted form, in order (``items.{n}.{field}``)."""
    count = 0
    while f"items.{count}.key" in form:
        count += 1
    rows = []
    for n in range(count):
        row = {k: form.get(f"items.{n}.{k}", "") for k in (*ITEM_FIELDS, "levels")}
        row["remove"] = "1" if form.get(f"items.{n}.remove") else ""
        rows.append(row)
    return rows


def _parse_levels(text: str, field: str) -> list[dict[str, Any]]:
    """``score | 中文 | English`` per line."""
    levels = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not parts[0].lstrip("-").isdigit():
            raise ValidationFailed("each line is: score | 中文 | English", field=field)
        levels.append({"score": int(parts[0]), "label_zh": parts[1], "label_en": parts[2]})
    return levels


def _template_in(rows: list[dict[str, str]]) -> ScorecardTemplateIn:
    """The new version from the form rows; blank rows (the empty one to add an item) and rows
    marked for removal are left out. Errors name ``items.{n}.{field}`` of the form's row ``n``."""
    items: list[dict[str, Any]] = []
    index: list[int] = []
    for n, row in enumerate(rows):
        if row.get("remove") or not any(row.get(k, "").strip() for k in ("key", "label_zh", "label_en")):
            continue
        items.append(
            {
                "key": row["key"].strip(),
                "dimension": row["dimension"],
                "label_zh": row["label_zh"].strip(),
                "label_en": row["label_en"].strip(),
                "evidence_zh": row["evidence_zh"].strip(),
                "evidence_en": row["evidence_en"].strip(),
                "evidence_from_score": row["evidence_from_score"].strip() or "2",
                "levels": _parse_levels(row["levels"], f"items.{n}.levels"),
            }
        )
        index.append(n)
    try:
        return ScorecardTemplateIn.model_validate({"items": items})
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = list(err.get("loc", ()))
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            loc[1] = index[loc[1]]
        field = ".".join(str(x) for x in loc[:3]) or "items"
        raise ValidationFailed(
            str(err.get("msg", "invalid")).removeprefix("Value error, "), field=field
        ) from None


def _form_field(field: str, rows: list[dict[str, str]]) -> str:
    """Map a service error's field (indexes of the kept items) back to the form's rows."""
    parts = field.split(".")
    if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
        kept = [n for n, row in enumerate(rows) if not row.get("remove") and row.get("key", "").strip()]
        n = int(parts[1])
        if n < len(kept):
            parts[1] = str(kept[n])
    return ".".join(parts[:3])


def _scorecard_page(
    request: Request,
    session: Any,
    principal: Principal,
    version: int | None = None,
    status_code: int = 200,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    versions = service.template_versions(session=session)
    current = versions[0] if versions else None
    shown = next((v for v in versions if v.version == version), current)
    can_edit = principal.has_role()
    if rows is None and current is not None:
        rows = _item_rows(current)
    if can_edit and rows is not None and (not rows or rows[-1].get("key")):
        rows = [*rows, dict.fromkeys((*ITEM_FIELDS, "levels"), "") | {"dimension": "meddpicc"}]
    ctx = {
        "current": current,
        "shown": shown,
        "versions": versions,
        "users": _users(session),
        "stage_items": {k for st in service.pipeline(session=session) for k in st.required_items},
        "can_edit": can_edit,
        "rows": rows or [],
        "errors": errors or {},
    }
    return render(request, "crm/scorecard.html", ctx, status_code)


@router.get("/crm/scorecard")
def scorecard_page(
    request: Request,
    _: ConsolePrincipal,
    principal: ScorecardReader,
    session: SessionDep,
    version: int | None = None,
) -> Response:
    """The scorecard (客情判断标准): the current version or an older one, the version history,
    and for owners and admins the form that makes a new version."""
    return _scorecard_page(request, session, principal, version)


@router.post("/crm/scorecard")
def save_scorecard(
    request: Request, _: ConsolePrincipal, principal: ScorecardEditor, session: SessionDep, form: FormData
) -> Response:
    """A new version from the form; the old versions (and their assessments) stay as they were."""
    rows = _form_rows(form)
    try:
        data = _template_in(rows)
        out = service.create_template_version(data, session=session, viewer=_v(principal))
    except BconeError as exc:
        field = _form_field(exc.field or "items", rows)
        errors = {field: exc.detail}
        if field != "form":
            errors.setdefault("form", f"{field}: {exc.detail}")
        return _scorecard_page(request, session, principal, None, 422, rows, errors)
    return _done(request, "/crm/scorecard", "crm.scorecard.saved", version=str(out.version))
