"""The operating dashboard: the same answer on DuckDB and chDB, checked against plain Python over
the same events; its API, exports, page and bad input."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from bcone.analytics import service
from bcone.analytics.errors import InvalidParameter, InvalidRange
from bcone.core.settings import Settings
from bcone.core.warehouse import Warehouse, open_warehouse
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, TENANT
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

CST = timedelta(hours=8)
RANGE = {"since": FIRST_DAY.isoformat(), "until": LAST_DAY.isoformat()}


def local_day(ts: datetime) -> date:
    return (ts.astimezone(UTC) + CST).date()


def reference(since: date, until: date, *, channel: str | None = None, province: str | None = None) -> dict:
    """The dashboard's figures by plain Python over the synthetic events."""
    mine = [e for e in EVENTS if e.tenant_id == TENANT]
    first: dict[str, date] = {}
    for e in mine:
        if e.profile_id and local_day(e.ts) <= until:
            first[e.profile_id] = min(first.get(e.profile_id, local_day(e.ts)), local_day(e.ts))
    per_day: dict[date, dict] = defaultdict(
        lambda: {"sales": 0, "orders": 0, "scans": 0, "stores": set(), "people": set()}
    )
    by_province: dict[str, int] = defaultdict(int)
    for e in mine:
        day = local_day(e.ts)
        if not since <= day <= until or e.type not in ("order.paid", "code.scanned"):
            continue
        if channel is not None and e.properties.get("channel", "") != channel:
            continue
        if province is not None and (e.region or "")[:2] != province:
            continue
        d = per_day[day]
        if e.type == "order.paid":
            d["sales"] += e.amount or 0
            d["orders"] += 1
            by_province[(e.region or "")[:2]] += e.amount or 0
        else:
            d["scans"] += 1
        if e.org_id:
            d["stores"].add(e.org_id)
        if e.profile_id:
            d["people"].add(e.profile_id)
    series = {
        day: (
            d["sales"],
            d["orders"],
            d["scans"],
            len(d["stores"]),
            len(d["people"]),
            sum(1 for p in d["people"] if first[p] == day),
        )
        for day, d in per_day.items()
    }
    people = set().union(*(d["people"] for d in per_day.values())) if per_day else set()
    totals = (
        sum(v[0] for v in series.values()),
        sum(v[1] for v in series.values()),
        sum(v[2] for v in series.values()),
        len(set().union(*(d["stores"] for d in per_day.values()))) if per_day else 0,
        len(people),
        sum(1 for p in people if first[p] >= since),
    )
    return {"series": series, "totals": totals, "by_province": dict(by_province)}


def _check(report, ref: dict) -> None:  # type: ignore[no-untyped-def]
    got = {
        p.period: (p.sales_fen, p.orders, p.scans, p.active_stores, p.consumers, p.new_consumers)
        for p in report.series
        if p.orders or p.scans
    }
    assert got == ref["series"]
    t = report.totals
    assert (t.sales_fen, t.orders, t.scans, t.active_stores, t.consumers, t.new_consumers) == ref["totals"]
    assert all(p.returning_consumers == p.consumers - p.new_consumers for p in report.series)


@pytest.mark.parametrize(
    ("since", "until", "filters"),
    [
        (FIRST_DAY, LAST_DAY, {}),
        (LAST_DAY - timedelta(days=20), LAST_DAY, {}),
        (FIRST_DAY, LAST_DAY, {"channel": "wechat"}),
        (FIRST_DAY, LAST_DAY, {"province": "31"}),
    ],
)
def test_dashboard_matches_plain_python_on_both_engines(
    duck: Warehouse, chdb_wh: Warehouse, since: date, until: date, filters: dict[str, str]
) -> None:
    a = service.dashboard(duck, TENANT, since=since, until=until, **filters)
    b = service.dashboard(chdb_wh, TENANT, since=since, until=until, **filters)
    assert a == b
    ref = reference(since, until, **filters)
    _check(a, ref)
    assert len(a.series) == (until - since).days + 1  # empty days are there, as zeros
    if "province" in filters:
        assert a.region_level == "city"
        assert {r.key for r in a.by_region} <= {"3101"}
    else:
        assert {r.key: r.sales_fen for r in a.by_region if r.sales_fen} == {
            k: v for k, v in ref["by_province"].items() if v
        }
        assert {r.key: r.label for r in a.by_region}["44"] == "广东省"
    weekly = service.dashboard(duck, TENANT, since=since, until=until, grain="week", **filters)
    assert weekly == service.dashboard(chdb_wh, TENANT, since=since, until=until, grain="week", **filters)
    assert sum(p.sales_fen for p in weekly.series) == a.totals.sales_fen
    assert all(p.period.weekday() == 0 for p in weekly.series)


