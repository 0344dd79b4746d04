"""Authenticity checks: what a consumer's scan of ``/01/{gtin}/21/{serial}`` answers and records.

**Which tenant.** The printed URL carries no tenant. The GTIN names the candidates (the tenants
with a batch of that GTIN: one, except when two brands share a barcode); the serial's key
version and check tag then pick the one whose key made it, with no further read, and its counter
must fall in one of that tenant's batches *of that GTIN*. A serial valid for one tenant's key
fails the tag of every other tenant's key (1 in 32,768 passes by chance, and then still has to
land in an issued range).

**Counting.** A code's first check inserts its ``code_states`` row; later checks increment it,
in one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: the database serialises
concurrent checks of one code, each gets its own count, and exactly one gets 1 (the "first").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.codes import _cache
from bcone.codes._batches import aware, batch_out, batch_row
from bcone.codes._cache import BatchInfo, database_key
from bcone.codes._diversion import check_diversion, scan_holder
from bcone.codes._export import digital_link, parse_digital_link
from bcone.codes._serials import Decoded, check_serial
from bcone.codes._space import (
    TenantKeys,
    batch_for_counter,
    resolver_host,
    space_of,
    warn_threshold,
)
from bcone.codes.errors import CodeNotGenuine, InvalidDigitalLink, InvalidSerial
from bcone.codes.models import CodeBatch, CodeCheck, CodeState
from bcone.codes.schemas import CheckOut, CheckRecord, CheckVerdict, CodeLookupOut, Location, ProductInfo
from bcone.core import geo
from bcone.core.db import utcnow
from bcone.core.errors import NotFound
from bcone.core.events import append_event
from bcone.core.gs1 import normalize_gtin
from bcone.core.ids import new_id
from bcone.core.tenancy import bind_tenant, unscoped

EVENT_TYPE = "code.scanned"
MAX_SERIAL_ECHO = 64


def _gtin(value: str) -> str:
    try:
        return normalize_gtin(value)
    except ValueError as exc:
        raise InvalidDigitalLink(str(exc), field="gtin") from None


def _product(session: Session, batch: BatchInfo) -> ProductInfo | None:
    def load() -> ProductInfo | None:
        try:
            sku = catalog.get_sku(batch.sku_id, session=session)
        except NotFound:
            return None
        return ProductInfo(
            sku_id=sku.id,
            sku_code=sku.sku_code,
            name=sku.name,
            product_name=sku.product_name,
            specification=sku.specification,
            gtin=batch.gtin,
        )

    key = (database_key(session), batch.tenant_id, batch.sku_id)
    return cast(ProductInfo | None, _cache.products.get(key, load))


def _batch_info(session: Session, tenant_id: str, batch_id: str) -> BatchInfo:
    def load() -> BatchInfo:
        row = batch_row(session, batch_id)
        return BatchInfo(
            id=row.id,
            tenant_id=row.tenant_id,
            sku_id=row.sku_id,
            sku_code=row.sku_code,
            gtin=row.gtin,
            level=row.level,
            lot=row.lot,
            production_date=row.production_date,
            expiry_date=row.expiry_date,
            regions=tuple(row.regions or ()),
            status=row.status,
        )

    return _cache.batches.get((database_key(session), tenant_id, batch_id), load)


def _tenants_of(session: Session, gtin: str) -> tuple[str, ...]:
    def load() -> tuple[str, ...]:
        stmt = (
            select(CodeBatch.tenant_id).where(CodeBatch.gtin == gtin).distinct().order_by(CodeBatch.tenant_id)
        )
        return tuple(session.scalars(stmt))

    return _cache.gtin_tenants.get((database_key(session), gtin), load)


def _threshold(session: Session, tenant_id: str) -> int:
    return _cache.thresholds.get((database_key(session), tenant_id), lambda: warn_threshold(session))


_STATES = cast(Table, CodeState.__table__)
_CHECKS = cast(Table, CodeCheck.__table__)
_STATE_VALUES: dict[str, Any] = {
    name: bindparam(name)
    for name in (
        "id",
        "tenant_id",
        "serial",
        "batch_id",
        "first_checked_at",
        "first_region",
        "first_lat",
        "first_lng",
        "last_checked_at",
    )
}


def _count_statement(dialect: str) -> Any:
    """One statement counts a check: insert the code's state, or add one to it; returns the count."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(_STATES).values(check_count=1, **_STATE_VALUES)
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "serial"],
        set_={"check_count": _STATES.c.check_count + 1, "last_checked_at": stmt.excluded.last_checked_at},
    ).returning(_STATES.c.check_count, _STATES.c.first_checked_at, _STATES.c.first_region)


