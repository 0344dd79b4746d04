"""Organisations as contracts: the columns they are read from, parents and sales regions.

Shared by the single reads and writes (ORM rows) and the list (plain rows of a prepared query).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bcone.core.tenancy import run_tenant_query, tenant_query
from bcone.network import _rules as rules
from bcone.network.models import Organization, OrganizationRegion
from bcone.network.schemas import OrganizationOut

# What an OrganizationOut reads from an organisation row (ORM object or plain row alike).
OUT_COLUMNS = (
    Organization.id,
    Organization.kind,
    Organization.code,
    Organization.name,
    Organization.parent_id,
    Organization.distributor_id,
    Organization.wholesaler_id,
    Organization.division_code,
    Organization.address,
    Organization.lng,
    Organization.lat,
    Organization.location_approximate,
    Organization.status,
    Organization.contact_name,
    Organization.contact_phone,
    Organization.created_at,
    Organization.updated_at,
)
OUT_FIELDS = tuple(column.key for column in OUT_COLUMNS)
# Validating the whole list in one call costs half as much as building the models one by one.
_OUT_LIST = TypeAdapter(list[OrganizationOut])
_PARENTS = tenant_query(
    select(Organization.id, Organization.code, Organization.name).where(
        Organization.id.in_(bindparam("ids", expanding=True))
    )
)
_REGIONS = tenant_query(
    select(OrganizationRegion.org_id, OrganizationRegion.division_code)
    .where(OrganizationRegion.org_id.in_(bindparam("ids", expanding=True)))
    .order_by(OrganizationRegion.division_code)
)


def contracts(values: list[dict[str, Any]]) -> list[OrganizationOut]:
    """Contracts from column values (plus parent code/name and sales regions), validated in one call."""
    for v in values:
        v["division_name"] = rules.division_label(v["division_code"])
    return _OUT_LIST.validate_python(values)


def regions_by_org(session: Session, org_ids: list[str]) -> dict[str, list[str]]:
    regions: dict[str, list[str]] = defaultdict(list)
    if org_ids:
        for org_id, code in run_tenant_query(session, _REGIONS, {"ids": org_ids}):
            regions[org_id].append(code)
    return regions


def to_out_many(session: Session, rows: Sequence[Organization]) -> list[OrganizationOut]:
    """Organisations as contracts, with parent code/name and sales regions loaded in two queries."""
    parent_ids = list({r.parent_id for r in rows if r.parent_id})
    parents: dict[str, tuple[str | None, str | None]] = {}
    if parent_ids:
        for pid, code, name in run_tenant_query(session, _PARENTS, {"ids": parent_ids}):
            parents[pid] = (code, name)
    regions = regions_by_org(session, [r.id for r in rows])
    values = []
    for r in rows:
        v = {name: getattr(r, name) for name in OUT_FIELDS}
        v["parent_code"], v["parent_name"] = parents.get(r.parent_id or "", (None, None))
        v["sales_regions"] = regions.get(r.id, [])
        values.append(v)
    return contracts(values)
