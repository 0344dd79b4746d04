"""EPCIS 2.0 JSON-LD: a code's history as an ``EPCISDocument`` (GS1 EPCIS 2.0 / CBV 2.0).

Codes appear as GS1 Digital Link URIs (``https://{resolver host}/01/{GTIN}/21/{serial}``), the
form EPCIS 2.0 accepts for instance-level identifiers; organisations as
``urn:bcone:org:{id}`` and divisions as ``urn:bcone:division:{code}``. Event times are given
in China Standard Time (``+08:00``), with ``eventTimeZoneOffset``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.codes._batches import aware
from bcone.codes._packing import _one_unit, event_rows_for
from bcone.codes._space import resolver_host, space_of
from bcone.codes.models import CodeBatch, CodeEvent, CodeUnit
from bcone.core.tenancy import current_tenant

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CST = timezone(timedelta(hours=8))

# kind -> (EPCIS type, action, CBV bizStep, CBV disposition)
_MAPPING: dict[str, tuple[str, str, str, str]] = {
    "commission": ("ObjectEvent", "ADD", "commissioning", "active"),
    "aggregate": ("AggregationEvent", "ADD", "packing", "in_progress"),
    "disaggregate": ("AggregationEvent", "DELETE", "unpacking", "in_progress"),
    "ship": ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    "receive": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "open": ("AggregationEvent", "DELETE", "unpacking", "sellable_accessible"),
}


def _time(value: datetime) -> str:
    moment = aware(value) or value.replace(tzinfo=UTC)
    return moment.astimezone(CST).isoformat(timespec="milliseconds")


def _org(org_id: str) -> str:
    return f"urn:bcone:org:{org_id}"


def event_json(event: CodeEvent, epcs: list[str], uri: dict[str, str]) -> dict[str, Any]:
    """One event as EPCIS 2.0 JSON-LD."""
    kind, action, biz_step, disposition = _MAPPING[event.kind]
    out: dict[str, Any] = {
        "type": kind,
        "eventID": f"urn:uuid:{event.id}" if len(event.id) == 36 else f"urn:bcone:event:{event.id}",
        "eventTime": _time(event.event_time),
        "eventTimeZoneOffset": "+08:00",
        "action": action,
        "bizStep": biz_step,
        "disposition": disposition,
    }
    links = [uri.get(s, s) for s in epcs]
    if kind == "AggregationEvent":
        assert event.parent_serial is not None
        out["parentID"] = uri.get(event.parent_serial, event.parent_serial)
        out["childEPCs"] = links
    else:
        out["epcList"] = links
    if event.read_point:
        out["readPoint"] = {"id": f"urn:bcone:division:{event.read_point}"}
    if event.destination_org_id and event.kind == "receive":
        out["bizLocation"] = {"id": _org(event.destination_org_id)}
    if event.kind == "ship":
        if event.source_org_id:
            out["sourceList"] = [{"type": "owning_party", "source": _org(event.source_org_id)}]
        if event.destination_org_id:
            out["destinationList"] = [{"type": "owning_party", "destination": _org(event.destination_org_id)}]
    return out


def _uris(session: Session, serials: set[str]) -> dict[str, str]:
    host = resolver_host(space_of(session))
    tenant_id = current_tenant(session)
    stmt = (
        select(CodeUnit.serial, CodeBatch.gtin)
        .join(CodeBatch, CodeBatch.id == CodeUnit.batch_id)
        .where(CodeUnit.tenant_id == tenant_id, CodeUnit.serial.in_(serials))
    )
    return {serial: f"https://{host}/01/{gtin}/21/{serial}" for serial, gtin in session.execute(stmt)}


def code_history(serial: str, *, session: Session, secret_key: str) -> dict[str, Any]:
    """The EPCIS document of every event a commissioned code took part in (422 if not ours)."""
    unit = _one_unit(session, serial, secret_key=secret_key, field="serial")
    rows = event_rows_for(session, unit.serial)
    named: set[str] = {unit.serial}
    for event, epcs in rows:
        named.update(epcs)
        if event.parent_serial:
            named.add(event.parent_serial)
    uri = _uris(session, named)
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(CST).isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": [event_json(e, epcs, uri) for e, epcs in rows]},
    }