_COUNT = {dialect: _count_statement(dialect) for dialect in ("postgresql", "sqlite")}
_RECORD = insert(_CHECKS)
# PostgreSQL counts the check and writes its history row in one statement (a data-modifying CTE):
# one round trip less on every scan. SQLite has no INSERT in a WITH clause: two statements there.
_COUNT_AND_RECORD = text(
    """
    WITH s AS (
        INSERT INTO code_states (id, tenant_id, serial, batch_id, check_count, first_checked_at,
                                 first_region, first_lat, first_lng, last_checked_at)
        VALUES (:id, :tenant_id, :serial, :batch_id, 1, :first_checked_at,
                :first_region, :first_lat, :first_lng, :last_checked_at)
        ON CONFLICT (tenant_id, serial) DO UPDATE
        SET check_count = code_states.check_count + 1, last_checked_at = excluded.last_checked_at
        RETURNING check_count, first_checked_at, first_region
    ), c AS (
        INSERT INTO code_checks (id, tenant_id, serial, batch_id, ordinal, checked_at, region, lat, lng)
        SELECT CAST(:check_id AS VARCHAR), CAST(:tenant_id AS VARCHAR), CAST(:serial AS VARCHAR),
               CAST(:batch_id AS VARCHAR), s.check_count, CAST(:last_checked_at AS TIMESTAMPTZ),
               CAST(:first_region AS VARCHAR), CAST(:first_lat AS DOUBLE PRECISION),
               CAST(:first_lng AS DOUBLE PRECISION)
        FROM s
    )
    SELECT check_count, first_checked_at, first_region FROM s
    """
)


def _region(location: Location) -> str | None:
    if location.region:
        return geo.require_division(location.region, field="region").code
    if location.lat is not None and location.lng is not None:
        return geo.nearest_division(location.lng, location.lat).code
    return None


def _match(
    session: Session, gtin: str, serial: str, secret_key: str
) -> tuple[str | None, Decoded | str, BatchInfo | None]:
    """(tenant, decoded serial or the reason it failed, batch) for a scanned GTIN and serial."""
    unscoped(session)
    tenants = _tenants_of(session, gtin)
    if not tenants:
        return None, "unknown", None
    outcome: Decoded | str = "unknown"
    for tenant_id in tenants:
        result = check_serial(serial, TenantKeys(session, tenant_id, secret_key))
        if isinstance(result, str):
            outcome = result if outcome == "unknown" else outcome
            continue
        batch_id = batch_for_counter(session, tenant_id, result.counter)
        if batch_id is None:
            continue
        bind_tenant(session, tenant_id)
        batch = _batch_info(session, tenant_id, batch_id)
        if batch.gtin == gtin:
            return tenant_id, result, batch
        unscoped(session)
    bind_tenant(session, tenants[0])
    return tenants[0], outcome, None


def tenant_of(gtin: str, serial: str, *, session: Session, secret_key: str) -> str | None:
    """The tenant whose code this is (or whose GTIN it names), without recording anything."""
    tenant_id, _, _ = _match(session, _gtin(gtin), serial.strip()[:MAX_SERIAL_ECHO], secret_key)
    return tenant_id


