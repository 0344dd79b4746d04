"""Field sales (FMCG): reps' visit plans and routes over their stores, check-in on site, store
audits, orders taken during a visit and the distribution rate.

A rep's stores are the network accounts they own (``kind="network"``), located by the channel
network (``network.service``). Each store gets the visits a month its tier's policy sets, spread
evenly over the month's working days (Monday to Saturday) from today on; each day's stops are ordered
nearest-neighbour from the rep's start point (great-circle distance, ``core.geo``). A check-in
farther than ``CHECKIN_RADIUS_M`` from the store is refused (422 naming ``location``, with the
distance). Check-ins and orders are events (``visit.checked_in``, ``visit.order_taken``).
"""

from __future__ import annotations

import zlib
from calendar import monthrange
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.core.db import utcnow
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.events import append_event
from bcone.core.geo import distance_km
from bcone.crm._growth import policy_of, visible_owner_ids
from bcone.crm._records import Viewer, _check_user
from bcone.crm.models import Account, StoreAudit, Visit, VisitOrder, VisitPlan
from bcone.crm.schemas import (
    CheckInIn,
    DistributionRate,
    StoreAuditIn,
    StoreAuditOut,
    VisitOrderIn,
    VisitOrderOut,
    VisitOut,
    VisitPlanIn,
    VisitPlanOut,
    VisitPlanRun,
)
from bcone.network import service as network

CHECKIN_RADIUS_M = 300.0


class VisitNotFound(NotFound):
    code = "visit_not_found"
    title = "Visit not found"


class TooFarFromStore(ValidationFailed):
    code = "too_far_from_store"
    title = "Check-in too far from the store"


def working_days(year: int, month: int) -> list[date]:
    return [
        date(year, month, d)
        for d in range(1, monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() < 6
    ]


def visit_days(days: list[date], times: int, key: str) -> list[date]:
    """``times`` days spread evenly over ``days``, offset by a stable hash of ``key`` (so stores
    of one rep do not all fall on the same days)."""
    if times <= 0 or not days:
        return []
    times = min(times, len(days))
    step = len(days) / times
    offset = (zlib.crc32(key.encode()) % 1000) / 1000 * step
    return [days[min(len(days) - 1, int(offset + i * step))] for i in range(times)]


def nearest_neighbour(
    start: tuple[float, float], stops: list[tuple[str, float, float]]
) -> list[tuple[str, float]]:
    """Stops ordered by nearest neighbour from ``start`` (lng, lat): (id, leg km) each."""
    here = start
    left = list(stops)
    route = []
    while left:
        i = min(
            range(len(left)),
            key=lambda j: (distance_km(here[0], here[1], left[j][1], left[j][2]), left[j][0]),
        )
        sid, lng, lat = left.pop(i)
        route.append((sid, distance_km(here[0], here[1], lng, lat)))
        here = (lng, lat)
    return route


def _rep_for(session: Session, viewer: Viewer, rep_user_id: str | None) -> str:
    rep = rep_user_id or viewer.user_id
    if rep is None:
        raise ValidationFailed("rep_user_id is required", field="rep_user_id")
    owners = visible_owner_ids(session, viewer)
    if owners is not None and rep not in owners:
        raise Forbidden("plans of reps outside your team", field="rep_user_id")
    if rep != viewer.user_id:
        _check_user(session, rep, "rep_user_id")
    return rep


def plan_visits(data: VisitPlanIn, *, session: Session, viewer: Viewer) -> VisitPlanRun:
    """Plan a rep's month: every day with visits gets one plan and route. Days planned before
    are kept as they are (idempotent), so planning the month again creates nothing."""
    rep = _rep_for(session, viewer, data.rep_user_id)
    year, month = (int(x) for x in data.month.split("-"))
    month_days = working_days(year, month)
    days = [d for d in month_days if d >= date.today()]  # the days left: no visit in the past
    if not days:
        raise ValidationFailed(f"{data.month} has no working day left to plan", field="month")
    stores = list(
        session.scalars(
            select(Account)
            .where(Account.kind == "network", Account.owner_user_id == rep)
            .order_by(Account.id)
        )
    )
    by_day: dict[date, list[tuple[Account, float, float]]] = defaultdict(list)
    located = 0
    for acc in stores:
        if not acc.network_org_id:
            continue
        org = network.get_organization(acc.network_org_id, session=session)
        if org.lng is None or org.lat is None:
            continue
        located += 1
        for day in visit_days(days, policy_of(session, acc.tier).visits_per_month, acc.id):
            by_day[day].append((acc, org.lng, org.lat))
    planned = set(
        session.scalars(
            select(VisitPlan.plan_date).where(
                VisitPlan.rep_user_id == rep, VisitPlan.plan_date.between(days[0], days[-1])
            )
        )
    )
    created = visits = 0
    for day in sorted(by_day):
        if day in planned:
            continue
        stops = {a.id: (a, lng, lat) for a, lng, lat in by_day[day]}
        route = nearest_neighbour(
            (data.start_lng, data.start_lat), [(k, v[1], v[2]) for k, v in stops.items()]
        )
        plan = VisitPlan(
            rep_user_id=rep,
            plan_date=day,
            start_lng=data.start_lng,
            start_lat=data.start_lat,
            route_km=round(sum(km for _, km in route), 3),
        )
        try:
            with session.begin_nested():
                session.add(plan)
                session.flush()
                for seq, (acc_id, km) in enumerate(route, start=1):
                    acc = stops[acc_id][0]
                    session.add(
                        Visit(
                            plan_id=plan.id,
                            rep_user_id=rep,
                            visit_date=day,
                            account_id=acc.id,
                            org_id=acc.network_org_id,
                            store_name=acc.name,
                            sequence=seq,
                            leg_km=round(km, 3),
                            status="planned",
                        )
                    )
                session.flush()
        except IntegrityError:
            continue  # planned concurrently: theirs stands
        created += 1
        visits += len(route)
    total_plans = session.scalar(
        select(func.count())
        .select_from(VisitPlan)
        .where(VisitPlan.rep_user_id == rep, VisitPlan.plan_date.between(days[0], days[-1]))
    )
    total_visits = session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.rep_user_id == rep, Visit.visit_date.between(days[0], days[-1]))
    )
    return VisitPlanRun(
        rep_user_id=rep,
        month=data.month,
        stores=located,
        plans=int(total_plans or 0),
        visits=int(total_visits or 0),
        created=created,
    )


