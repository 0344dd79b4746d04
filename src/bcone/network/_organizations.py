"""Organisations: create, change, read, list, subtrees, sales-region coverage and bulk loads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from bcone.core.errors import BconeError, ValidationFailed
from bcone.core.geo import require_division
from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams, known_total
from bcone.core.tenancy import TenantQuery, current_tenant, run_tenant_query, tenant_query
from bcone.network import _rules as rules
from bcone.network._org_contracts import OUT_COLUMNS, OUT_FIELDS, contracts, regions_by_org, to_out_many
from bcone.network.errors import (
    DuplicateCode,
    HasChildren,
    OrganizationNotFound,
    UnknownOrganization,
)
from bcone.network.models import Organization, OrganizationRegion
from bcone.network.schemas import OrganizationIn, OrganizationOut, OrganizationUpdate

_NOT_NULL_FIELDS = ("kind", "code", "name", "division_code", "address", "status", "contact_name")


def _row(session: Session, org_id: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.id == org_id)).one_or_none()


def _row_by_code(session: Session, code: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.code == code)).one_or_none()


def _subtree_column(root_kind: str) -> InstrumentedAttribute[Any]:
    if root_kind == "distributor":
        return Organization.distributor_id
    if root_kind == "wholesaler":
        return Organization.wholesaler_id
    return Organization.id


def subtree_clause(root: rules.Node) -> ColumnElement[bool]:
    """SQL condition for "lies in ``root``'s subtree" (``root`` included), on the ancestry columns."""
    return _subtree_column(root.kind) == root.id


def require_row(session: Session, org_id: str, *, scope_org_id: str | None = None) -> Organization:
    """The organisation ``org_id`` of the bound tenant, inside ``scope_org_id``'s subtree if given."""
    org = _row(session, org_id)
    if org is None:
        raise OrganizationNotFound(f"no organisation {org_id}", field="org_id")
    if scope_org_id is not None:
        root = _row(session, scope_org_id)
        if root is None or not rules.in_subtree(org, root_id=root.id, root_kind=root.kind):
            # Outside the caller's subtree looks exactly like not existing: no probing.
            raise OrganizationNotFound(f"no organisation {org_id}", field="org_id")
    return org


def find_reference(
    session: Session, *, org_id: str | None, code: str | None, field: str
) -> Organization | None:
    """The organisation a reference names (by id or code), or None when neither is given."""
    if org_id:
        found = _row(session, org_id)
    elif code:
        found = _row_by_code(session, code)
    else:
        return None
    if found is None:
        raise UnknownOrganization(f"no organisation {code or org_id} in this network", field=field)
    return found


_SEARCHED = (
    Organization.code,
    Organization.name,
    Organization.address,
    Organization.contact_name,
    Organization.contact_phone,
)
# List filters, with their values as bound parameters of the same names.
_FILTERS: dict[str, ColumnElement[bool]] = {
    "q": or_(*(column.icontains(bindparam("q"), escape="/") for column in _SEARCHED)),
    "kind": Organization.kind == bindparam("kind"),
    "status": Organization.status == bindparam("status"),
    "divisions": Organization.division_code.in_(bindparam("divisions", expanding=True)),
    "parent_id": Organization.parent_id == bindparam("parent_id"),
}