def check_code(
    gtin: str,
    serial: str,
    location: Location,
    *,
    session: Session,
    secret_key: str,
    identities: Sequence[tuple[str, str]] | None = None,
    identity_tenant: str | None = None,
) -> CheckOut:
    """Check a scanned code and record the check (state, history, ``code.scanned`` event).

    ``session`` is a write unit of work bound to no tenant: the code names its tenant. Unknown
    GTINs record nothing (no tenant to record for); every other check appends an event.
    ``identities`` (the consumer's, proven for ``identity_tenant``) go into the event when that
    is the code's tenant.
    """
    gtin = _gtin(gtin)
    serial = serial.strip()[:MAX_SERIAL_ECHO]  # longer is malformed anyway; never store more
    region = _region(location)
    tenant_id, decoded, batch = _match(session, gtin, serial, secret_key)
    if tenant_id is None:
        return CheckOut(verdict="unknown", genuine=False, gtin=gtin, serial=serial)
    who = list(identities or ()) if identity_tenant == tenant_id else None
    properties: dict[str, object] = {"gtin": gtin, "serial": serial}
    if location.lat is not None:
        properties.update(lat=location.lat, lng=location.lng)
    if batch is None or not isinstance(decoded, Decoded):
        verdict: CheckVerdict = "forged" if decoded in ("bad_tag", "unknown_key", "malformed") else "unknown"
        append_event(
            session,
            type=EVENT_TYPE,
            region=region,
            identities=who,
            properties={**properties, "verdict": verdict},
        )
        return CheckOut(verdict=verdict, genuine=False, gtin=gtin, serial=serial)
    serial = decoded.serial
    properties.update(serial=serial, batch_id=batch.id, lot=batch.lot)
    details = {
        "gtin": gtin,
        "serial": serial,
        "product": _product(session, batch),
        "batch_id": batch.id,
        "lot": batch.lot,
        "level": batch.level,
        "production_date": batch.production_date,
        "expiry_date": batch.expiry_date,
    }
    if batch.status == "voided":
        append_event(
            session,
            type=EVENT_TYPE,
            sku=batch.sku_code,
            region=region,
            identities=who,
            properties={**properties, "verdict": "voided"},
        )
        return CheckOut(verdict="voided", genuine=False, **details)
    now = utcnow()
    connection = session.connection()
    check_id = new_id()
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "serial": serial,
        "batch_id": batch.id,
        "first_checked_at": now,
        "first_region": region,
        "first_lat": location.lat,
        "first_lng": location.lng,
        "last_checked_at": now,
    }
    if connection.dialect.name == "postgresql":
        count, first_at, first_region = connection.execute(
            _COUNT_AND_RECORD, {**values, "check_id": check_id}
        ).one()
    else:
        count, first_at, first_region = connection.execute(_COUNT["sqlite"], values).one()
        connection.execute(
            _RECORD,
            {
                "id": check_id,
                "tenant_id": tenant_id,
                "serial": serial,
                "batch_id": batch.id,
                "ordinal": count,
                "checked_at": now,
                "region": region,
                "lat": location.lat,
                "lng": location.lng,
            },
        )
    threshold = _threshold(session, tenant_id)
    verdict = "genuine" if count == 1 else ("checked_before" if count <= threshold else "suspicious")
    # The store (or distributor) the unit was shipped to: analytics credits the scan to it.
    holder = scan_holder(session, serial)
    append_event(
        session,
        type=EVENT_TYPE,
        event_id=f"{EVENT_TYPE}:{check_id}",
        ts=now,
        sku=batch.sku_code,
        region=region,
        org_id=holder,
        identities=who,
        properties={**properties, "verdict": verdict, "check_count": count},
    )
    check_diversion(
        session,
        serial=serial,
        batch=batch,
        region=region,
        lat=location.lat,
        lng=location.lng,
        holder_org_id=holder,
    )
    place = None
    if first_region and (division := geo.get_division(first_region)) is not None:
        place = "".join([d.name for d in geo.ancestors(first_region)] + [division.name])
    return CheckOut(
        verdict=verdict,
        genuine=True,
        check_count=count,
        first_checked_at=aware(first_at),
        first_region=first_region,
        first_region_name=place,
        warn_threshold=threshold,
        **details,
    )


def lookup_code(code: str, *, session: Session, secret_key: str) -> CodeLookupOut:
    """A code of the bound tenant, pasted as its URL or its serial: batch, state and checks.

    422 ``invalid_serial`` / ``invalid_digital_link`` for what cannot be one of our codes; 404
    ``code_not_genuine`` for a well-formed code in no batch of this tenant.
    """
    text = code.strip()
    gtin: str | None = None
    if "/" in text:
        link = parse_digital_link(text)
        gtin, serial = link.gtin, link.serial
    else:
        serial = text
    tenant_id = str(session.info["tenant_id"])
    decoded = check_serial(serial, TenantKeys(session, tenant_id, secret_key))
    if isinstance(decoded, str):
        raise InvalidSerial(f"not a code of this brand ({decoded.replace('_', ' ')})", field="code")
    batch_id = batch_for_counter(session, tenant_id, decoded.counter)
    if batch_id is None:
        raise CodeNotGenuine("no batch of this brand holds this code", field="code")
    batch = batch_row(session, batch_id)
    if gtin is not None and gtin != batch.gtin:
        raise CodeNotGenuine(f"this code belongs to GTIN {batch.gtin}, not {gtin}", field="code")
    state = session.scalars(select(CodeState).where(CodeState.serial == decoded.serial)).one_or_none()
    checks = session.scalars(
        select(CodeCheck).where(CodeCheck.serial == decoded.serial).order_by(CodeCheck.ordinal)
    ).all()
    return CodeLookupOut(
        gtin=batch.gtin,
        serial=decoded.serial,
        url=digital_link(resolver_host(space_of(session)), batch_out(batch), decoded.serial),
        batch=batch_out(batch),
        check_count=state.check_count if state else 0,
        first_checked_at=aware(state.first_checked_at) if state else None,
        checks=[
            CheckRecord(
                ordinal=c.ordinal,
                checked_at=aware(c.checked_at) or c.checked_at,
                region=c.region,
                lat=c.lat,
                lng=c.lng,
            )
            for c in checks
        ],
    )
