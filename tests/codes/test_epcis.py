"""EPCIS 2.0 JSON-LD export of a code's history."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from bcone.codes import service
from bcone.codes._epcis import CONTEXT
from tests.codes.conftest import GTIN14, TenantSession
from tests.codes.test_packing import Line
from tests.codes.test_packing import line as line


def test_history_of_a_unit_shipped_in_a_pallet(
    line: Line, tenant_session: TenantSession, secret: str, owner_client: TestClient
) -> None:
    unit, case, pallet = line.units[0], line.cases[0], line.pallets[0]
    with tenant_session() as s:
        service.commission([*line.units[:3], case, pallet], session=s, secret_key=secret)
        service.aggregate(case, line.units[:3], session=s, secret_key=secret)
        service.aggregate(pallet, [case], session=s, secret_key=secret)
        service.ship([pallet], line.distributor, session=s, secret_key=secret)
        service.receive([pallet], line.distributor, session=s, secret_key=secret)
        service.disaggregate(pallet, session=s, secret_key=secret)
        service.ship([case], line.store, session=s, secret_key=secret)
        service.open_case(case, line.store, session=s, secret_key=secret)
        # After the unit left the case, the case's later moves are not the unit's history.
        service.aggregate(case, [line.units[1]], session=s, secret_key=secret)
        service.ship([case], line.other_distributor, session=s, secret_key=secret)
    resp = owner_client.get(f"/api/v1/codes/{unit.lower()}/epcis")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/ld+json")
    doc = resp.json()
    assert doc["@context"] == [CONTEXT]
    assert doc["type"] == "EPCISDocument"
    assert doc["schemaVersion"] == "2.0"
    events = doc["epcisBody"]["eventList"]
    steps = [(e["type"], e.get("action"), e["bizStep"]) for e in events]
    assert steps == [
        ("ObjectEvent", "ADD", "commissioning"),
        ("AggregationEvent", "ADD", "packing"),  # unit -> case
        ("AggregationEvent", "ADD", "packing"),  # case -> pallet
        ("ObjectEvent", "OBSERVE", "shipping"),  # the pallet
        ("ObjectEvent", "OBSERVE", "receiving"),
        ("AggregationEvent", "DELETE", "unpacking"),  # pallet unpacked
        ("ObjectEvent", "OBSERVE", "shipping"),  # the case, to the store
        ("AggregationEvent", "DELETE", "unpacking"),  # opened at the store
    ]
    link = f"https://id.bcone.dev/01/{GTIN14}/21/{unit}"
    assert link in events[0]["epcList"]
    assert events[1]["parentID"].endswith(f"/21/{case}")
    assert link in events[1]["childEPCs"]
    assert events[3]["destinationList"] == [
        {"type": "owning_party", "destination": f"urn:bcone:org:{line.distributor}"}
    ]
    assert events[3]["disposition"] == "in_transit"
    assert events[7]["disposition"] == "sellable_accessible"
    for e in events:
        assert e["eventTime"].endswith("+08:00")
        assert e["eventTimeZoneOffset"] == "+08:00"
        datetime.fromisoformat(e["eventTime"])
    assert owner_client.get("/api/v1/codes/0000000000000000000/epcis").status_code == 422
