"""Who fulfils an order: the nearest store that stocks every item and serves the address.

Candidates, best first:

1. active stores holding every item (``on_hand - reserved`` at least the quantity), within the
   brand's service radius (``store_order_settings.service_radius_km``, 5 km by default) of the
   address, nearest first. The address point is the buyer's coordinates when the page sent them,
   else the centroid of its division; a store's point is its coordinates, else its division's;
2. then the distributor above the storefront's organisation, then the distributors whose sales
   region covers the address, when they hold every item.

:func:`place` reserves the order's items at the first candidate where the conditional
reservation succeeds (a candidate that sold out meanwhile is skipped), so the stock is held where
the order will be fulfilled; a store that declines hands the order to the next one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import ORMExecuteState, Session

from bcone.core import geo
from bcone.core.errors import NotFound
from bcone.core.tenancy import current_tenant
from bcone.network import service as network
from bcone.network.schemas import OrganizationOut
from bcone.store import _stock
from bcone.store.order_models import OrderSettings, StockLevel
from bcone.store.order_schemas import OrderSettingsIn, OrderSettingsOut

T = TypeVar("T")

DEFAULT_RADIUS_KM = 5.0
DEFAULT_RESERVATION_MINUTES = 15


@dataclass(frozen=True, slots=True)
class Candidate:
    org_id: str
    kind: str
    distance_km: float | None


def get_order_settings(*, session: Session) -> OrderSettingsOut:
    return cached(session, ("order_settings",), lambda: _load_order_settings(session))


def _load_order_settings(session: Session) -> OrderSettingsOut:
    row = session.scalars(select(OrderSettings)).one_or_none()
    if row is None:
        return OrderSettingsOut(
            service_radius_km=DEFAULT_RADIUS_KM, reservation_minutes=DEFAULT_RESERVATION_MINUTES
        )
    return OrderSettingsOut(
        service_radius_km=row.service_radius_km, reservation_minutes=row.reservation_minutes
    )


def update_order_settings(data: OrderSettingsIn, *, session: Session) -> OrderSettingsOut:
    row = session.scalars(select(OrderSettings)).one_or_none()
    if row is None:
        row = OrderSettings()
        session.add(row)
    row.service_radius_km = data.service_radius_km
    row.reservation_minutes = data.reservation_minutes
    session.flush()
    return _load_order_settings(session)


def point_of(division_code: str | None, lng: float | None, lat: float | None) -> tuple[float, float] | None:
    """A point for a place: its coordinates, else its division's centroid, else None."""
    if lng is not None and lat is not None:
        return lng, lat
    division = geo.get_division(division_code) if division_code else None
    return None if division is None else (division.lng, division.lat)


def _org_point(org: OrganizationOut) -> tuple[float, float] | None:
    return point_of(org.division_code, org.lng, org.lat)


def _stocked_org_ids(session: Session, items: dict[str, int]) -> list[str]:
    """Organisations holding every item in the wanted quantity right now."""
    wanted = [
        (StockLevel.sku_id == sku) & (StockLevel.on_hand - StockLevel.reserved >= qty)
        for sku, qty in items.items()
    ]
    stmt = (
        select(StockLevel.org_id)
        .where(or_(*wanted))
        .group_by(StockLevel.org_id)
        .having(func.count() == len(items))
        .order_by(StockLevel.org_id)
        .limit(2000)
    )
    return list(session.scalars(stmt))


# --- reference data kept per process ---------------------------------------------------------
# A checkout reads facts that change rarely (storefronts, SKUs, prices and price rules, order
# settings, where organisations are and what they cover); each is kept per process under a key
# that starts with the tenant. An entry lives REFERENCE_SECONDS at most, and every entry is
# dropped as soon as this process flushes a change to one of the tables below (or runs an UPDATE
# or DELETE on one), so a change made here is seen at once; one made by another process (a second
# ``bcone serve`` worker) at most REFERENCE_SECONDS later.
REFERENCE_SECONDS = 5.0
REFERENCE_TABLES = frozenset(
    {
        "organizations",
        "organization_regions",
        "products",
        "skus",
        "storefronts",
        "storefront_listings",
        "store_price_rules",
        "store_settings",
        "store_order_settings",
    }
)
_MAX_ENTRIES = 50_000
_reference: dict[tuple[Any, ...], tuple[int, float, Any]] = {}
_version = itertools.count(1)
_current = next(_version)
_DIRTY = "bcone.store.reference_changed"


def _bump() -> None:
    global _current
    _current = next(_version)
    _reference.clear()


