"""The analytics API and console pages, on SQLite and PostgreSQL (``db``), reading a DuckDB
warehouse filled with the synthetic events (re-labelled to the test tenant)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.analytics import service
from bcone.core.db import Database
from bcone.core.events import append_event, flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, TENANT
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

RANGE = {"since": FIRST_DAY.isoformat(), "until": LAST_DAY.isoformat()}


@pytest.fixture
def loaded(settings: Settings, tenant: TenantOut) -> Settings:
    """The warehouse of ``settings`` holding the synthetic events as ``tenant``'s."""
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        wh.insert_events(
            [e.model_copy(update={"tenant_id": tenant.id}) for e in EVENTS if e.tenant_id == TENANT]
        )
    return settings


@pytest.fixture
def api(app: FastAPI, auth_headers: AuthHeaders, tenant: TenantOut, loaded: Settings) -> Iterator[TestClient]:
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        yield c


def test_reports_over_http_are_the_service_answers(
    api: TestClient, loaded: Settings, tenant: TenantOut
) -> None:
    with open_warehouse(loaded) as wh:
        rfm = service.rfm(wh, tenant.id, since=FIRST_DAY, until=LAST_DAY, limit=10)
        retention = service.retention(wh, tenant.id, period="month", since=FIRST_DAY, until=LAST_DAY)
        funnel = service.funnel(
            wh,
            tenant.id,
            steps=["code.scanned", "order.paid"],
            window_seconds=86400,
            breakdown="channel",
            since=FIRST_DAY,
            until=LAST_DAY,
        )
    got = api.get("/api/v1/analytics/rfm", params={**RANGE, "limit": 10})
    assert got.status_code == 200, got.text
    assert got.json() == rfm.model_dump(mode="json")
    assert got.json()["customers"] > 50
    got = api.get("/api/v1/analytics/retention", params={**RANGE, "period": "month"})
    assert got.json() == retention.model_dump(mode="json")
    got = api.get(
        "/api/v1/analytics/funnel",
        params={**RANGE, "steps": "code.scanned,order.paid", "window_seconds": 86400, "breakdown": "channel"},
    )
    assert got.status_code == 200, got.text
    assert got.json() == funnel.model_dump(mode="json")
    repeated = api.get(
        "/api/v1/analytics/funnel",
        params=[
            ("steps", "code.scanned"),
            ("steps", "order.paid"),
            ("window_seconds", "86400"),
            ("breakdown", "channel"),
            ("since", RANGE["since"]),
            ("until", RANGE["until"]),
        ],
    )
    assert repeated.json() == got.json()
    aarrr = api.get("/api/v1/analytics/funnel/aarrr", params=RANGE).json()
    assert aarrr["stages"] == ["acquisition", "activation", "retention", "revenue", "referral"]
    rarra = api.get("/api/v1/analytics/funnel/rarra", params=RANGE).json()
    assert rarra["stages"] == ["retention", "activation", "referral", "revenue", "acquisition"]
    clv = api.get("/api/v1/analytics/clv", params={"until": RANGE["until"], "limit": 5})
    assert clv.status_code == 200, clv.text
    assert len(clv.json()["top"]) == 5
    types = api.get("/api/v1/analytics/event-types").json()
    assert {"order.paid", "code.scanned", "store.visited"} <= set(types)


