"""Stock per organisation and SKU, with reservations that never oversell.

A reservation is one conditional statement::

    UPDATE store_stock SET reserved = reserved + :q
    WHERE tenant_id = :t AND org_id = :o AND sku_id = :s AND on_hand - reserved >= :q

and the row count says whether it was taken. PostgreSQL re-evaluates the condition on the newest
committed row after waiting for a concurrent writer of the same row (READ COMMITTED), SQLite
serialises writers behind its write lock, so concurrent buyers can never reserve more than is on
hand. The table's check constraints (``reserved <= on_hand``) are the second line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.core.errors import NotFound
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.network import service as network
from bcone.store.errors import OutOfStock, StockFloor
from bcone.store.order_models import StockLevel, StockMovement, StockReservation
from bcone.store.order_schemas import StockAdjustIn, StockOut


def _out(row: StockLevel, org_name: str = "", sku_code: str = "", sku_name: str = "") -> StockOut:
    return StockOut(
        org_id=row.org_id,
        org_name=org_name,
        sku_id=row.sku_id,
        sku_code=sku_code,
        sku_name=sku_name,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=row.on_hand - row.reserved,
        updated_at=row.updated_at,
    )


def _ensure_row(session: Session, org_id: str, sku_id: str) -> None:
    """Create the (org, SKU) row with zero stock if it is missing (safe under concurrency)."""
    exists = session.scalar(
        select(StockLevel.id).where(StockLevel.org_id == org_id, StockLevel.sku_id == sku_id)
    )
    if exists is not None:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    from bcone.core.ids import new_id

    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(StockLevel)
        .values(
            id=new_id(),
            tenant_id=current_tenant(session),
            org_id=org_id,
            sku_id=sku_id,
            on_hand=0,
            reserved=0,
            updated_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "org_id", "sku_id"])
    )


def adjust_stock(data: StockAdjustIn, *, session: Session) -> StockOut:
    """Add or remove units on hand; removing below what is reserved is refused (409)."""
    try:
        org = network.get_organization(data.org_id, session=session)
    except NotFound:
        raise NotFound(f"no organisation {data.org_id}", field="org_id") from None
    try:
        sku = catalog.get_sku(data.sku_id, session=session)
    except NotFound:
        raise NotFound(f"no SKU {data.sku_id}", field="sku_id") from None
    _ensure_row(session, org.id, sku.id)
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.org_id == org.id,
            StockLevel.sku_id == sku.id,
            StockLevel.on_hand + data.delta >= StockLevel.reserved,
        )
        .values(on_hand=StockLevel.on_hand + data.delta)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StockFloor(
            f"removing {-data.delta} units would leave less on hand than is reserved", field="delta"
        )
    session.add(
        StockMovement(
            org_id=org.id, sku_id=sku.id, delta=data.delta, reason=data.reason, reference=data.reference
        )
    )
    session.flush()
    row = session.scalars(
        select(StockLevel)
        .where(StockLevel.org_id == org.id, StockLevel.sku_id == sku.id)
        .execution_options(populate_existing=True)
    ).one()
    return _out(row, org.name, sku.sku_code, sku.name)


def available(session: Session, org_ids: Sequence[str], sku_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """``{(org_id, sku_id): on_hand - reserved}`` for the given organisations and SKUs."""
    skus = list(set(sku_ids))
    if not org_ids or not skus:
        return {}
    rows = session.execute(
        select(StockLevel.org_id, StockLevel.sku_id, StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.org_id.in_(list(org_ids)), StockLevel.sku_id.in_(skus)
        )
    )
    return {(o, s): int(a) for o, s, a in rows}


def _take(session: Session, org_id: str, sku_id: str, quantity: int) -> bool:
    """Reserve ``quantity`` units if that many are free (one conditional update)."""
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.org_id == org_id,
            StockLevel.sku_id == sku_id,
            StockLevel.on_hand - StockLevel.reserved >= quantity,
        )
        .values(reserved=StockLevel.reserved + quantity, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def reserve(
    session: Session, *, order_id: str, org_id: str, items: dict[str, int], expires_at: datetime | None
) -> bool:
    """Reserve every SKU of ``items`` at ``org_id``, all or nothing; False when one is short.

    Each SKU is one conditional update; a short SKU rolls back the ones already taken (a
    savepoint), so a failed attempt leaves nothing behind.
    """
    if len(items) == 1:
        # One conditional update takes all or nothing by itself: no savepoint round trips.
        ((sku_id, quantity),) = items.items()
        if not _take(session, org_id, sku_id, quantity):
            return False
        session.add(
            StockReservation(
                order_id=order_id, org_id=org_id, sku_id=sku_id, quantity=quantity, expires_at=expires_at
            )
        )
        session.flush()
        return True
    with session.begin_nested() as savepoint:
        for sku_id, quantity in sorted(items.items()):  # one order of rows: no deadlocks
            if not _take(session, org_id, sku_id, quantity):
                savepoint.rollback()
                return False
        for sku_id, quantity in items.items():
            session.add(
                StockReservation(
                    order_id=order_id, org_id=org_id, sku_id=sku_id, quantity=quantity, expires_at=expires_at
                )
            )
        session.flush()
    return True


def reserve_or_raise(
    session: Session, *, order_id: str, org_id: str, items: dict[str, int], expires_at: datetime | None
) -> None:
    if not reserve(session, order_id=order_id, org_id=org_id, items=items, expires_at=expires_at):
        raise OutOfStock("not enough stock for this order", field="items")


def _held(session: Session, order_id: str) -> list[StockReservation]:
    return list(
        session.scalars(
            select(StockReservation).where(
                StockReservation.order_id == order_id, StockReservation.status == "held"
            )
        )
    )


def release(session: Session, order_id: str) -> int:
    """Give back every unit the order still holds; returns how many units were released."""
    units = 0
    for r in _held(session, order_id):
        claimed = session.execute(
            update(StockReservation)
            .where(StockReservation.id == r.id, StockReservation.status == "held")
            .values(status="released")
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # released by a concurrent expiry job or cancel
        session.execute(
            update(StockLevel)
            .where(StockLevel.org_id == r.org_id, StockLevel.sku_id == r.sku_id)
            .values(reserved=StockLevel.reserved - r.quantity, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        units += r.quantity
    session.flush()
    return units


def keep(session: Session, order_id: str) -> str | None:
    """The order is paid: its reservations no longer expire. Returns the organisation holding
    them (as :func:`holder`), read by the same statement."""
    held = session.scalars(
        update(StockReservation)
        .where(StockReservation.order_id == order_id, StockReservation.status == "held")
        .values(expires_at=None)
        .returning(StockReservation.org_id)
        .execution_options(synchronize_session=False)
    ).all()
    return held[0] if held else None


def commit(session: Session, order_id: str) -> None:
    """The goods left the organisation (delivered or picked up): take them off stock."""
    for r in _held(session, order_id):
        session.execute(
            update(StockReservation)
            .where(StockReservation.id == r.id, StockReservation.status == "held")
            .values(status="committed")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(StockLevel)
            .where(StockLevel.org_id == r.org_id, StockLevel.sku_id == r.sku_id)
            .values(
                on_hand=StockLevel.on_hand - r.quantity,
                reserved=StockLevel.reserved - r.quantity,
                updated_at=func.now(),
            )
            .execution_options(synchronize_session=False)
        )
        session.add(
            StockMovement(
                org_id=r.org_id, sku_id=r.sku_id, delta=-r.quantity, reason="sale", reference=order_id
            )
        )
    session.flush()


def holder(session: Session, order_id: str) -> str | None:
    """The organisation holding the order's reserved stock, if any."""
    return session.scalar(
        select(StockReservation.org_id)
        .where(StockReservation.order_id == order_id, StockReservation.status == "held")
        .limit(1)
    )