def _touches_reference(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in REFERENCE_TABLES:
            return True
    return False


@event.listens_for(Session, "before_flush")
def _reference_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_reference(session):
        session.info[_DIRTY] = True
        _bump()


@event.listens_for(Session, "do_orm_execute")
def _reference_statement(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in REFERENCE_TABLES:
            state.session.info[_DIRTY] = True
            _bump()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _reference_end(session: Session, *_args: Any) -> None:
    # What was read inside a transaction that changed reference data may have been cached
    # while those changes were uncommitted: drop it when the transaction ends either way.
    if session.info.pop(_DIRTY, False):
        _bump()


def cached(session: Session, key: tuple[Any, ...], load: Callable[[], T]) -> T:
    """``load()``'s answer for ``key`` in the session's tenant, kept per process (see above)."""
    full = (current_tenant(session), *key)
    now = time.monotonic()
    hit = _reference.get(full)
    if hit is not None and hit[0] == _current and hit[1] > now:
        return cast(T, hit[2])
    version = _current
    value = load()
    if not session.info.get(_DIRTY) and version == _current:
        if len(_reference) > _MAX_ENTRIES:
            _reference.clear()
        _reference[full] = (version, now + REFERENCE_SECONDS, value)
    return value


def reference_version() -> int:
    """Changes whenever cached reference data is dropped (for caches kept outside :func:`cached`)."""
    return _current


def forget_reference_data() -> None:
    """Drop every cached reference fact (a change made outside any session of this process)."""
    _bump()


def forget_organizations() -> None:
    """Drop the cached organisation facts (tests that move or close organisations)."""
    _bump()


def _org(session: Session, org_id: str) -> OrganizationOut | None:
    def load() -> OrganizationOut | None:
        try:
            return network.get_organization(org_id, session=session)
        except NotFound:
            return None

    return cached(session, ("org", org_id), load)


def _distributors_covering(session: Session, division_code: str) -> list[str]:
    return cached(
        session,
        ("covering", division_code),
        lambda: [
            o.id for o in network.organizations_covering(division_code, session=session, kind="distributor")
        ],
    )


def candidates(
    session: Session,
    *,
    items: dict[str, int],
    division_code: str,
    lng: float | None = None,
    lat: float | None = None,
    storefront_org_id: str | None = None,
    exclude: Collection[str] = (),
) -> list[Candidate]:
    """Organisations that could fulfil the order now, best first (see the module's docstring)."""
    radius = get_order_settings(session=session).service_radius_km
    here = point_of(division_code, lng, lat)
    stocked = [o for o in _stocked_org_ids(session, items) if o not in exclude]
    stores: list[Candidate] = []
    distributors: dict[str, OrganizationOut] = {}
    for org_id in stocked:
        org = _org(session, org_id)
        if org is None or org.status != "active":
            continue
        if org.kind == "distributor":
            distributors[org.id] = org
            continue
        if org.kind != "store" or here is None:
            continue
        there = _org_point(org)
        if there is None:
            continue
        distance = geo.distance_km(here[0], here[1], there[0], there[1])
        if distance <= radius:
            stores.append(Candidate(org.id, "store", round(distance, 3)))
    stores.sort(key=lambda c: (c.distance_km or 0.0, c.org_id))
    ordered: list[str] = []
    if storefront_org_id:
        front = _org(session, storefront_org_id)
        if front is not None:
            above = front.id if front.kind == "distributor" else front.distributor_id
            if above:
                ordered.append(above)
    ordered += _distributors_covering(session, division_code)
    seen: set[str] = set()
    fallbacks = []
    for org_id in ordered:
        if org_id in distributors and org_id not in seen:
            seen.add(org_id)
            fallbacks.append(Candidate(org_id, "distributor", None))
    return stores + fallbacks


def place(
    session: Session,
    *,
    order_id: str,
    items: dict[str, int],
    division_code: str,
    lng: float | None,
    lat: float | None,
    storefront_org_id: str | None,
    expires_at: datetime | None,
    exclude: Collection[str] = (),
) -> str | None:
    """Reserve the items at the best candidate that still has them; its id, or None."""
    for candidate in candidates(
        session,
        items=items,
        division_code=division_code,
        lng=lng,
        lat=lat,
        storefront_org_id=storefront_org_id,
        exclude=exclude,
    ):
        if _stock.reserve(
            session, order_id=order_id, org_id=candidate.org_id, items=items, expires_at=expires_at
        ):
            return candidate.org_id
    return None