@pytest.mark.parametrize(
    ("path", "params", "code", "field"),
    [
        ("funnel", {"steps": "code.scanned,nope.nothing"}, "analytics_unknown_event_type", "steps[1]"),
        ("funnel", {"steps": "code.scanned"}, "analytics_invalid_funnel", "steps"),
        (
            "funnel",
            {"steps": "code.scanned,order.paid", "window_seconds": 0},
            "analytics_invalid_window",
            "window_seconds",
        ),
        (
            "funnel",
            {"steps": "code.scanned,order.paid", "window_seconds": -1},
            "analytics_invalid_window",
            "window_seconds",
        ),
        (
            "funnel",
            {"steps": "code.scanned,order.paid", "window_seconds": "soon"},
            "validation_failed",
            "window_seconds",
        ),
        (
            "funnel",
            {"steps": "code.scanned,order.paid", "breakdown": "city"},
            "analytics_unknown_breakdown",
            "breakdown",
        ),
        ("funnel", {}, "validation_failed", "steps"),
        ("funnel/aarrr", {"window_seconds": 0}, "analytics_invalid_window", "window_seconds"),
        ("rfm", {"since": "2025-06-02", "until": "2025-06-01"}, "analytics_invalid_range", "until"),
        ("rfm", {"since": "yesterday"}, "validation_failed", "since"),
        ("rfm", {"segment": "whales"}, "analytics_invalid_parameter", "segment"),
        ("rfm", {"limit": -1}, "analytics_invalid_parameter", "limit"),
        ("retention", {"period": "day"}, "analytics_invalid_parameter", "period"),
        ("retention", {"cohort_event": "NOT AN EVENT"}, "analytics_unknown_event_type", "cohort_event"),
        ("retention", {"return_event": "no.such"}, "analytics_unknown_event_type", "return_event"),
        ("clv", {"model": "magic"}, "analytics_invalid_parameter", "model"),
        ("clv", {"horizon_weeks": 0}, "analytics_invalid_parameter", "horizon_weeks"),
        ("clv", {"discount_rate": "nan"}, "analytics_invalid_parameter", "discount_rate"),
    ],
)
def test_bad_input_is_a_4xx_problem_naming_the_field(
    api: TestClient, path: str, params: dict[str, object], code: str, field: str
) -> None:
    resp = api.get(f"/api/v1/analytics/{path}", params=params)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code
    assert body["field"] == field


def test_clv_without_enough_history_is_a_4xx(
    app: FastAPI, auth_headers: AuthHeaders, tenant: TenantOut
) -> None:
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        resp = c.get("/api/v1/analytics/clv")
    assert resp.status_code == 422
    assert resp.json()["code"] == "analytics_not_enough_data"


def test_analytics_is_for_brand_users(
    db: Database,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    app: FastAPI,
    auth_headers: AuthHeaders,
    client: TestClient,
    tenant: TenantOut,
    loaded: Settings,
) -> None:
    assert client.get("/api/v1/analytics/rfm").status_code == 401
    with db.session(tenant_id=tenant.id) as s:
        org = network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海沪饮商贸", division_code="310101"),
            session=s,
        )
    with TestClient(app, headers=auth_headers("partner", tenant, org_id=org.id)) as partner:
        resp = partner.get("/api/v1/analytics/rfm")
    assert resp.status_code == 403
    assert resp.json()["code"] == "analytics_brand_user_required"
    user = make_user(role="partner", org_id=org.id)
    with TestClient(app) as browser:
        console_login(browser, user.email)
        page = browser.get("/analytics/funnel")
    assert page.status_code == 403
    assert 'id="analytics-state"' in page.text


def test_other_tenants_see_none_of_these_events(
    app: FastAPI, auth_headers: AuthHeaders, other_tenant: TenantOut, loaded: Settings
) -> None:
    with TestClient(app, headers=auth_headers("owner", other_tenant)) as c:
        body = c.get("/api/v1/analytics/rfm", params=RANGE).json()
    assert body["customers"] == 0


def test_events_reach_the_reports_through_the_outbox(
    db: Database, settings: Settings, app: FastAPI, auth_headers: AuthHeaders, tenant: TenantOut
) -> None:
    start = datetime(2025, 3, 3, 2, tzinfo=UTC)  # Monday 10:00 in Beijing
    with db.session(tenant_id=tenant.id) as s:
        for i, profile in enumerate(("p1", "p2", "p3")):
            append_event(s, type="code.scanned", ts=start + timedelta(hours=i), profile_id=profile)
        append_event(s, type="order.paid", ts=start + timedelta(hours=5), profile_id="p1", amount=1200)
        append_event(s, type="order.paid", ts=start + timedelta(days=9), profile_id="p2", amount=800)
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh, batch_size=100)
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        body = c.get(
            "/api/v1/analytics/funnel",
            params={
                "steps": "code.scanned,order.paid",
                "window_seconds": 7 * 86400,
                "since": "2025-03-03",
                "until": "2025-03-09",
            },
        ).json()
    assert [s["users"] for s in body["total"]["steps"]] == [3, 1]


