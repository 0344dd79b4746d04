"""Channel diversion (窜货): scans outside the shipped-to organisation's or the batch's regions."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from bcone.codes import service
from bcone.codes.schemas import CheckOut, DiversionExceptionIn, DiversionRulesIn, Location
from bcone.core.db import Database
from bcone.core.events import outbox
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14, MakeBatch, TenantSession
from tests.codes.test_packing import make_orgs, serials_of


def scan(db: Database, serial: str, secret: str, location: Location) -> CheckOut:
    with db.session() as s:
        return service.check_code(GTIN14, serial, location, session=s, secret_key=secret)


def diverted(db: Database) -> list[dict[str, object]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.type == "code.diverted").order_by(outbox.c.seq))
        return [{**r, "properties": json.loads(r["properties"])} for r in rows.mappings()]


def test_scans_outside_the_distributors_region_raise_alerts(
    db: Database, tenant: TenantOut, secret: str, make_batch: MakeBatch, tenant_session: TenantSession
) -> None:
    gd, store, sh = make_orgs(db, tenant)
    batch = make_batch(count=10)
    codes = serials_of(db, tenant, secret, batch, 10)
    with tenant_session() as s:
        service.commission(codes, session=s, secret_key=secret)
        service.ship(codes[:5], gd, session=s, secret_key=secret)
    # Inside Guangdong (南山区 by code, 东莞 by coordinates): no alert.
    assert scan(db, codes[0], secret, Location(region="440305")).genuine
    scan(db, codes[1], secret, Location(lat=23.02, lng=113.75))
    assert diverted(db) == []
    # Shanghai: an alert for the Guangdong distributor, with an event.
    result = scan(db, codes[2], secret, Location(lat=31.19, lng=121.44))
    assert result.verdict == "genuine"
    events = diverted(db)
    assert len(events) == 1
    assert events[0]["org_id"] == gd
    assert events[0]["properties"]["reason"] == "outside_sales_region"
    assert events[0]["properties"]["expected_regions"] == ["440000"]
    # Codes never shipped and from a batch without planned regions raise nothing.
    scan(db, codes[8], secret, Location(region="110105"))
    assert len(diverted(db)) == 1
    with tenant_session() as s:
        alerts = service.list_alerts(session=s)
        assert [(a.serial, a.distributor_id, a.province) for a in alerts] == [(codes[2], gd, "310000")]
        assert alerts[0].distance_km is not None
        assert alerts[0].distance_km > 500
        # An exception lets the Guangdong distributor sell in Shanghai.
        service.add_exception(DiversionExceptionIn(distributor_id=gd, division_code="310000"), session=s)
    scan(db, codes[3], secret, Location(region="310104"))
    assert len(diverted(db)) == 1
    # Beijing is not excepted; a tolerance of 2000 km accepts it, 0 km does not.
    with tenant_session() as s:
        service.set_rules(DiversionRulesIn(tolerance_km=2000), session=s)
    scan(db, codes[4], secret, Location(region="110105"))
    assert len(diverted(db)) == 1
    with tenant_session() as s:
        service.set_rules(DiversionRulesIn(tolerance_km=0), session=s)
    scan(db, codes[4], secret, Location(region="110105"))
    assert len(diverted(db)) == 2
    with tenant_session() as s:
        groups = service.alert_groups(session=s)
        assert sorted((g.distributor_id, g.province, g.alerts) for g in groups) == [
            (gd, "110000", 1),
            (gd, "310000", 1),
        ]
        assert sh not in {g.distributor_id for g in groups}
        assert store


def test_store_scans_are_judged_by_the_distributors_regions_and_batch_regions(
    db: Database, tenant: TenantOut, secret: str, make_batch: MakeBatch, tenant_session: TenantSession
) -> None:
    gd, store, _ = make_orgs(db, tenant)
    batch = make_batch(count=6, regions=["320000"])
    codes = serials_of(db, tenant, secret, batch, 6)
    with tenant_session() as s:
        service.commission(codes, session=s, secret_key=secret)
        service.ship(codes[:2], store, session=s, secret_key=secret)
    scan(db, codes[0], secret, Location(region="310104"))  # store has no regions: its distributor's
    scan(db, codes[3], secret, Location(region="320500"))  # not shipped, inside the batch's 江苏
    scan(db, codes[4], secret, Location(region="440305"))  # not shipped, outside the batch's region
    reasons = [(e["properties"]["serial"], e["properties"]["reason"], e["org_id"]) for e in diverted(db)]
    assert reasons == [(codes[0], "outside_sales_region", gd), (codes[4], "outside_batch_region", None)]


def test_diversion_api(
    owner_client: TestClient, db: Database, tenant: TenantOut, secret: str, make_batch: MakeBatch
) -> None:
    gd, _, _ = make_orgs(db, tenant)
    batch = make_batch(count=3, regions=["440000"])
    codes = serials_of(db, tenant, secret, batch, 3)
    scan(db, codes[0], secret, Location(region="110105"))
    alerts = owner_client.get("/api/v1/codes/diversion/alerts", params={"province": "110000"}).json()
    assert [a["serial"] for a in alerts] == [codes[0]]
    assert owner_client.get("/api/v1/codes/diversion/alerts", params={"province": "310000"}).json() == []
    resp = owner_client.post(
        "/api/v1/codes/diversion/exceptions", json={"distributor_id": gd, "division_code": "99"}
    )
    assert resp.status_code == 422
    resp = owner_client.post(
        "/api/v1/codes/diversion/exceptions", json={"distributor_id": gd, "division_code": "999999"}
    )
    assert resp.status_code == 422
    assert resp.json()["field"] == "division_code"
    resp = owner_client.put("/api/v1/codes/diversion/rules", json={"tolerance_km": -1})
    assert resp.status_code == 422
    assert owner_client.get("/api/v1/codes/diversion/groups").json()[0]["alerts"] == 1


def test_alerts_are_deduplicated_per_distributor_sku_and_division(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_batch: MakeBatch,
    tenant_session: TenantSession,
    owner_client: TestClient,
) -> None:
    gd, _, _ = make_orgs(db, tenant)
    batch = make_batch(count=6)
    codes = serials_of(db, tenant, secret, batch, 6)
    with tenant_session() as s:
        service.commission(codes, session=s, secret_key=secret)
        service.ship(codes, gd, session=s, secret_key=secret)
    for serial in codes[:3]:  # three Guangdong units scanned in one Shanghai district
        scan(db, serial, secret, Location(region="310104"))
    scan(db, codes[3], secret, Location(region="110101"))  # another division: its own alert
    alerts = owner_client.get("/api/v1/codes/diversion/alerts").json()
    assert sorted((a["region"], a["occurrences"]) for a in alerts) == [("110101", 1), ("310104", 3)]
    assert len(diverted(db)) == 4  # every scan is still an event
    groups = owner_client.get("/api/v1/codes/diversion/groups").json()
    assert sum(g["alerts"] for g in groups) == 4
    shanghai = next(a for a in alerts if a["region"] == "310104")
    closed = owner_client.post(f"/api/v1/codes/diversion/alerts/{shanghai['id']}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert owner_client.post("/api/v1/codes/diversion/alerts/nope/close").status_code == 404
    scan(db, codes[4], secret, Location(region="310104"))  # after closing: a new open alert
    again = owner_client.get("/api/v1/codes/diversion/alerts", params={"status": "open"}).json()
    assert sorted((a["region"], a["occurrences"]) for a in again) == [("110101", 1), ("310104", 1)]


def test_scan_events_name_the_organisation_the_unit_was_shipped_to(
    db: Database, tenant: TenantOut, secret: str, make_batch: MakeBatch, tenant_session: TenantSession
) -> None:
    _, store, _ = make_orgs(db, tenant)
    batch = make_batch(count=3)
    codes = serials_of(db, tenant, secret, batch, 3)
    with tenant_session() as s:
        service.commission(codes, session=s, secret_key=secret)
        service.ship(codes[:1], store, session=s, secret_key=secret)
    scan(db, codes[0], secret, Location(region="310104"))
    scan(db, codes[1], secret, Location())  # commissioned, never shipped, no place given
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.org_id, outbox.c.properties).where(outbox.c.type == "code.scanned")
        ).all()
    holders = {json.loads(props)["serial"]: org for org, props in rows}
    assert holders == {codes[0]: store, codes[1]: None}
