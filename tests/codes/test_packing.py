"""Packing and logistics: commission, aggregate, ship, receive, open, whereabouts, concurrency."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from bcone.codes import service
from bcone.codes.schemas import BatchOut
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.codes.conftest import MakeBatch, TenantSession, add_skus


@dataclass
class Line:
    units: list[str]
    cases: list[str]
    pallets: list[str]
    distributor: str
    store: str
    other_distributor: str


def serials_of(db: Database, tenant: TenantOut, secret: str, batch: BatchOut, n: int) -> list[str]:
    with db.session(tenant_id=tenant.id, write=False) as s:
        return [
            u.rsplit("/", 1)[1].split("?")[0]
            for u in service.sample_urls(batch.id, n, session=s, secret_key=secret)
        ]


def make_orgs(db: Database, tenant: TenantOut) -> tuple[str, str, str]:
    with db.session(tenant_id=tenant.id) as s:
        gd = network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D-GD",
                name="广东经销商",
                division_code="440300",
                sales_regions=["440000"],
            ),
            session=s,
        )
        store = network.create_organization(
            OrganizationIn(
                kind="store", code="S-NS", name="南山门店", division_code="440305", parent_id=gd.id
            ),
            session=s,
        )
        sh = network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D-SH",
                name="上海经销商",
                division_code="310000",
                sales_regions=["310000"],
            ),
            session=s,
        )
        return gd.id, store.id, sh.id


@pytest.fixture
def line(db: Database, tenant: TenantOut, secret: str, make_batch: MakeBatch) -> Line:
    units = make_batch(count=200)
    cases = make_batch(count=20, level="case")
    pallets = make_batch(count=4, level="pallet")
    gd, store, sh = make_orgs(db, tenant)
    return Line(
        units=serials_of(db, tenant, secret, units, 200),
        cases=serials_of(db, tenant, secret, cases, 20),
        pallets=serials_of(db, tenant, secret, pallets, 4),
        distributor=gd,
        store=store,
        other_distributor=sh,
    )


def _error(fn: object, *args: object, **kwargs: object) -> BconeError:
    with pytest.raises(BconeError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_pack_ship_receive_open_and_whereabouts(
    line: Line, tenant_session: TenantSession, secret: str
) -> None:
    with tenant_session() as s:
        service.commission(line.units[:40] + line.cases[:4] + line.pallets[:1], session=s, secret_key=secret)
        for i in range(4):
            service.aggregate(line.cases[i], line.units[i * 10 : i * 10 + 10], session=s, secret_key=secret)
        service.aggregate(line.pallets[0], line.cases[:4], session=s, secret_key=secret)
    with tenant_session() as s:
        w = service.whereabouts(line.units[5], session=s, secret_key=secret)
        assert w.containers == [line.cases[0], line.pallets[0]]
        assert (w.holder_org_id, w.status) == (None, "active")
    with tenant_session() as s:
        # A unit inside a case cannot be shipped on its own.
        err = _error(service.ship, [line.units[0]], line.distributor, session=s, secret_key=secret)
        assert err.status == 409
        assert err.field == "serials[0]"
    with tenant_session() as s:
        service.ship([line.pallets[0]], line.distributor, session=s, secret_key=secret)
    with tenant_session() as s:
        w = service.whereabouts(line.units[35], session=s, secret_key=secret)
        assert (w.holder_org_id, w.status) == (line.distributor, "in_transit")
    with tenant_session() as s:
        err = _error(service.receive, [line.pallets[0]], line.store, session=s, secret_key=secret)
        assert err.status == 409
    with tenant_session() as s:
        service.receive([line.pallets[0]], line.distributor, session=s, secret_key=secret)
        service.disaggregate(line.pallets[0], session=s, secret_key=secret)
    with tenant_session() as s:
        # The cases stay where the pallet was unpacked.
        w = service.whereabouts(line.units[15], session=s, secret_key=secret)
        assert w.containers == [line.cases[1]]
        assert (w.holder_org_id, w.status) == (line.distributor, "received")
    with tenant_session() as s:
        service.ship([line.cases[1]], line.store, session=s, secret_key=secret)
        service.receive([line.cases[1]], line.store, session=s, secret_key=secret)
        service.open_case(line.cases[1], line.store, session=s, secret_key=secret)
    with tenant_session() as s:
        w = service.whereabouts(line.units[15], session=s, secret_key=secret)
        assert (w.containers, w.holder_org_id, w.status) == ([], line.store, "received")
        # A unit of another case on the unpacked pallet is still at the distributor.
        w = service.whereabouts(line.units[25], session=s, secret_key=secret)
        assert (w.containers, w.holder_org_id) == ([line.cases[2]], line.distributor)
        kinds = [e.kind for e in service.recent_events(s, limit=100)]
        assert kinds.count("aggregate") == 5
        assert kinds[0] == "open"


def test_bulk_requests_are_validated_as_a_whole(
    line: Line,
    tenant_session: TenantSession,
    secret: str,
    make_batch: MakeBatch,
    other_tenant: TenantOut,
    db: Database,
) -> None:
    with tenant_session() as s:
        service.commission(line.units[:30] + line.cases[:2], session=s, secret_key=secret)
        service.aggregate(line.cases[0], line.units[:10], session=s, secret_key=secret)
    forged = line.units[12][:-1] + ("0" if line.units[12][-1] != "0" else "1")
    add_skus(db, other_tenant)
    foreign_batch = make_batch(of=other_tenant, count=5)
    foreign = serials_of(db, other_tenant, secret, foreign_batch, 1)[0]
    cases = [
        ([*line.units[10:20], line.units[5]], "children[10]", "already_packed", 409),
        ([*line.units[10:20], line.units[100]], "children[10]", "not_commissioned", 422),
        ([*line.units[10:13], forged], "children[3]", "invalid", 422),
        ([*line.units[10:13], foreign], "children[3]", "invalid", 422),
        ([*line.units[10:13], "short"], "children[3]", "invalid", 422),
        ([*line.units[10:13], line.units[11]], "children[3]", "duplicate", 422),
        ([*line.units[10:13], line.cases[0]], "children[3]", "level", 422),
    ]
    for children, field, reason, status in cases:
        with tenant_session() as s:
            err = _error(service.aggregate, line.cases[1], children, session=s, secret_key=secret)
        assert (err.field, err.extra.get("reason"), err.status) == (field, reason, status), err.detail
    with tenant_session() as s:
        # Nothing of the refused requests was written.
        assert service.whereabouts(line.units[10], session=s, secret_key=secret).containers == []
        assert len(service.recent_events(s)) == 2
    with tenant_session() as s:
        err = _error(service.commission, line.units[25:35], session=s, secret_key=secret)
        assert (err.field, err.status) == ("serials[0]", 409)


def test_commission_by_batch_range(
    make_batch: MakeBatch, tenant_session: TenantSession, secret: str, db: Database, tenant: TenantOut
) -> None:
    batch = make_batch(count=50)
    with tenant_session() as s:
        result = service.commission_range(batch.id, 10, 30, session=s, secret_key=secret)
        assert result.count == 30
    codes = serials_of(db, tenant, secret, batch, 50)
    with tenant_session() as s:
        assert service.whereabouts(codes[10], session=s, secret_key=secret).status == "active"
        err = _error(service.whereabouts, codes[9], session=s, secret_key=secret)
        assert err.extra.get("reason") == "not_commissioned"
    with tenant_session() as s:
        err = _error(service.commission_range, batch.id, 40, 20, session=s, secret_key=secret)
        assert err.field == "count"


def test_a_unit_packed_into_two_cases_at_once_goes_into_one(
    line: Line, tenant_session: TenantSession, secret: str
) -> None:
    with tenant_session() as s:
        service.commission(line.units[:20] + line.cases[:2], session=s, secret_key=secret)
    shared = line.units[0]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pack(case: str, others: list[str]) -> None:
        barrier.wait()
        try:
            with tenant_session() as s:
                service.aggregate(case, [*others, shared], session=s, secret_key=secret)
            outcomes.append("ok")
        except BconeError as exc:
            outcomes.append(f"{exc.status}")

    threads = [
        threading.Thread(target=pack, args=(line.cases[0], line.units[1:10])),
        threading.Thread(target=pack, args=(line.cases[1], line.units[10:19])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "ok"]
    with tenant_session() as s:
        w = service.whereabouts(shared, session=s, secret_key=secret)
        winner = w.containers[0]
        loser_units = line.units[10:19] if winner == line.cases[0] else line.units[1:10]
        assert all(not service.whereabouts(u, session=s, secret_key=secret).containers for u in loser_units)


def test_packing_api(owner_client: TestClient, line: Line) -> None:
    resp = owner_client.post("/api/v1/codes/commission", json={"serials": line.units[:10] + line.cases[:1]})
    assert resp.status_code == 201, resp.text
    resp = owner_client.post(
        "/api/v1/codes/aggregate", json={"parent": line.cases[0], "children": line.units[:10]}
    )
    assert resp.status_code == 201
    assert resp.json()["count"] == 10
    resp = owner_client.post(
        "/api/v1/codes/ship", json={"serials": [line.cases[0]], "destination_org_id": "nope"}
    )
    assert resp.status_code == 422
    assert resp.json()["field"] == "destination_org_id"
    resp = owner_client.post(
        "/api/v1/codes/ship", json={"serials": [line.units[3]], "destination_org_id": line.distributor}
    )
    assert resp.status_code == 409
    assert resp.json()["field"] == "serials[0]"
    resp = owner_client.post(
        "/api/v1/codes/ship", json={"serials": [line.cases[0]], "destination_org_id": line.distributor}
    )
    assert resp.status_code == 201, resp.text
    where = owner_client.get(f"/api/v1/codes/{line.units[3]}/whereabouts").json()
    assert where["holder_org_id"] == line.distributor
    assert where["status"] == "in_transit"
    assert owner_client.get("/api/v1/codes/events").json()[0]["kind"] == "ship"


def test_many_cases_in_one_call_name_the_bad_code(
    line: Line, tenant_session: TenantSession, secret: str, owner_client: TestClient
) -> None:
    with tenant_session() as s:
        service.commission(line.units[:60] + line.cases[:5], session=s, secret_key=secret)
        service.aggregate(line.cases[4], line.units[50:52], session=s, secret_key=secret)
    packs = [{"parent": line.cases[k], "children": line.units[k * 10 : k * 10 + 10]} for k in range(4)]
    packs[2]["children"] = [*line.units[20:27], line.units[51]]  # packed in case 4 already
    resp = owner_client.post("/api/v1/codes/aggregate/bulk", json={"packs": packs})
    assert resp.status_code == 409, resp.text
    assert resp.json()["field"] == "packs[2].children[7]"
    packs[2]["children"] = line.units[20:30]
    packs[3]["parent"] = "not-a-serial"
    resp = owner_client.post("/api/v1/codes/aggregate/bulk", json={"packs": packs})
    assert resp.status_code == 422
    assert resp.json()["field"] == "packs[3].parent"
    packs[3]["parent"] = line.cases[3]
    resp = owner_client.post("/api/v1/codes/aggregate/bulk", json={"packs": packs})
    assert resp.status_code == 201, resp.text
    assert [r["count"] for r in resp.json()] == [10, 10, 10, 10]
    with tenant_session() as s:
        assert service.whereabouts(line.units[35], session=s, secret_key=secret).containers == [line.cases[3]]


def test_packing_into_a_case_already_on_a_pallet_follows_the_pallet(
    line: Line, tenant_session: TenantSession, secret: str
) -> None:
    with tenant_session() as s:
        service.commission(line.units[:4] + line.cases[:1] + line.pallets[:1], session=s, secret_key=secret)
        service.aggregate(line.pallets[0], line.cases[:1], session=s, secret_key=secret)
        service.aggregate(line.cases[0], line.units[:2], session=s, secret_key=secret)
        service.ship([line.pallets[0]], line.distributor, session=s, secret_key=secret)
    with tenant_session() as s:
        # Units still at the brand cannot join a case that is now on its way to the distributor.
        err = _error(service.aggregate, line.cases[0], line.units[2:4], session=s, secret_key=secret)
        assert (err.status, err.field, err.extra["reason"]) == (409, "children[0]", "elsewhere")
    with tenant_session() as s:
        w = service.whereabouts(line.units[1], session=s, secret_key=secret)
        assert w.containers == [line.cases[0], line.pallets[0]]
        assert (w.holder_org_id, w.status) == (line.distributor, "in_transit")
        # Unpacking the case inside the pallet hands the pallet's whereabouts to its units.
        service.disaggregate(line.cases[0], session=s, secret_key=secret)
        w = service.whereabouts(line.units[1], session=s, secret_key=secret)
        assert (w.containers, w.holder_org_id, w.status) == ([], line.distributor, "in_transit")