def test_concurrent_reports_on_one_warehouse_file_agree(loaded: Settings, tenant: TenantOut) -> None:
    answers: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with open_warehouse(loaded) as wh:
                answers.append(service.rfm(wh, tenant.id, since=FIRST_DAY, until=LAST_DAY, limit=5))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(answers) == 4
    assert all(a == answers[0] for a in answers)


# --- Console pages ------------------------------------------------------------------------------


@pytest.fixture
def console(
    app: FastAPI, make_user: MakeUser, console_login: ConsoleLogin, loaded: Settings
) -> Iterator[TestClient]:
    user = make_user(role="owner")
    with TestClient(app) as c:
        console_login(c, user.email)
        yield c


@pytest.mark.parametrize(
    ("path", "params", "marker", "zh", "en"),
    [
        ("/analytics/rfm", RANGE, 'id="rfm-segments"', "冠军客户", "Champions"),
        (
            "/analytics/retention",
            {**RANGE, "mode": "on_or_after"},
            'id="retention-chart"',
            "留存热力图",
            "Retention heatmap",
        ),
        (
            "/analytics/funnel",
            {**RANGE, "breakdown": "region"},
            'id="funnel-chart"',
            "总转化率",
            "Overall conversion",
        ),
        ("/analytics/funnel", {**RANGE, "template": "aarrr"}, "获客", "获客", "Acquisition"),
        ("/analytics/clv", {"until": RANGE["until"]}, 'id="clv-top"', "预测价值", "Predicted value"),
    ],
)
def test_pages_render_in_both_languages(
    console: TestClient, path: str, params: dict[str, str], marker: str, zh: str, en: str
) -> None:
    page = console.get(path, params=params, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text
    assert marker in page.text
    assert zh in page.text
    assert 'href="/analytics/rfm"' in page.text  # the nav entry and the tabs
    assert "/analytics/assets/analytics.js" in page.text
    english = console.get(path, params=params, headers={"Accept-Language": "en"})
    assert en in english.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/analytics/funnel", {"steps": "code.scanned,nope.never"}, "steps[1]"),
        ("/analytics/funnel", {"window_hours": "0"}, "window_seconds"),
        ("/analytics/funnel", {"window_hours": "abc"}, "window_hours"),
        ("/analytics/funnel", {"breakdown": "city"}, "breakdown"),
        ("/analytics/rfm", {"since": "2025-06-02", "until": "2025-06-01"}, "until"),
        ("/analytics/rfm", {"since": "not-a-date"}, "since"),
        ("/analytics/retention", {"mode": "ever"}, "mode"),
        ("/analytics/clv", {"horizon_weeks": "-3"}, "horizon_weeks"),
    ],
)
def test_pages_show_bad_input_with_its_field(
    console: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    page = console.get(path, params=params)
    assert page.status_code == 422, page.text
    assert f'data-field="{field}"' in page.text


def test_pages_without_events_say_so_and_the_script_is_served(
    app: FastAPI, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    user = make_user(role="owner")
    with TestClient(app) as c:
        console_login(c, user.email)
        for path in ("/analytics/rfm", "/analytics/retention", "/analytics/funnel", "/analytics/clv"):
            page = c.get(path)
            assert page.status_code == 200, (path, page.text)
            assert 'id="analytics-empty"' in page.text
        assert c.get("/analytics", follow_redirects=False).headers["location"] == "/analytics/dashboard"
        script = c.get("/analytics/assets/analytics.js")
        assert script.status_code == 200
        assert "echarts.init" in script.text
