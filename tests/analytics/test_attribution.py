"""Partner attribution on DuckDB and chDB, against plain Python over the same events, and its
API and page."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.analytics import service
from bcone.analytics.errors import InvalidParameter, InvalidRange
from bcone.core.events import Event
from bcone.core.settings import Settings
from bcone.core.warehouse import Warehouse, open_warehouse, warehouse_from_url
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

TENANT = "brand-f"
START = datetime(2025, 3, 1, tzinfo=UTC)
SINCE, UNTIL = date(2025, 3, 15), date(2025, 5, 31)
CST = timedelta(hours=8)


def attribution_events(seed: int = 11, consumers: int = 400) -> list[Event]:
    rng = random.Random(seed)
    out: list[Event] = []
    n = 0

    def add(kind: str, ts: datetime, profile: str, **fields: object) -> None:
        nonlocal n
        n += 1
        out.append(Event(event_id=f"a{n}", tenant_id=TENANT, ts=ts, type=kind, profile_id=profile, **fields))  # type: ignore[arg-type]

    for c in range(consumers):
        p = f"p{c}"
        t = START + timedelta(minutes=rng.randrange(90 * 24 * 60))
        if rng.random() < 0.5:
            add("code.scanned", t, p, org_id=rng.choice(("S1", "S2", "S3")))
        else:
            add(
                "share.clicked",
                t,
                p,
                properties={"content_id": "sf", "shared_by": rng.choice(("SF1", "SF2"))},
            )
        if rng.random() < 0.3:  # a later touch of the other kind never changes the first
            add("code.scanned", t + timedelta(days=1), p, org_id="S4")
        for _ in range(rng.randrange(4)):
            t += timedelta(hours=rng.randrange(1, 500))
            sharer = rng.choice((None, "SF1", "SF2"))
            add(
                "order.paid",
                t,
                p,
                org_id=rng.choice(("S1", "S2", "S4")),
                amount=rng.randrange(100, 9000),
                properties={"order_id": f"o{n}", "channel": "store", "sharer_id": sharer},
            )
    return out


EVENTS = attribution_events()


def reference() -> dict[tuple[str, str], list[int]]:
    start = datetime(SINCE.year, SINCE.month, SINCE.day, tzinfo=UTC) - CST
    end = datetime(UNTIL.year, UNTIL.month, UNTIL.day, tzinfo=UTC) + timedelta(days=1) - CST
    first: dict[str, tuple[datetime, str]] = {}
    for e in EVENTS:
        if e.ts >= end or e.profile_id is None:
            continue
        who = None
        if e.type == "code.scanned" and e.org_id:
            who = f"store|{e.org_id}"
        elif e.type == "share.clicked" and e.properties.get("shared_by"):
            who = f"sharer|{e.properties['shared_by']}"
        if who and (e.profile_id not in first or (e.ts, who) < first[e.profile_id]):
            first[e.profile_id] = (e.ts, who)
    acc: dict[tuple[str, str], list[int]] = {}

    def slot(who: str) -> list[int]:
        kind, _, partner = who.partition("|")
        return acc.setdefault((kind, partner), [0, 0, 0, 0, 0, set()])  # type: ignore[list-item]

    acquired = {p: who for p, (ts, who) in first.items() if ts >= start}
    for who in acquired.values():
        slot(who)[0] += 1
    for e in EVENTS:
        if e.type != "order.paid" or not start <= e.ts < end:
            continue
        if e.profile_id in acquired:
            s = slot(acquired[e.profile_id])
            s[1] += 1
            s[2] += e.amount or 0
        for who in ([f"store|{e.org_id}"] if e.org_id else []) + (
            [f"sharer|{e.properties['sharer_id']}"] if e.properties.get("sharer_id") else []
        ):
            s = slot(who)
            s[3] += 1
            s[4] += e.amount or 0
            s[5].add(e.profile_id)  # type: ignore[attr-defined]
    return {k: [*v[:5], len(v[5])] for k, v in acc.items()}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, Warehouse]]:
    duck = warehouse_from_url(f"duckdb:///{tmp_path_factory.mktemp('attr') / 'w.duckdb'}")
    ch = warehouse_from_url("chdb://")
    for wh in (duck, ch):
        wh.ensure_schema()
        wh.insert_events(EVENTS)
    yield duck, ch
    duck.close()
    ch.close()


def test_attribution_is_the_same_on_both_engines_and_right(engines: tuple[Warehouse, Warehouse]) -> None:
    duck, ch = engines
    a = service.attribution(duck, TENANT, since=SINCE, until=UNTIL, limit=1000)
    b = service.attribution(ch, TENANT, since=SINCE, until=UNTIL, limit=1000)
    assert a == b
    got = {
        (r.kind, r.partner_id): [
            r.acquired_consumers,
            r.acquired_orders,
            r.acquired_revenue_fen,
            r.served_orders,
            r.served_revenue_fen,
            r.served_consumers,
        ]
        for r in a.stores + a.sharers
    }
    assert got == reference()
    assert a.acquired_consumers == sum(v[0] for v in got.values())
    assert ("store", "S4") in got
    assert got[("store", "S4")][0] == 0
    # without a directory every store falls under one unnamed distributor
    assert [(d.partner_id, d.served_revenue_fen) for d in a.distributors] == [("", a.served_revenue_fen)]


def test_attribution_bad_input(engines: tuple[Warehouse, Warehouse]) -> None:
    with pytest.raises(InvalidParameter) as caught:
        service.attribution(engines[0], TENANT, limit=-1)
    assert caught.value.field == "limit"
    with pytest.raises(InvalidRange) as empty:
        service.attribution(engines[0], TENANT, since=UNTIL, until=SINCE)
    assert empty.value.field == "until"


@pytest.fixture
def loaded(settings: Settings, tenant: TenantOut) -> Settings:
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        wh.insert_events([e.model_copy(update={"tenant_id": tenant.id}) for e in EVENTS])
    return settings


def test_attribution_api_and_page(
    app: FastAPI,
    auth_headers: AuthHeaders,
    tenant: TenantOut,
    loaded: Settings,
    make_user: MakeUser,
    console_login: ConsoleLogin,
) -> None:
    params = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        got = c.get("/api/v1/analytics/attribution", params=params)
        assert got.status_code == 200, got.text
        assert got.json()["acquired_consumers"] == sum(v[0] for v in reference().values())
        unknown = c.get("/api/v1/analytics/attribution", params={"store": "S1"})
        assert unknown.status_code == 422
        assert unknown.json()["field"] == "store"
        bad = c.get("/api/v1/analytics/attribution", params={"since": "2025-06-01", "until": "2025-05-01"})
        assert bad.status_code == 422
        assert bad.json()["field"] == "until"
    user = make_user(role="owner")
    with TestClient(app) as c:
        console_login(c, user.email)
        page = c.get("/analytics/attribution", params=params, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, page.text
        assert 'id="attribution-chart"' in page.text
        assert 'id="attribution-sharers"' in page.text
        assert "伙伴归因" in page.text