def _like_operand(text: str) -> str:
    """``text`` matched literally by LIKE with escape "/" (what ``autoescape=True`` does to a value)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@lru_cache(maxsize=128)
def _list_queries(filters: frozenset[str], scope_kind: str | None) -> tuple[TenantQuery, TenantQuery]:
    """For one combination of filters: the page (rows, parent code and name, total) and the count.

    Built once per combination (building the statement costs more than running it). The total
    rides along in the page query, so a full page costs one statement.
    """
    where = [_FILTERS[name] for name in sorted(filters)]
    if scope_kind is not None:
        where.append(_subtree_column(scope_kind) == bindparam("scope_org_id"))
    count = select(func.count()).select_from(Organization).where(*where)
    page = (
        select(*OUT_COLUMNS)
        .where(*where)
        .order_by(Organization.code, Organization.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    # Parents are joined to the page's rows only, not to every matching organisation.
    parent = aliased(Organization, name="parent")
    rows = (
        select(page, parent.code.label("parent_code"), parent.name.label("parent_name"))
        .add_columns(count.scalar_subquery().label("total"))
        .outerjoin(parent, parent.id == page.c.parent_id)
        .order_by(page.c.code, page.c.id)
    )
    return tenant_query(rows), tenant_query(count)


def _set_regions(session: Session, org_id: str, codes: list[str]) -> None:
    session.execute(delete(OrganizationRegion).where(OrganizationRegion.org_id == org_id))
    session.add_all(OrganizationRegion(org_id=org_id, division_code=c) for c in codes)


def _check_code_free(session: Session, code: str, *, except_id: str | None = None) -> None:
    existing = _row_by_code(session, code)
    if existing is not None and existing.id != except_id:
        raise DuplicateCode(f"organisation code {code!r} is already used by {existing.name}", field="code")


def create_organization(data: OrganizationIn, *, session: Session) -> OrganizationOut:
    """Add an organisation to the network.

    The code is unique per tenant; a distributor has no parent, a wholesaler's parent is a
    distributor, a store's a distributor or a wholesaler; the division code must exist; without
    coordinates the division's centroid is used and flagged ``location_approximate``.
    """
    _check_code_free(session, data.code)
    division = require_division(data.division_code, field="division_code")
    parent = find_reference(session, org_id=data.parent_id, code=data.parent_code, field="parent_id")
    rules.check_parent(data.kind, parent)
    lng, lat, approximate = rules.locate(division, data.lng, data.lat)
    regions = rules.check_regions(data.sales_regions)
    org = Organization(id=new_id(), parent_id=parent.id if parent else None, lng=lng, lat=lat)
    org.distributor_id, org.wholesaler_id = rules.ancestry(data.kind, org.id, parent)
    org.location_approximate = approximate
    for name in (
        "kind",
        "code",
        "name",
        "division_code",
        "address",
        "status",
        "contact_name",
        "contact_phone",
    ):
        setattr(org, name, getattr(data, name))
    session.add(org)
    session.flush()
    _set_regions(session, org.id, regions)
    session.flush()
    return to_out_many(session, [org])[0]


def update_organization(
    org_id: str, data: OrganizationUpdate, *, session: Session, scope_org_id: str | None = None
) -> OrganizationOut:
    """Change an organisation; only the fields sent change.

    The tree rules of :func:`create_organization` hold after the change; an organisation with
    children keeps its kind (move them first); moving a wholesaler carries its stores along.
    """
    org = require_row(session, org_id, scope_org_id=scope_org_id)
    sent = data.model_fields_set
    for name in _NOT_NULL_FIELDS:
        if name in sent and getattr(data, name) is None:
            raise ValidationFailed(f"{name} cannot be empty", field=name)
    if data.code is not None and data.code != org.code:
        _check_code_free(session, data.code, except_id=org.id)
    kind = data.kind or org.kind
    if kind != org.kind:
        has_children = session.scalar(
            select(Organization.id).where(Organization.parent_id == org.id).limit(1)
        )
        if has_children:
            raise HasChildren(
                f"{org.name} has child organisations; move them before changing its kind", field="kind"
            )
    if {"parent_id", "parent_code"} & sent or kind != org.kind:
        _move(session, org, kind, data, sent)
    division = require_division(data.division_code or org.division_code, field="division_code")
    if "lng" in sent or "lat" in sent:
        org.lng, org.lat, org.location_approximate = rules.locate(division, data.lng, data.lat)
    elif division.code != org.division_code and (org.location_approximate or org.lng is None):
        org.lng, org.lat, org.location_approximate = rules.locate(division, None, None)
    if data.sales_regions is not None:
        _set_regions(session, org.id, rules.check_regions(data.sales_regions))
    for name in ("code", "name", "division_code", "address", "status", "contact_name", "contact_phone"):
        if name in sent:
            setattr(org, name, getattr(data, name))
    org.kind = kind
    session.flush()
    return to_out_many(session, [org])[0]


def _move(session: Session, org: Organization, kind: str, data: OrganizationUpdate, sent: set[str]) -> None:
    if {"parent_id", "parent_code"} & sent:
        parent = find_reference(session, org_id=data.parent_id, code=data.parent_code, field="parent_id")
    else:
        parent = _row(session, org.parent_id) if org.parent_id else None
    rules.check_parent(kind, parent, org_id=org.id)
    distributor_id, wholesaler_id = rules.ancestry(kind, org.id, parent)
    if kind == "wholesaler" and org.kind == "wholesaler" and distributor_id != org.distributor_id:
        # The wholesaler's stores follow it to the new distributor.
        session.execute(
            update(Organization)
            .where(Organization.wholesaler_id == org.id, Organization.id != org.id)
            .values(distributor_id=distributor_id)
            .execution_options(synchronize_session="fetch")
        )
    org.parent_id = parent.id if parent else None
    org.distributor_id, org.wholesaler_id = distributor_id, wholesaler_id


def get_organization(org_id: str, *, session: Session, scope_org_id: str | None = None) -> OrganizationOut:
    """One organisation; 404 when unknown, another tenant's, or outside ``scope_org_id``'s subtree."""
    return to_out_many(session, [require_row(session, org_id, scope_org_id=scope_org_id)])[0]


def get_organization_by_code(code: str, *, session: Session) -> OrganizationOut:
    """The organisation with this partner code; 404 when there is none."""
    org = _row_by_code(session, code)
    if org is None:
        raise OrganizationNotFound(f"no organisation with code {code!r}", field="code")
    return to_out_many(session, [org])[0]


def list_organizations(
    params: PageParams,
    *,
    session: Session,
    kind: str | None = None,
    status: str | None = None,
    division: str | None = None,
    parent_id: str | None = None,
    scope_org_id: str | None = None,
) -> Page[OrganizationOut]:
    """One page of organisations, ordered by code.

    ``q`` searches code, name, address and contact; ``division`` keeps organisations located in
    that region (any level below it too); ``scope_org_id`` limits the list to that subtree.
    """
    values: dict[str, Any] = {"limit": params.page_size, "offset": params.offset}
    if params.q:
        values["q"] = _like_operand(params.q)
    if kind:
        values["kind"] = kind
    if status:
        values["status"] = status
    if division:
        require_division(division, field="division")
        values["divisions"] = list(rules.region_codes(division))
    if parent_id:
        values["parent_id"] = parent_id
    filters = frozenset(values.keys() & _FILTERS.keys())
    scope_kind = None
    if scope_org_id is not None:
        root = _row(session, scope_org_id)
        if root is None:
            return Page(items=[], total=0, page=params.page, page_size=params.page_size)
        scope_kind, values["scope_org_id"] = root.kind, root.id
    page_query, count_query = _list_queries(filters, scope_kind)
    # Rows as plain tuples: the page's columns (OUT_FIELDS), then parent code and name, then total.
    rows = [tuple(r) for r in run_tenant_query(session, page_query, values)]
    total = rows[0][-1] if rows else known_total(params, 0)
    if total is None:  # past the last page: the page query could not carry the total
        total = run_tenant_query(session, count_query, values).scalar_one()
    regions = regions_by_org(session, [r[0] for r in rows])
    items = []
    for r in rows:
        v = dict(zip(OUT_FIELDS, r, strict=False))
        v["parent_code"], v["parent_name"] = r[len(OUT_FIELDS)], r[len(OUT_FIELDS) + 1]
        v["sales_regions"] = regions.get(v["id"], [])
        items.append(v)
    return Page(items=contracts(items), total=total, page=params.page, page_size=params.page_size)


def organization_subtree_ids(org_id: str, *, session: Session) -> list[str]:
    """Ids of ``org_id`` and every organisation below it (a distributor's wholesalers and stores)."""
    root = require_row(session, org_id)
    return list(
        session.scalars(select(Organization.id).where(subtree_clause(root)).order_by(Organization.id))
    )


def organizations_covering(
    division_code: str, *, session: Session, kind: str | None = None, include_inactive: bool = False
) -> list[OrganizationOut]:
    """Organisations whose sales region covers ``division_code``.

    A region listing the division itself or any division above it covers it (a distributor
    assigned 广东省 covers 深圳市 南山区). Active organisations only unless asked otherwise.
    """
    require_division(division_code, field="division_code")
    covered_by = select(OrganizationRegion.org_id).where(
        OrganizationRegion.division_code.in_(rules.covering_codes(division_code))
    )
    stmt = select(Organization).where(Organization.id.in_(covered_by)).order_by(Organization.code)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if not include_inactive:
        stmt = stmt.where(Organization.status == "active")
    return to_out_many(session, list(session.scalars(stmt)))


def organization_ids_by_code(codes: Iterable[str], *, session: Session) -> dict[str, str]:
    """``{code: id}`` for the given partner codes that exist (unknown codes are left out)."""
    wanted = list(set(codes))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):  # keep IN lists within every backend's limits
        stmt = select(Organization.code, Organization.id).where(
            Organization.code.in_(wanted[start : start + 1000])
        )
        for code, org_id in session.execute(stmt):
            out[code] = org_id
    return out