def _plan_out(session: Session, plan: VisitPlan) -> VisitPlanOut:
    stops = session.scalars(select(Visit).where(Visit.plan_id == plan.id).order_by(Visit.sequence))
    return VisitPlanOut(
        id=plan.id,
        rep_user_id=plan.rep_user_id,
        plan_date=plan.plan_date,
        start_lng=plan.start_lng,
        start_lat=plan.start_lat,
        route_km=plan.route_km,
        visits=[VisitOut.model_validate(v) for v in stops],
    )


def list_plans(
    *, session: Session, viewer: Viewer, date_from: date, date_to: date, rep_user_id: str | None = None
) -> list[VisitPlanOut]:
    """Visit plans between two dates: a rep's own, a manager's team's (or one rep's), or all."""
    if (date_to - date_from).days > 62:
        raise ValidationFailed("at most two months at a time", field="date_to")
    stmt = select(VisitPlan).where(VisitPlan.plan_date.between(date_from, date_to))
    owners = visible_owner_ids(session, viewer)
    if rep_user_id:
        if owners is not None and rep_user_id not in owners:
            raise Forbidden("plans of reps outside your team", field="rep_user_id")
        stmt = stmt.where(VisitPlan.rep_user_id == rep_user_id)
    elif owners is not None:
        stmt = stmt.where(VisitPlan.rep_user_id.in_(owners))
    plans = session.scalars(stmt.order_by(VisitPlan.plan_date, VisitPlan.rep_user_id))
    return [_plan_out(session, p) for p in plans]


