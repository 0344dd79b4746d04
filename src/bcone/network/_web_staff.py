"""Console pages for staff: the list (search as you type), and the create and edit forms."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from bcone.core.auth import Role
from bcone.core.deps import PageDep, SessionDep
from bcone.core.imports import split_codes
from bcone.network import service
from bcone.network._web_forms import Manager, Reader, field_errors
from bcone.network.schemas import StaffIn, StaffKind, StaffStatus, StaffUpdate
from bcone.web.deps import ConsolePrincipal
from bcone.web.forms import FormPage, form_values
from bcone.web.templating import render_list

router = APIRouter(include_in_schema=False)

STAFF_KINDS: tuple[str, ...] = get_args(StaffKind)
STAFF_STATUSES: tuple[str, ...] = get_args(StaffStatus)
RESULTS_TARGET = "staff-results"


class StaffForm(BaseModel):
    """The staff form as the browser sends it."""

    kind: str = "shop_assistant"
    name: str = ""
    phone: str = ""
    employee_code: str = ""
    org_code: str = ""
    assigned_org_codes: str = ""
    status: str = "active"


@router.get("/network/staff")
def staff_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    kind: str | None = None,
    status: str | None = None,
    org_id: str | None = None,
) -> Response:
    """The staff list: search as you type, filter by kind and status."""
    result = service.list_staff(
        page,
        session=session,
        kind=kind if kind in STAFF_KINDS else None,
        status=status if status in STAFF_STATUSES else None,
        org_id=org_id or None,
        scope_org_id=service.partner_scope(principal),
    )
    ctx = {
        "result": result,
        "filters": {"kind": kind or "", "status": status or "", "org_id": org_id or ""},
        "filtered": bool(page.q or kind or status or org_id),
        "kinds": STAFF_KINDS,
        "statuses": STAFF_STATUSES,
        "can_edit": principal.has_role(Role.sales_manager),
        "partner_scope": principal.is_partner,
        "results_target": RESULTS_TARGET,
    }
    return render_list(request, "network/staff.html", "network/_staff_results.html", ctx)


FORM = FormPage(
    template="network/staff_form.html",
    record_name="staff",
    base_url="/network/staff",
    messages="network",
    errors=field_errors,
    context={"kinds": STAFF_KINDS, "statuses": STAFF_STATUSES},
)


def _payload(form: StaffForm) -> dict[str, Any]:
    return {
        "kind": form.kind,
        "name": form.name,
        "phone": form.phone,
        "employee_code": form.employee_code,
        "org_id": None,
        "org_code": form.org_code.strip() or None,
        "assigned_org_ids": [],
        "assigned_org_codes": split_codes(form.assigned_org_codes),
        "status": form.status,
    }


@router.get("/network/staff/new")
def new_staff_page(
    request: Request, _: ConsolePrincipal, __: Manager, kind: str = "shop_assistant"
) -> Response:
    """An empty staff form."""
    return FORM.show(request, form_values(StaffForm(kind=kind if kind in STAFF_KINDS else "shop_assistant")))


@router.post("/network/staff/new")
def create_staff(
    request: Request,
    _: ConsolePrincipal,
    __: Manager,
    session: SessionDep,
    form: Annotated[StaffForm, Form()],
) -> Response:
    """Create the staff member, or show the form again with the errors next to their fields."""
    return FORM.submit(
        request, form, lambda: service.create_staff(StaffIn(**_payload(form)), session=session)
    )


@router.get("/network/staff/{staff_id}")
def staff_member_page(
    request: Request, staff_id: str, _: ConsolePrincipal, __: Manager, session: SessionDep
) -> Response:
    """The staff member's form, filled in."""
    staff = service.get_staff(staff_id, session=session)
    form = StaffForm(
        kind=staff.kind,
        name=staff.name,
        phone=staff.phone,
        employee_code=staff.employee_code,
        org_code=staff.org_code or "",
        assigned_org_codes=", ".join(staff.assigned_org_codes),
        status=staff.status,
    )
    return FORM.show(request, form_values(form), record=staff)


@router.post("/network/staff/{staff_id}")
def update_staff(
    request: Request,
    staff_id: str,
    _: ConsolePrincipal,
    __: Manager,
    session: SessionDep,
    form: Annotated[StaffForm, Form()],
) -> Response:
    """Save the staff member, or show the form again with the errors next to their fields."""
    staff = service.get_staff(staff_id, session=session)
    return FORM.submit(
        request,
        form,
        lambda: service.update_staff(staff_id, StaffUpdate(**_payload(form)), session=session),
        record=staff,
    )
