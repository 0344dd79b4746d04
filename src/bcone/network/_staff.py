"""Staff: sales reps (the brand's, assigned to the organisations they cover), shop assistants
(working in a store) and KOCs (sharing for an organisation)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select
from sqlalchemy.orm import Session

from bcone.core.errors import BconeError, ValidationFailed
from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.network._organizations import find_reference, subtree_clause
from bcone.network.errors import DuplicateCode, InvalidStaffOrganization, StaffNotFound, UnknownOrganization
from bcone.network.models import Organization, Staff, StaffAssignment
from bcone.network.schemas import StaffIn, StaffOut, StaffUpdate

_NOT_NULL_FIELDS = ("kind", "name", "phone", "employee_code", "status")
_KIND_LABELS = {"sales_rep": "sales rep", "shop_assistant": "shop assistant", "koc": "KOC"}


class _OrgFacts:
    """What the staff rules need to know about an organisation."""

    __slots__ = ("code", "id", "kind", "status")

    def __init__(self, id: str, code: str, kind: str, status: str) -> None:
        self.id, self.code, self.kind, self.status = id, code, kind, status


def check_staff_organization(
    kind: str, org: _OrgFacts | Organization | None, assigned: Sequence[Any]
) -> None:
    """Refuse an organisation that does not fit the kind of staff member.

    A sales rep belongs to the brand (no organisation) and is assigned to organisations; a shop
    assistant works in a store; a KOC shares for any organisation. Closed ones take nobody new.
    """
    if kind == "sales_rep":
        if org is not None:
            raise InvalidStaffOrganization(
                "sales reps belong to the brand: assign them to the organisations they cover instead",
                field="org_id",
            )
        return
    if assigned:
        raise InvalidStaffOrganization(
            "only sales reps are assigned to organisations", field="assigned_org_ids"
        )
    if org is None:
        raise InvalidStaffOrganization(
            f"a {_KIND_LABELS[kind]} needs the organisation they work for", field="org_id"
        )
    if kind == "shop_assistant" and org.kind != "store":
        raise InvalidStaffOrganization(f"a shop assistant works in a store, not a {org.kind}", field="org_id")
    if org.status == "closed":
        raise InvalidStaffOrganization("the organisation is closed", field="org_id")


def _row(session: Session, staff_id: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.id == staff_id)).one_or_none()


def _scope_clause(session: Session, scope_org_id: str) -> ColumnElement[bool]:
    root = session.scalars(select(Organization).where(Organization.id == scope_org_id)).one_or_none()
    if root is None:
        return Staff.id.is_(None)  # matches nothing
    subtree = select(Organization.id).where(subtree_clause(root))
    assigned = select(StaffAssignment.staff_id).where(StaffAssignment.org_id.in_(subtree))
    return or_(Staff.org_id.in_(subtree), Staff.id.in_(assigned))


def _require(session: Session, staff_id: str, scope_org_id: str | None) -> Staff:
    stmt = select(Staff).where(Staff.id == staff_id)
    if scope_org_id is not None:
        stmt = stmt.where(_scope_clause(session, scope_org_id))
    staff = session.scalars(stmt).one_or_none()
    if staff is None:
        raise StaffNotFound(f"no staff member {staff_id}", field="staff_id")
    return staff


def _assigned(session: Session, ids: Sequence[str], codes: Sequence[str]) -> list[Organization]:
    found: dict[str, Organization] = {}
    for org_id in ids:
        org = find_reference(session, org_id=org_id, code=None, field="assigned_org_ids")
        assert org is not None
        found[org.id] = org
    for code in codes:
        org = find_reference(session, org_id=None, code=code, field="assigned_org_ids")
        assert org is not None
        found[org.id] = org
    return list(found.values())


def _check_code_free(session: Session, code: str, except_id: str | None = None) -> None:
    existing = session.scalars(select(Staff).where(Staff.employee_code == code)).one_or_none()
    if existing is not None and existing.id != except_id:
        raise DuplicateCode(
            f"employee code {code!r} is already used by {existing.name}", field="employee_code"
        )


def _set_assignments(session: Session, staff_id: str, orgs: Sequence[Organization]) -> None:
    session.execute(delete(StaffAssignment).where(StaffAssignment.staff_id == staff_id))
    session.add_all(StaffAssignment(staff_id=staff_id, org_id=o.id) for o in orgs)


def to_staff_out_many(session: Session, rows: Sequence[Staff]) -> list[StaffOut]:
    """Staff as contracts, with their organisation and assignments loaded in two queries."""
    org_ids = {r.org_id for r in rows if r.org_id}
    orgs: dict[str, tuple[str, str]] = {}
    if org_ids:
        stmt = select(Organization.id, Organization.code, Organization.name).where(
            Organization.id.in_(org_ids)
        )
        orgs = {oid: (code, name) for oid, code, name in session.execute(stmt)}
    assignments: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if rows:
        stmt_a = (
            select(StaffAssignment.staff_id, StaffAssignment.org_id, Organization.code)
            .join(Organization, Organization.id == StaffAssignment.org_id)
            .where(StaffAssignment.staff_id.in_([r.id for r in rows]))
            .order_by(Organization.code)
        )
        for staff_id, org_id, code in session.execute(stmt_a):
            assignments[staff_id].append((org_id, code))
    return [
        StaffOut(
            id=r.id,
            kind=r.kind,
            name=r.name,
            phone=r.phone,
            employee_code=r.employee_code,
            org_id=r.org_id,
            org_code=orgs[r.org_id][0] if r.org_id in orgs else None,
            org_name=orgs[r.org_id][1] if r.org_id in orgs else None,
            assigned_org_ids=[org_id for org_id, _ in assignments.get(r.id, [])],
            assigned_org_codes=[code for _, code in assignments.get(r.id, [])],
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def create_staff(data: StaffIn, *, session: Session) -> StaffOut:
    """Add a staff member; the employee code is unique per tenant and the organisation must fit the kind."""
    _check_code_free(session, data.employee_code)
    org = find_reference(session, org_id=data.org_id, code=data.org_code, field="org_id")
    assigned = _assigned(session, data.assigned_org_ids, data.assigned_org_codes)
    check_staff_organization(data.kind, org, assigned)
    staff = Staff(
        kind=data.kind,
        name=data.name,
        phone=data.phone,
        employee_code=data.employee_code,
        org_id=org.id if org else None,
        status=data.status,
    )
    session.add(staff)
    session.flush()
    _set_assignments(session, staff.id, assigned)
    session.flush()
    return to_staff_out_many(session, [staff])[0]


def update_staff(
    staff_id: str, data: StaffUpdate, *, session: Session, scope_org_id: str | None = None
) -> StaffOut:
    """Change a staff member; only the fields sent change, and the organisation rules still hold."""
    staff = _require(session, staff_id, scope_org_id)
    sent = data.model_fields_set
    for name in _NOT_NULL_FIELDS:
        if name in sent and getattr(data, name) is None:
            raise ValidationFailed(f"{name} cannot be empty", field=name)
    if data.employee_code is not None and data.employee_code != staff.employee_code:
        _check_code_free(session, data.employee_code, staff.id)
    kind = data.kind or staff.kind
    if {"org_id", "org_code"} & sent:
        org = find_reference(session, org_id=data.org_id, code=data.org_code, field="org_id")
    else:
        org = session.get(Organization, staff.org_id) if staff.org_id else None
    if {"assigned_org_ids", "assigned_org_codes"} & sent:
        assigned = _assigned(session, data.assigned_org_ids or [], data.assigned_org_codes or [])
    else:
        ids = list(
            session.scalars(select(StaffAssignment.org_id).where(StaffAssignment.staff_id == staff.id))
        )
        assigned = _assigned(session, ids, [])
    check_staff_organization(kind, org, assigned)
    for name in ("name", "phone", "employee_code", "status"):
        if name in sent:
            setattr(staff, name, getattr(data, name))
    staff.kind = kind
    staff.org_id = org.id if org else None
    _set_assignments(session, staff.id, assigned)
    session.flush()
    return to_staff_out_many(session, [staff])[0]


def get_staff(staff_id: str, *, session: Session, scope_org_id: str | None = None) -> StaffOut:
    """One staff member; 404 when unknown, another tenant's or outside ``scope_org_id``'s subtree."""
    return to_staff_out_many(session, [_require(session, staff_id, scope_org_id)])[0]


def list_staff(
    params: PageParams,
    *,
    session: Session,
    kind: str | None = None,
    status: str | None = None,
    org_id: str | None = None,
    scope_org_id: str | None = None,
) -> Page[StaffOut]:
    """One page of staff ordered by employee code; ``q`` searches name, phone and employee code.

    ``org_id`` keeps those working for that organisation or assigned to it; ``scope_org_id``
    keeps those of a partner's subtree (including the brand's reps assigned to it).
    """
    stmt = select(Staff).order_by(Staff.employee_code, Staff.id)
    if scope_org_id is not None:
        stmt = stmt.where(_scope_clause(session, scope_org_id))
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                Staff.name.icontains(q, autoescape=True),
                Staff.phone.icontains(q, autoescape=True),
                Staff.employee_code.icontains(q, autoescape=True),
            )
        )
    if kind:
        stmt = stmt.where(Staff.kind == kind)
    if status:
        stmt = stmt.where(Staff.status == status)
    if org_id:
        assigned = select(StaffAssignment.staff_id).where(StaffAssignment.org_id == org_id)
        stmt = stmt.where(or_(Staff.org_id == org_id, Staff.id.in_(assigned)))
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=to_staff_out_many(session, rows), total=total, page=params.page, page_size=params.page_size
    )


def create_staff_bulk(items: Sequence[StaffIn], *, session: Session) -> int:
    """Insert many new staff members at once (demo data, first loads); returns how many.

    The rules of :func:`create_staff`, checked in memory; organisations are referenced by id or
    code. Any bad item refuses the whole batch with a 422 naming ``items[i].<field>``.
    """
    tenant_id = current_tenant(session)
    orgs_by_id: dict[str, _OrgFacts] = {}
    orgs_by_code: dict[str, _OrgFacts] = {}
    for oid, code, kind, status in session.execute(
        select(Organization.id, Organization.code, Organization.kind, Organization.status)
    ):
        orgs_by_id[oid] = orgs_by_code[code] = _OrgFacts(oid, code, kind, status)
    taken = set(session.scalars(select(Staff.employee_code)))
    staff_rows: list[dict[str, Any]] = []
    assignment_rows: list[dict[str, Any]] = []

    def lookup(org_id: str | None, code: str | None, field: str) -> _OrgFacts | None:
        if not org_id and not code:
            return None
        found = orgs_by_id.get(org_id) if org_id else orgs_by_code.get(code or "")
        if found is None:
            raise UnknownOrganization(f"no organisation {code or org_id} in this network", field=field)
        return found

    for index, item in enumerate(items):
        try:
            if item.employee_code in taken:
                raise DuplicateCode(
                    f"employee code {item.employee_code!r} is already used", field="employee_code"
                )
            org = lookup(item.org_id, item.org_code, "org_id")
            assigned = [lookup(i, None, "assigned_org_ids") for i in item.assigned_org_ids]
            assigned += [lookup(None, c, "assigned_org_ids") for c in item.assigned_org_codes]
            check_staff_organization(item.kind, org, assigned)
        except BconeError as exc:
            raise type(exc)(f"item {index}: {exc.detail}", field=f"items[{index}].{exc.field}") from exc
        taken.add(item.employee_code)
        staff_id = new_id()
        staff_rows.append(
            {
                "id": staff_id,
                "tenant_id": tenant_id,  # a Core bulk insert skips the ORM flush hook that stamps tenants
                "kind": item.kind,
                "name": item.name,
                "phone": item.phone,
                "employee_code": item.employee_code,
                "org_id": org.id if org else None,
                "status": item.status,
            }
        )
        for org_id in dict.fromkeys(a.id for a in assigned if a is not None):
            assignment_rows.append({"tenant_id": tenant_id, "staff_id": staff_id, "org_id": org_id})
    if staff_rows:
        session.execute(insert(Staff), staff_rows)
    if assignment_rows:
        session.execute(insert(StaffAssignment), assignment_rows)
    return len(staff_rows)