class _Known:
    """A node of the tree the bulk loader knows about (existing or created in this batch)."""

    __slots__ = ("distributor_id", "id", "kind", "status", "wholesaler_id")

    def __init__(
        self, id: str, kind: str, status: str, distributor_id: str | None, wholesaler_id: str | None
    ):
        self.id, self.kind, self.status = id, kind, status
        self.distributor_id, self.wholesaler_id = distributor_id, wholesaler_id


def create_organizations_bulk(items: Sequence[OrganizationIn], *, session: Session) -> int:
    """Insert many new organisations at once (demo data, first loads); returns how many.

    The same rules as :func:`create_organization`, checked in memory against one read of the
    tenant's existing codes; parents may be earlier in the batch (referenced by code). Any bad
    item refuses the whole batch with a 422 naming ``items[i].<field>``.
    """
    tenant_id = current_tenant(session)
    known: dict[str, _Known] = {}
    by_id: dict[str, _Known] = {}
    existing = select(
        Organization.code,
        Organization.id,
        Organization.kind,
        Organization.status,
        Organization.distributor_id,
        Organization.wholesaler_id,
    )
    for code, oid, kind, status, distributor_id, wholesaler_id in session.execute(existing):
        known[code] = by_id[oid] = _Known(oid, kind, status, distributor_id, wholesaler_id)
    org_rows: list[dict[str, Any]] = []
    region_rows: list[dict[str, Any]] = []
    order = sorted(range(len(items)), key=lambda i: rules.KIND_RANK[items[i].kind])
    for index in order:
        item = items[index]
        try:
            org_rows.append(_bulk_row(item, tenant_id, known, by_id, region_rows))
        except BconeError as exc:
            raise type(exc)(f"item {index}: {exc.detail}", field=f"items[{index}].{exc.field}") from exc
    if org_rows:
        session.execute(insert(Organization), org_rows)
    if region_rows:
        session.execute(insert(OrganizationRegion), region_rows)
    return len(org_rows)