def expired_order_ids(session: Session, now: datetime, limit: int = 500) -> list[str]:
    """Orders whose held reservations have expired (unpaid past the hold)."""
    return list(
        session.scalars(
            select(StockReservation.order_id)
            .where(StockReservation.status == "held", StockReservation.expires_at < now)
            .group_by(StockReservation.order_id)
            .limit(limit)
        )
    )


def get_stock(org_id: str, sku_id: str, *, session: Session) -> StockOut:
    row = session.scalars(
        select(StockLevel)
        .where(StockLevel.org_id == org_id, StockLevel.sku_id == sku_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no stock of {sku_id} at {org_id}", field="sku_id")
    return _out(row)


def list_stock(
    params: PageParams, *, session: Session, org_id: str | None = None, sku_id: str | None = None
) -> Page[StockOut]:
    """Stock rows, by organisation then SKU, optionally of one organisation or one SKU."""
    stmt = select(StockLevel).order_by(StockLevel.org_id, StockLevel.sku_id)
    if org_id:
        stmt = stmt.where(StockLevel.org_id == org_id)
    if sku_id:
        stmt = stmt.where(StockLevel.sku_id == sku_id)
    rows, total = paginate_rows(session, stmt, params)
    orgs: dict[str, str] = {}
    skus: dict[str, tuple[str, str]] = {}
    items = []
    for r in rows:
        if r.org_id not in orgs:
            try:
                orgs[r.org_id] = network.get_organization(r.org_id, session=session).name
            except NotFound:
                orgs[r.org_id] = ""
        if r.sku_id not in skus:
            try:
                sku = catalog.get_sku(r.sku_id, session=session)
                skus[r.sku_id] = (sku.sku_code, sku.name)
            except NotFound:
                skus[r.sku_id] = ("", "")
        items.append(_out(r, orgs[r.org_id], *skus[r.sku_id]))
    return Page(items=items, total=total, page=params.page, page_size=params.page_size)
