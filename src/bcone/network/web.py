"""Console pages of the channel network: the organisation list, its forms, pickers and imports.

Staff pages live in :mod:`bcone.network._web_staff` and are mounted on the same router.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bcone.core.auth import Role
from bcone.core.deps import PageDep, SessionDep
from bcone.core.errors import BconeError
from bcone.core.geo import search_divisions
from bcone.core.imports import ImportFileInvalid, ImportMode, split_codes, template_csv
from bcone.core.pagination import PageParams
from bcone.network import service
from bcone.network._web_forms import (
    Manager,
    Reader,
    field_errors,
    optional_float,
    report_key,
    resolve_division,
)
from bcone.network._web_staff import router as staff_router
from bcone.network.messages import register as _register_messages
from bcone.network.schemas import OrganizationIn, OrganizationOut, OrganizationUpdate, OrgKind, OrgStatus
from bcone.web.deps import ConsolePrincipal
from bcone.web.forms import (
    FormPage,
    form_values,
    import_mode,
    import_status,
    locale_of,
    read_upload,
    report_rows,
    typed,
)
from bcone.web.templating import render, render_list

_register_messages()

router = APIRouter(include_in_schema=False)
router.include_router(staff_router)

ORG_KINDS: tuple[str, ...] = get_args(OrgKind)
ORG_STATUSES: tuple[str, ...] = get_args(OrgStatus)
RESULTS_TARGET = "org-results"  # the element the list's HTMX search swaps
PICKER_LIMIT = 20  # suggestions a picker shows while typing


class OrganizationForm(BaseModel):
    """The organisation form as the browser sends it: every field a string."""

    kind: str = "store"
    code: str = ""
    name: str = ""
    parent_id: str = ""
    division_code: str = ""
    address: str = ""
    lng: str = ""
    lat: str = ""
    sales_regions: str = ""
    status: str = "active"
    contact_name: str = ""
    contact_phone: str = ""


def _filter(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@router.get("/network")
def organizations_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    kind: str | None = None,
    status: str | None = None,
    division: str | None = None,
    parent_id: str | None = None,
) -> Response:
    """The organisation list: search as you type, filters, pages; HTMX reloads only the table."""
    errors: dict[str, str] = {}
    division_code = None
    if division and division.strip():
        try:
            division_code = resolve_division(division, field="division")
        except BconeError as exc:
            errors = field_errors(exc, locale_of(request))
    result = service.list_organizations(
        page,
        session=session,
        kind=_filter(kind, ORG_KINDS),
        status=_filter(status, ORG_STATUSES),
        division=division_code,
        parent_id=parent_id or None,
        scope_org_id=service.partner_scope(principal),
    )
    filtered = bool(page.q or kind or status or division or parent_id)
    ctx = {
        "result": result,
        "filters": {
            "kind": kind or "",
            "status": status or "",
            "division": division or "",
            "parent_id": parent_id or "",
        },
        "filtered": filtered,
        "errors": errors,
        "kinds": ORG_KINDS,
        "statuses": ORG_STATUSES,
        "can_edit": principal.has_role(Role.sales_manager),
        "partner_scope": principal.is_partner,
        "results_target": RESULTS_TARGET,
    }
    return render_list(request, "network/organizations.html", "network/_org_results.html", ctx)


FORM = FormPage(
    template="network/organization_form.html",
    record_name="org",
    base_url="/network/organizations",
    messages="network",
    errors=field_errors,
    context={"kinds": ORG_KINDS, "statuses": ORG_STATUSES},
)


def _payload(form: OrganizationForm, session: Session) -> dict[str, Any]:
    """The form as service input; raises the first problem found, naming its field."""
    payload: dict[str, Any] = {
        "kind": form.kind,
        "code": form.code,
        "name": form.name,
        "division_code": resolve_division(form.division_code),
        "address": form.address,
        "lng": optional_float(form.lng, "lng"),
        "lat": optional_float(form.lat, "lat"),
        "sales_regions": split_codes(form.sales_regions),
        "status": form.status,
        "contact_name": form.contact_name,
        "contact_phone": form.contact_phone or None,
        "parent_id": None,
        "parent_code": None,
    }
    parent = form.parent_id.strip()
    if parent:
        # A person types a partner code; the datalist and links send ids. Accept both.
        by_code = service.organization_ids_by_code([parent], session=session)
        payload["parent_id" if parent not in by_code else "parent_code"] = parent
    return payload


@router.get("/network/organizations/new")
def new_organization_page(
    request: Request, _: ConsolePrincipal, __: Manager, kind: str = "store", parent_id: str = ""
) -> Response:
    """An empty organisation form (``?kind=store&parent_id=...`` pre-fills it)."""
    form = OrganizationForm(kind=kind if kind in ORG_KINDS else "store", parent_id=parent_id)
    return FORM.show(request, form_values(form))


@router.post("/network/organizations/new")
def create_organization(
    request: Request,
    _: ConsolePrincipal,
    __: Manager,
    session: SessionDep,
    form: Annotated[OrganizationForm, Form()],
) -> Response:
    """Create the organisation, or show the form again with the errors next to their fields."""
    return FORM.submit(
        request,
        form,
        lambda: service.create_organization(OrganizationIn(**_payload(form, session)), session=session),
    )


def _form_of(org: OrganizationOut) -> dict[str, str]:
    located = not org.location_approximate and org.lng is not None
    return form_values(
        OrganizationForm(
            kind=org.kind,
            code=org.code,
            name=org.name,
            parent_id=org.parent_code or "",
            division_code=org.division_code,
            address=org.address,
            # An approximate location is the division's centre: leave the fields empty so that
            # saving the form does not turn the centre into a "given" location.
            lng=str(org.lng) if located else "",
            lat=str(org.lat) if located else "",
            sales_regions=", ".join(org.sales_regions),
            status=org.status,
            contact_name=org.contact_name,
            contact_phone=org.contact_phone or "",
        )
    )


@router.get("/network/organizations/{org_id}")
def organization_page(
    request: Request, org_id: str, _: ConsolePrincipal, __: Manager, session: SessionDep
) -> Response:
    """The organisation's form, filled in."""
    org = service.get_organization(org_id, session=session)
    return FORM.show(request, _form_of(org), record=org)