def _visit_row(session: Session, visit_id: str, viewer: Viewer, *, lock: bool = False) -> Visit:
    stmt = select(Visit).where(Visit.id == visit_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    owners = visible_owner_ids(session, viewer)
    if row is None or (owners is not None and row.rep_user_id not in owners):
        raise VisitNotFound(f"no visit {visit_id}", field="visit_id")
    return row


def get_visit(visit_id: str, *, session: Session, viewer: Viewer) -> VisitOut:
    return VisitOut.model_validate(_visit_row(session, visit_id, viewer))


def check_in(visit_id: str, data: CheckInIn, *, session: Session, viewer: Viewer) -> VisitOut:
    """The rep checks in at the store: within ``CHECKIN_RADIUS_M`` of its location, else 422
    naming ``location`` with the distance. Checking in again returns the first check-in."""
    row = _visit_row(session, visit_id, viewer, lock=True)
    if viewer.user_id != row.rep_user_id:
        raise Forbidden("only the visit's rep checks in", field="visit_id")
    if row.status != "planned":
        return VisitOut.model_validate(row)
    org = network.get_organization(row.org_id, session=session)
    if org.lng is None or org.lat is None:
        raise Conflict("the store has no location", field="location")
    meters = distance_km(data.lng, data.lat, org.lng, org.lat) * 1000
    if meters > CHECKIN_RADIUS_M:
        raise TooFarFromStore(
            f"{meters:,.0f} m from the store; check in within {CHECKIN_RADIUS_M:,.0f} m",
            field="location",
            distance_m=round(meters, 1),
            radius_m=CHECKIN_RADIUS_M,
        )
    now = utcnow()
    row.status = "checked_in"
    row.checked_in_at = now
    row.check_lng, row.check_lat = data.lng, data.lat
    row.distance_m = round(meters, 1)
    append_event(
        session,
        type="visit.checked_in",
        event_id=f"visit.checked_in:{row.id}",
        ts=now,
        org_id=row.org_id,
        region=org.division_code if len(org.division_code) == 6 else None,
        properties={"visit_id": row.id, "rep_user_id": row.rep_user_id, "distance_m": row.distance_m},
    )
    session.flush()
    return VisitOut.model_validate(row)


def _checked_in(session: Session, visit_id: str, viewer: Viewer) -> Visit:
    row = _visit_row(session, visit_id, viewer, lock=True)
    if viewer.user_id != row.rep_user_id:
        raise Forbidden("only the visit's rep records it", field="visit_id")
    if row.status == "planned":
        raise Conflict("check in at the store first", field="visit_id")
    return row


def _check_skus(session: Session, skus: list[str], field: str) -> None:
    for i, code in enumerate(skus):
        try:
            catalog.get_sku_by_code(code, session=session)
        except NotFound as exc:
            raise ValidationFailed(f"no SKU {code!r}", field=f"{field}.{i}.sku") from exc


def record_audit(visit_id: str, data: StoreAuditIn, *, session: Session, viewer: Viewer) -> StoreAuditOut:
    """The store audit of a checked-in visit: facings, stock and price per SKU, and photos."""
    row = _checked_in(session, visit_id, viewer)
    skus = [line.sku for line in data.lines]
    if len(set(skus)) != len(skus):
        raise ValidationFailed("one line per SKU", field="lines")
    _check_skus(session, skus, "lines")
    for i, url in enumerate(data.photos):
        if not (url.startswith(("https://", "http://", "/crm/photos/"))):
            raise ValidationFailed("a photo is an uploaded file or an http(s) URL", field=f"photos.{i}")
    audit = StoreAudit(
        visit_id=row.id,
        org_id=row.org_id,
        lines=[line.model_dump() for line in data.lines],
        photos=list(data.photos),
        note=data.note,
        audited_by=viewer.user_id,
    )
    session.add(audit)
    row.status = "done"
    session.flush()
    return StoreAuditOut.model_validate(audit)


def take_order(visit_id: str, data: VisitOrderIn, *, session: Session, viewer: Viewer) -> VisitOrderOut:
    """An order taken at the store during a checked-in visit (event ``visit.order_taken``)."""
    row = _checked_in(session, visit_id, viewer)
    _check_skus(session, [line.sku for line in data.lines], "lines")
    total = sum(line.quantity * line.price_fen for line in data.lines)
    order = VisitOrder(
        visit_id=row.id,
        org_id=row.org_id,
        lines=[line.model_dump() for line in data.lines],
        total_fen=total,
        taken_by=viewer.user_id,
    )
    session.add(order)
    session.flush()
    append_event(
        session,
        type="visit.order_taken",
        event_id=f"visit.order_taken:{order.id}",
        ts=order.taken_at,
        org_id=row.org_id,
        amount=total,
        properties={"visit_id": row.id, "order_id": order.id, "lines": order.lines},
    )
    return VisitOrderOut.model_validate(order)


def visit_records(
    visit_id: str, *, session: Session, viewer: Viewer
) -> tuple[list[StoreAuditOut], list[VisitOrderOut]]:
    row = _visit_row(session, visit_id, viewer)
    audits = session.scalars(
        select(StoreAudit).where(StoreAudit.visit_id == row.id).order_by(StoreAudit.audited_at)
    )
    orders = session.scalars(
        select(VisitOrder).where(VisitOrder.visit_id == row.id).order_by(VisitOrder.taken_at)
    )
    return [StoreAuditOut.model_validate(a) for a in audits], [
        VisitOrderOut.model_validate(o) for o in orders
    ]


def distribution_rate(
    sku: str, *, session: Session, viewer: Viewer, date_from: date | None = None, date_to: date | None = None
) -> DistributionRate:
    """Stores carrying the SKU (facings > 0 at their latest audit in the period) over stores
    audited in the period, within the viewer's scope."""
    date_to = date_to or date.today()
    date_from = date_from or date_to - timedelta(days=30)
    if date_from > date_to:
        raise ValidationFailed("date_from is after date_to", field="date_from")
    stmt = (
        select(StoreAudit.org_id, StoreAudit.lines, StoreAudit.audited_at, StoreAudit.id)
        .join(Visit, Visit.id == StoreAudit.visit_id)
        .where(Visit.visit_date.between(date_from, date_to))
        .order_by(StoreAudit.audited_at, StoreAudit.id)
    )
    owners = visible_owner_ids(session, viewer)
    if owners is not None:
        stmt = stmt.where(Visit.rep_user_id.in_(owners))
    latest: dict[str, list[dict[str, object]]] = {}
    for org_id, lines, _at, _id in session.execute(stmt):
        latest[org_id] = lines
    carrying = sum(
        1
        for lines in latest.values()
        if any(line.get("sku") == sku and int(str(line.get("facings", 0))) > 0 for line in lines)
    )
    visited = len(latest)
    return DistributionRate(
        sku=sku,
        date_from=date_from,
        date_to=date_to,
        stores_visited=visited,
        stores_carrying=carrying,
        rate=round(carrying / visited, 4) if visited else None,
    )