def test_dashboard_bad_input_names_the_field(duck: Warehouse) -> None:
    cases = [
        ({"grain": "hour"}, InvalidParameter, "grain"),
        ({"province": "99"}, InvalidParameter, "province"),
        ({"province": "440300"}, InvalidParameter, "province"),
        ({"channel": "we chat;"}, InvalidParameter, "channel"),
        ({"since": LAST_DAY, "until": FIRST_DAY}, InvalidRange, "until"),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error) as caught:
            service.dashboard(duck, TENANT, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_an_empty_warehouse_gives_an_empty_dashboard(empty_duck: Warehouse) -> None:
    report = service.dashboard(empty_duck, TENANT, since=FIRST_DAY, until=LAST_DAY)
    assert report.totals.orders == 0
    assert report.by_region == []


@pytest.fixture
def loaded(settings: Settings, tenant: TenantOut) -> Settings:
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        wh.insert_events(
            [e.model_copy(update={"tenant_id": tenant.id}) for e in EVENTS if e.tenant_id == TENANT]
        )
    return settings


def test_dashboard_api_exports_and_distributors(
    app: FastAPI, auth_headers: AuthHeaders, tenant: TenantOut, loaded: Settings, db: object
) -> None:
    # A distributor with one store; the synthetic events name stores S00..S05 by org_id, so the
    # store below is renamed into one of them through the directory the service reads.
    with db.session(tenant_id=tenant.id) as s:  # type: ignore[attr-defined]
        dist = network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D1",
                name="华东经销商",
                division_code="310000",
                sales_regions=["310000"],
            ),
            session=s,
        )
        store = network.create_organization(
            OrganizationIn(
                kind="store", code="ST1", name="南京路店", division_code="310101", parent_id=dist.id
            ),
            session=s,
        )
    with open_warehouse(loaded) as wh:
        wh.insert_events(
            [
                e.model_copy(
                    update={"tenant_id": tenant.id, "event_id": "x-" + e.event_id, "org_id": store.id}
                )
                for e in EVENTS
                if e.tenant_id == TENANT and e.org_id == "S00" and e.type == "order.paid"
            ]
        )
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        got = c.get("/api/v1/analytics/dashboard", params=RANGE)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["totals"]["orders"] > 0
        dists = {r["key"]: r for r in body["by_distributor"]}
        assert dists[dist.id]["label"] == "华东经销商"
        assert dists[dist.id]["orders"] == sum(
            1 for e in EVENTS if e.tenant_id == TENANT and e.org_id == "S00" and e.type == "order.paid"
        )
        assert {r["key"]: r["label"] for r in body["by_store"]}[store.id] == "南京路店"
        unknown = c.get("/api/v1/analytics/dashboard", params={"city": "4403"})
        assert unknown.status_code == 422
        assert unknown.json()["field"] == "city"
        bad = c.get("/api/v1/analytics/dashboard", params={"province": "9x"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["field"] == "province"
        csv_file = c.get(
            "/api/v1/analytics/dashboard/export", params={**RANGE, "table": "region", "format": "csv"}
        )
        assert csv_file.status_code == 200
        rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
        assert rows[0] == ["region", "name", "sales_yuan", "orders", "scans", "consumers"]
        assert {r[1] for r in rows[1:]} >= {"广东省", "上海市", "北京市"}
        xlsx = c.get(
            "/api/v1/analytics/dashboard/export", params={**RANGE, "table": "series", "format": "xlsx"}
        )
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        values = list(sheet.values)
        assert values[0][0] == "period"
        assert len(values) == 1 + (LAST_DAY - FIRST_DAY).days + 1
        assert round(sum(v[1] for v in values[1:]) * 100) == body["totals"]["sales_fen"]
        wrong = c.get("/api/v1/analytics/dashboard/export", params={"table": "nope"})
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "table"
        wrong = c.get("/api/v1/analytics/dashboard/export", params={"format": "pdf"})
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "format"


def test_dashboard_page_and_drill_down(
    app: FastAPI, make_user: MakeUser, console_login: ConsoleLogin, loaded: Settings
) -> None:
    user = make_user(role="owner")
    with TestClient(app) as c:
        console_login(c, user.email)
        page = c.get("/analytics/dashboard", params=RANGE, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, page.text
        assert "经营数据" in page.text
        assert 'id="dashboard-region"' in page.text
        assert 'data-kind="china"' in page.text
        city = c.get("/analytics/dashboard", params={**RANGE, "province": "44"})
        assert city.status_code == 200
        assert 'data-kind="regionbars"' in city.text
        assert "深圳市" in city.text
        english = c.get("/analytics/dashboard", params=RANGE, headers={"Accept-Language": "en"})
        assert "Operating data" in english.text
        bad = c.get("/analytics/dashboard", params={"grain": "year"})
        assert bad.status_code == 422
        assert 'data-field="grain"' in bad.text
        geo = c.get("/analytics/assets/china-provinces.geojson")
        assert geo.status_code == 200
        names = {f["properties"]["name"] for f in geo.json()["features"]}
        assert len(names) == 34
        assert "广东省" in names
        assert "台湾省" in names
        export = c.get("/analytics/dashboard/export", params={**RANGE, "table": "channel", "format": "csv"})
        assert export.status_code == 200
        assert "wechat" in export.content.decode("utf-8-sig")