@router.post("/network/organizations/{org_id}")
def update_organization(
    request: Request,
    org_id: str,
    _: ConsolePrincipal,
    __: Manager,
    session: SessionDep,
    form: Annotated[OrganizationForm, Form()],
) -> Response:
    """Save the organisation, or show the form again with the errors next to their fields."""
    org = service.get_organization(org_id, session=session)
    return FORM.submit(
        request,
        form,
        lambda: service.update_organization(
            org_id, OrganizationUpdate(**_payload(form, session)), session=session
        ),
        record=org,
    )


@router.get("/network/divisions")
def division_options(request: Request, _: ConsolePrincipal) -> Response:
    """``<option>`` suggestions for a division picker: codes and names matching what was typed."""
    text = typed(request, "division_code", "division")
    found = search_divisions(text)[:PICKER_LIMIT] if text else []
    options = [(d.code, service.division_label(d.code)) for d in found]
    return render(request, "network/_division_options.html", {"options": options})


@router.get("/network/organizations-options")
def organization_options(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, kind: str = ""
) -> Response:
    """``<option>`` suggestions for an organisation picker (value: the partner code)."""
    kinds = [k for k in kind.split(",") if k in ORG_KINDS]
    text = typed(request, "parent_id", "org_code", "assigned_org_codes")
    page = service.list_organizations(
        PageParams(q=text or None, page_size=PICKER_LIMIT),
        session=session,
        kind=kinds[0] if len(kinds) == 1 else None,
        scope_org_id=service.partner_scope(principal),
    )
    orgs = [o for o in page.items if not kinds or o.kind in kinds]
    return render(request, "network/_org_options.html", {"orgs": orgs})


IMPORTS = {"organizations": service.ORGANIZATION_COLUMNS, "staff": service.STAFF_COLUMNS}


def _import_page(request: Request, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    what = str(ctx.get("what", "organizations"))
    page: dict[str, Any] = {"mode": ImportMode.all_or_nothing.value, "report": None, "file_error": None}
    page.update(ctx, what=what, columns=IMPORTS[what], imports=IMPORTS)
    return render(request, "network/import.html", page, status_code=status_code)


@router.get("/network/import")
def import_page(request: Request, _: ConsolePrincipal, __: Manager, what: str = "organizations") -> Response:
    """Upload a file of organisations or staff; the report shows here afterwards."""
    return _import_page(request, {"what": what if what in IMPORTS else "organizations"})


@router.get("/network/import/template-{what}.csv")
def import_template(what: str, _: ConsolePrincipal, __: Manager) -> Response:
    """An empty CSV with the Chinese headers, ready to fill in Excel."""
    if what not in IMPORTS:
        what = "organizations"
    return Response(
        template_csv(IMPORTS[what]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bcone-{what}.csv"'},
    )


@router.post("/network/import")
def import_upload(
    request: Request,
    _: ConsolePrincipal,
    __: Manager,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    what: Annotated[str, Form()] = "organizations",
    mode: Annotated[str, Form()] = ImportMode.all_or_nothing.value,
) -> Response:
    """Run the import and show its report (422 when nothing was written because of bad rows)."""
    what = what if what in IMPORTS else "organizations"
    chosen = import_mode(mode)
    data = read_upload(file)
    importer = service.import_organizations if what == "organizations" else service.import_staff
    ctx: dict[str, Any] = {"what": what, "mode": chosen.value}
    try:
        report = importer(data, file.filename or "upload", session=session, mode=chosen)
    except ImportFileInvalid as exc:
        return _import_page(request, {**ctx, "file_error": exc.detail}, status_code=422)
    rows = report_rows(report, locale_of(request), report_key)
    return _import_page(
        request, {**ctx, "report": report, "report_rows": rows}, status_code=import_status(chosen, report)
    )