def _bulk_row(
    item: OrganizationIn,
    tenant_id: str,
    known: dict[str, _Known],
    by_id: dict[str, _Known],
    region_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    if item.code in known:
        raise DuplicateCode(f"organisation code {item.code!r} is already used", field="code")
    division = require_division(item.division_code, field="division_code")
    parent = by_id.get(item.parent_id or "") if item.parent_id else known.get(item.parent_code or "")
    if (item.parent_id or item.parent_code) and parent is None:
        raise UnknownOrganization(f"no organisation {item.parent_code or item.parent_id}", field="parent_id")
    rules.check_parent(item.kind, parent)
    lng, lat, approximate = rules.locate(division, item.lng, item.lat)
    org_id = new_id()
    distributor_id, wholesaler_id = rules.ancestry(item.kind, org_id, parent)
    node = _Known(org_id, item.kind, item.status, distributor_id, wholesaler_id)
    known[item.code] = by_id[org_id] = node
    for code in rules.check_regions(item.sales_regions):
        region_rows.append({"tenant_id": tenant_id, "org_id": org_id, "division_code": code})
    values = item.model_dump(exclude={"parent_id", "parent_code", "sales_regions", "lng", "lat"})
    values.update(
        id=org_id,
        tenant_id=tenant_id,  # a Core bulk insert skips the ORM flush hook that stamps tenants
        parent_id=parent.id if parent else None,
        distributor_id=distributor_id,
        wholesaler_id=wholesaler_id,
        lng=lng,
        lat=lat,
        location_approximate=approximate,
    )
    return values
