"""Channel diversion (窜货): a genuine code scanned outside the regions it was meant for.

A scan with a location (coordinates turned into a district with ``core.geo``, or a division
code) is compared with

1. the sales regions of the organisation the code was shipped to (its top container's holder,
   :func:`bcone.codes._packing.whereabouts_of`; a store or wholesaler without regions of its own
   is judged by its distributor's), reason ``outside_sales_region``;
2. the batch's planned regions, when it has any, reason ``outside_batch_region``.

A region covers the scan when it is the scan's division or one above it. **Tolerance**: a scan
at most ``tolerance_km`` beyond a region is accepted, the distance beyond being the distance to
the region's centroid minus the region's radius (the farthest centroid of its sub-divisions),
an approximation without boundaries. **Exceptions** allow a distributor in a division (and
everything inside it). Every alert is a ``code_diversion_alerts`` row and a ``code.diverted``
outbox event, in the scan's transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bcone.codes._cache import BatchInfo
from bcone.codes._packing import whereabouts_of
from bcone.codes.errors import DiversionAlertNotFound
from bcone.codes.models import CodeDiversionAlert, CodeDiversionException, CodeDiversionRule
from bcone.codes.schemas import (
    DiversionAlertOut,
    DiversionExceptionIn,
    DiversionExceptionOut,
    DiversionGroupOut,
    DiversionRulesIn,
)
from bcone.core import geo
from bcone.core.db import utcnow
from bcone.core.errors import Conflict, NotFound
from bcone.core.events import append_event
from bcone.core.ids import new_id
from bcone.core.tenancy import current_tenant
from bcone.network import service as network
from bcone.network.schemas import OrganizationOut

EVENT_TYPE = "code.diverted"


@lru_cache(maxsize=4096)
def _radius_km(code: str) -> float:
    region = geo.get_division(code)
    if region is None:
        return 0.0
    return max(
        (geo.distance_km(region.lng, region.lat, c.lng, c.lat) for c in geo.children(code)), default=0.0
    )


def km_beyond(regions: list[str], lng: float, lat: float) -> float | None:
    """How far the point lies beyond the nearest of ``regions`` (0 inside its radius)."""
    best: float | None = None
    for code in regions:
        region = geo.get_division(code)
        if region is None:
            continue
        beyond = max(0.0, geo.distance_km(lng, lat, region.lng, region.lat) - _radius_km(code))
        best = beyond if best is None else min(best, beyond)
    return best


def _covers(regions: list[str], division: str) -> bool:
    return any(geo.contains(r, division) for r in regions)


def tolerance_km(session: Session) -> int:
    rule = session.scalars(
        select(CodeDiversionRule).where(CodeDiversionRule.tenant_id == current_tenant(session))
    ).one_or_none()
    return rule.tolerance_km if rule else 0


def set_rules(data: DiversionRulesIn, *, session: Session) -> DiversionRulesIn:
    tenant_id = current_tenant(session)
    rule = session.scalars(
        select(CodeDiversionRule).where(CodeDiversionRule.tenant_id == tenant_id)
    ).one_or_none()
    if rule is None:
        session.add(CodeDiversionRule(tenant_id=tenant_id, tolerance_km=data.tolerance_km))
    else:
        rule.tolerance_km = data.tolerance_km
    session.flush()
    return data


def _exception_out(row: CodeDiversionException) -> DiversionExceptionOut:
    return DiversionExceptionOut(
        id=row.id, distributor_id=row.distributor_id, division_code=row.division_code, note=row.note
    )


def add_exception(data: DiversionExceptionIn, *, session: Session) -> DiversionExceptionOut:
    """Allow a distributor in a region (and all divisions inside it)."""
    geo.require_division(data.division_code, field="division_code")
    try:
        org = network.get_organization(data.distributor_id, session=session)
    except NotFound:
        raise NotFound(f"no organisation {data.distributor_id}", field="distributor_id") from None
    if org.kind != "distributor":
        raise Conflict("exceptions are granted to distributors", field="distributor_id")
    dup = session.scalars(
        select(CodeDiversionException).where(
            CodeDiversionException.tenant_id == current_tenant(session),
            CodeDiversionException.distributor_id == data.distributor_id,
            CodeDiversionException.division_code == data.division_code,
        )
    ).first()
    if dup is not None:
        raise Conflict("this exception exists already", field="division_code")
    row = CodeDiversionException(
        id=new_id(),
        tenant_id=current_tenant(session),
        distributor_id=data.distributor_id,
        division_code=data.division_code,
        note=data.note,
    )
    session.add(row)
    session.flush()
    return _exception_out(row)


def list_exceptions(*, session: Session) -> list[DiversionExceptionOut]:
    stmt = select(CodeDiversionException).where(CodeDiversionException.tenant_id == current_tenant(session))
    return [_exception_out(r) for r in session.scalars(stmt.order_by(CodeDiversionException.division_code))]


def _expected(session: Session, org_id: str) -> tuple[OrganizationOut | None, str | None, list[str]]:
    try:
        org = network.get_organization(org_id, session=session)
    except NotFound:
        return None, None, []
    distributor_id = org.id if org.kind == "distributor" else org.distributor_id
    regions = list(org.sales_regions)
    if not regions and distributor_id and distributor_id != org.id:
        try:
            regions = list(network.get_organization(distributor_id, session=session).sales_regions)
        except NotFound:
            regions = []
    return org, distributor_id, regions


def scan_holder(session: Session, serial: str) -> str | None:
    """The organisation holding a scanned unit (shipped to it, or its case opened there)."""
    where = whereabouts_of(session, serial)
    return where.holder_org_id if where else None


def check_diversion(
    session: Session,
    *,
    serial: str,
    batch: BatchInfo,
    region: str | None,
    lat: float | None,
    lng: float | None,
    holder_org_id: str | None,
) -> DiversionAlertOut | None:
    """Compare a genuine scan's place with where its code should be; record an alert if not.

    ``holder_org_id`` is the organisation the unit was shipped to (:func:`scan_holder`)."""
    if region is None:
        return None
    division = geo.get_division(region)
    if division is None:
        return None
    point_lng, point_lat = (lng, lat) if lng is not None and lat is not None else (division.lng, division.lat)
    org_id = holder_org_id
    distributor_id: str | None = None
    reason: str | None = None
    expected: list[str] = []
    if org_id is not None:
        _, distributor_id, regions = _expected(session, org_id)
        if regions and not _covers(regions, region):
            reason, expected = "outside_sales_region", regions
    planned = list(batch.regions or [])
    if reason is None and planned and not _covers(planned, region):
        reason, expected = "outside_batch_region", planned
    if reason is None:
        return None
    beyond = km_beyond(expected, point_lng, point_lat)
    if beyond is not None and beyond <= tolerance_km(session):
        return None
    tenant_id = current_tenant(session)
    if distributor_id is not None:
        allowed = session.scalars(
            select(CodeDiversionException.division_code).where(
                CodeDiversionException.tenant_id == tenant_id,
                CodeDiversionException.distributor_id == distributor_id,
            )
        ).all()
        if _covers(list(allowed), region):
            return None
    province = geo.province_of(region)
    now = utcnow()
    # One open alert per (distributor, SKU, scan division): a repeat counts as an occurrence of
    # it (one upsert on the partial unique index of open alerts), so a flood of scans of diverted
    # goods is one alert to handle, with its count. Every scan still appends its event.
    group_key = f"{distributor_id or '-'}|{batch.sku_code}|{region}"[:120]
    table = cast(Table, CodeDiversionAlert.__table__)
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "serial": serial,
        "batch_id": batch.id,
        "sku_code": batch.sku_code,
        "reason": reason,
        "org_id": org_id,
        "distributor_id": distributor_id,
        "region": region,
        "province": province.code if province else region,
        "expected_regions": expected,
        "distance_km": round(beyond, 1) if beyond is not None else None,
        "lat": lat,
        "lng": lng,
        "detected_at": now,
        "group_key": group_key,
        "occurrences": 1,
        "last_seen_at": now,
        "status": "open",
    }
    insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    alert_id = session.execute(
        insert.values(**values)
        .on_conflict_do_update(
            index_elements=["tenant_id", "group_key"],
            index_where=text("status = 'open'"),
            set_={"occurrences": table.c.occurrences + 1, "last_seen_at": now},
        )
        .returning(table.c.id)
    ).scalar_one()
    append_event(
        session,
        type=EVENT_TYPE,
        event_id=f"{EVENT_TYPE}:{new_id()}",
        ts=now,
        org_id=distributor_id,
        sku=batch.sku_code,
        region=region,
        properties={
            "serial": serial,
            "batch_id": batch.id,
            "reason": reason,
            "shipped_to": org_id,
            "expected_regions": expected,
            "distance_km": values["distance_km"],
            "lat": lat,
            "lng": lng,
            "alert_id": alert_id,
        },
    )
    row = session.scalars(
        select(CodeDiversionAlert)
        .where(CodeDiversionAlert.id == alert_id)
        .execution_options(populate_existing=True)
    ).one()
    return _alert_out(row)


def close_alert(alert_id: str, *, session: Session) -> DiversionAlertOut:
    """Mark an alert handled: the next out-of-region scan of its group opens a new one."""
    row = session.scalars(select(CodeDiversionAlert).where(CodeDiversionAlert.id == alert_id)).one_or_none()
    if row is None:
        raise DiversionAlertNotFound(f"no diversion alert {alert_id}", field="alert_id")
    row.status = "closed"
    session.flush()
    return _alert_out(row)


def _alert_out(row: CodeDiversionAlert) -> DiversionAlertOut:
    detected: datetime = row.detected_at
    if detected.tzinfo is None:
        from datetime import UTC

        detected = detected.replace(tzinfo=UTC)
    return DiversionAlertOut(
        id=row.id,
        serial=row.serial,
        batch_id=row.batch_id,
        sku_code=row.sku_code,
        reason=row.reason,
        org_id=row.org_id,
        distributor_id=row.distributor_id,
        region=row.region,
        province=row.province,
        expected_regions=list(row.expected_regions or []),
        distance_km=row.distance_km,
        lat=row.lat,
        lng=row.lng,
        detected_at=detected,
        occurrences=row.occurrences or 1,
        last_seen_at=_utc(row.last_seen_at) if row.last_seen_at else detected,
        status=row.status or "open",
    )


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def list_alerts(
    *,
    session: Session,
    distributor_id: str | None = None,
    sku_code: str | None = None,
    province: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[DiversionAlertOut]:
    """Alerts (one per group and open period), latest seen first, filtered by distributor, SKU,
    province and status (``open``/``closed``)."""
    stmt = select(CodeDiversionAlert).where(CodeDiversionAlert.tenant_id == current_tenant(session))
    if distributor_id:
        stmt = stmt.where(CodeDiversionAlert.distributor_id == distributor_id)
    if sku_code:
        stmt = stmt.where(CodeDiversionAlert.sku_code == sku_code)
    if province:
        stmt = stmt.where(CodeDiversionAlert.province == province)
    if status:
        stmt = stmt.where(CodeDiversionAlert.status == status)
    last = func.coalesce(CodeDiversionAlert.last_seen_at, CodeDiversionAlert.detected_at)
    stmt = stmt.order_by(last.desc(), CodeDiversionAlert.id).limit(limit)
    return [_alert_out(r) for r in session.scalars(stmt)]


def alert_groups(*, session: Session) -> list[DiversionGroupOut]:
    """Alert counts by distributor, SKU and province, largest first."""
    a = CodeDiversionAlert
    stmt = (
        select(
            a.distributor_id,
            a.sku_code,
            a.province,
            func.sum(a.occurrences),
            func.max(func.coalesce(a.last_seen_at, a.detected_at)),
        )
        .where(a.tenant_id == current_tenant(session))
        .group_by(a.distributor_id, a.sku_code, a.province)
        .order_by(func.sum(a.occurrences).desc(), a.sku_code, a.province)
    )
    out = []
    for distributor_id, sku_code, province, count, last_at in session.execute(stmt):
        count = int(count or 0)
        if isinstance(last_at, str):  # SQLite returns max(coalesce(...)) of datetimes as text
            last_at = datetime.fromisoformat(last_at)
        if last_at.tzinfo is None:
            from datetime import UTC

            last_at = last_at.replace(tzinfo=UTC)
        out.append(
            DiversionGroupOut(
                distributor_id=distributor_id,
                sku_code=sku_code,
                province=province,
                alerts=count,
                last_at=last_at,
            )
        )
    return out
