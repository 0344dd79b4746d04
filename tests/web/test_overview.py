"""The operating overview on both warehouse engines (DuckDB, and ClickHouse through chDB).

Events go the production way: appended to the outbox in a tenant's unit of work, then flushed
to the warehouse; the page and the JSON endpoint read them back through the warehouse port.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.events import append_event, flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam.schemas import TenantOut, UserOut
from bcone.network.schemas import OrganizationOut
from bcone.web.i18n import register_messages
from bcone.web.overview import period
from bcone.web.templating import DISPLAY_TIMEZONE
from tests.fixtures_iam import ConsoleLogin, MakeUser

HTML = {"Accept": "text/html"}

register_messages({"event.test.scanned": ("测试扫码", "Test scan")})


@pytest.fixture(params=["duckdb", "chdb"])
def wh_settings(request: pytest.FixtureRequest, tmp_path: pytest.TempPathFactory) -> Settings:
    """Settings whose warehouse is a fresh DuckDB file or a fresh chDB directory."""
    data = tmp_path / "bcone-data"  # type: ignore[operator]
    url = f"duckdb:///{data}/warehouse.duckdb" if request.param == "duckdb" else f"chdb:///{data}/clickhouse"
    return Settings(environment="test", data_dir=data, warehouse_url=url)


@pytest.fixture
def wh_client(db: Database, wh_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(wh_settings, db=db)) as c:
        yield c


def _local_day_start(days_ago: int) -> datetime:
    today = datetime.now(UTC).astimezone(DISPLAY_TIMEZONE).date()
    day = today - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, tzinfo=DISPLAY_TIMEZONE)


def _seed(db: Database, settings: Settings, tenant_id: str, events: list[dict[str, object]]) -> None:
    with db.session(tenant_id=tenant_id) as s:
        for fields in events:
            append_event(s, **fields)  # type: ignore[arg-type]
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh, batch_size=1000)


@pytest.fixture
def seeded(
    db: Database,
    wh_settings: Settings,
    tenant: TenantOut,
    other_tenant: TenantOut,
    distributor: OrganizationOut,
) -> OrganizationOut:
    """Events of ``tenant`` over the last days (some of ``distributor``), and noise that must not count."""
    minute = timedelta(minutes=1)
    _seed(
        db,
        wh_settings,
        tenant.id,
        [
            {
                "type": "test.scanned",
                "ts": _local_day_start(0) + minute,
                "org_id": distributor.id,
                "profile_id": "p1",
            },
            {"type": "test.scanned", "ts": _local_day_start(0) + 2 * minute, "org_id": distributor.id},
            {"type": "test.scanned", "ts": _local_day_start(1) + timedelta(hours=23), "profile_id": "p2"},
            {
                "type": "test.ordered",
                "ts": _local_day_start(2) + timedelta(hours=12),
                "org_id": "org-x",
                "amount": 990,
            },
            {
                "type": "test.ordered",
                "ts": _local_day_start(40),
                "org_id": distributor.id,
            },  # before the period
        ],
    )
    _seed(
        db, wh_settings, other_tenant.id, [{"type": "test.scanned", "ts": _local_day_start(0) + minute}] * 1
    )
    return distributor


def test_daily_json_counts_the_tenants_events_by_local_day_and_type(
    wh_client: TestClient, owner: UserOut, console_login: ConsoleLogin, seeded: OrganizationOut
) -> None:
    console_login(wh_client, owner.email)
    resp = wh_client.get("/api/v1/overview/daily", params={"days": 7}, headers={"Accept-Language": "en"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expected_days = [d.isoformat() for d in period(7).days]
    assert body["days"] == expected_days
    assert body["days"][-1] == datetime.now(UTC).astimezone(DISPLAY_TIMEZONE).date().isoformat()
    assert body["series"] == [
        {"type": "test.scanned", "label": "Test scan", "values": [0, 0, 0, 0, 0, 1, 2], "total": 3},
        {"type": "test.ordered", "label": "test.ordered", "values": [0, 0, 0, 0, 1, 0, 0], "total": 1},
    ]
    assert body["total"] == 4
    zh = wh_client.get(
        "/api/v1/overview/daily", params={"days": 7}, headers={"Accept-Language": "zh-CN"}
    ).json()
    assert zh["series"][0]["label"] == "测试扫码"
    month = wh_client.get("/api/v1/overview/daily").json()
    assert len(month["days"]) == 30
    assert month["total"] == 4
    longer = wh_client.get("/api/v1/overview/daily", params={"days": 41}).json()
    assert longer["total"] == 5  # the old event is inside a 41-day period


def test_the_local_day_is_china_standard_time(
    db: Database,
    wh_settings: Settings,
    wh_client: TestClient,
    tenant: TenantOut,
    owner: UserOut,
    console_login: ConsoleLogin,
) -> None:
    # 16:30 UTC yesterday is 00:30 today in Beijing: it belongs to today's bar, not yesterday's.
    start_today_utc = _local_day_start(0).astimezone(UTC)
    _seed(
        db,
        wh_settings,
        tenant.id,
        [
            {"type": "test.scanned", "ts": start_today_utc + timedelta(minutes=30)},
            {"type": "test.scanned", "ts": start_today_utc - timedelta(minutes=30)},
        ],
    )
    console_login(wh_client, owner.email)
    body = wh_client.get("/api/v1/overview/daily", params={"days": 2}).json()
    assert body["series"][0]["values"] == [1, 1]


def test_overview_page_shows_counts_chart_and_totals(
    wh_client: TestClient, owner: UserOut, console_login: ConsoleLogin, seeded: OrganizationOut
) -> None:
    console_login(wh_client, owner.email)
    resp = wh_client.get("/", params={"days": 7}, headers=HTML)
    assert resp.status_code == 200
    html = resp.text
    assert '<p class="stat-value" id="stat-events">4</p>' in html
    assert '<p class="stat-value" id="stat-today">2</p>' in html
    assert '<p class="stat-value" id="stat-orgs">2</p>' in html
    assert '<p class="stat-value" id="stat-profiles">2</p>' in html
    assert 'data-src="/api/v1/overview/daily?days=7"' in html
    assert re.search(r'<script src="/static/vendor/echarts/echarts\.min\.js\?v=[0-9a-f]{12}"></script>', html)
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td class=\"hide-sm\"><code>([^<]+)</code></td>"
        r"\s*<td class=\"num\">(\d+)</td>"
        r"\s*<td class=\"num\">([\d.]+)%</td>",
        html,
    )
    assert rows == [("测试扫码", "test.scanned", "3", "75.0"), ("test.ordered", "test.ordered", "1", "25.0")]
    assert '<a href="/?days=7" aria-current="page">近 7 天</a>' in html


def test_a_partner_sees_only_its_own_organisation(
    wh_client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, seeded: OrganizationOut
) -> None:
    partner = make_user("partner", org_id=seeded.id)
    console_login(wh_client, partner.email)
    body = wh_client.get("/api/v1/overview/daily", params={"days": 7}).json()
    assert body["series"] == [
        {"type": "test.scanned", "label": "测试扫码", "values": [0, 0, 0, 0, 0, 0, 2], "total": 2}
    ]
    html = wh_client.get("/", params={"days": 7}, headers=HTML).text
    assert '<p class="stat-value" id="stat-events">2</p>' in html
    assert "仅显示你所在组织的数据" in html


def test_an_empty_warehouse_shows_how_to_get_events(
    wh_client: TestClient, owner: UserOut, console_login: ConsoleLogin
) -> None:
    console_login(wh_client, owner.email)
    html = wh_client.get("/", headers=HTML).text  # nothing flushed yet: the table does not exist
    assert 'id="overview-empty"' in html
    assert "还没有事件" in html
    assert "<code>bcone demo</code>" in html
    assert "<code>bcone events flush</code>" in html
    assert "echarts.min.js" not in html
    body = wh_client.get("/api/v1/overview/daily", params={"days": 3}).json()
    assert body == {"days": [d.isoformat() for d in period(3).days], "series": [], "total": 0}
    wh_client.get("/lang/en")
    assert "No events yet" in wh_client.get("/", headers=HTML).text


def test_the_empty_state_also_holds_for_an_existing_but_empty_table(
    wh_client: TestClient, wh_settings: Settings, owner: UserOut, console_login: ConsoleLogin
) -> None:
    with open_warehouse(wh_settings) as wh:
        wh.ensure_schema()
    console_login(wh_client, owner.email)
    assert 'id="overview-empty"' in wh_client.get("/", headers=HTML).text


@pytest.mark.parametrize("days", [0, 367, -1])
def test_period_length_is_checked(
    wh_client: TestClient, owner: UserOut, console_login: ConsoleLogin, days: int
) -> None:
    console_login(wh_client, owner.email)
    resp = wh_client.get("/api/v1/overview/daily", params={"days": days})
    assert resp.status_code == 422
    assert resp.json()["field"] == "days"


def test_the_platform_operator_has_no_brand_overview(
    wh_client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    operator = make_user("operator")
    console_login(wh_client, operator.email)
    assert "平台运营方不属于任何品牌" in wh_client.get("/", headers=HTML).text
    assert wh_client.get("/api/v1/overview/daily").status_code == 403


def test_api_keys_can_read_the_chart_data(
    db: Database, wh_settings: Settings, auth_headers: object, seeded: OrganizationOut
) -> None:
    with TestClient(create_app(wh_settings, db=db), headers=auth_headers("analyst")) as c:  # type: ignore[operator]
        resp = c.get("/api/v1/overview/daily", params={"days": 7})
    assert resp.status_code == 200
    assert resp.json()["total"] == 4


def test_a_broken_warehouse_does_not_break_the_home_page(
    db: Database, tmp_path: pytest.TempPathFactory, owner: UserOut, console_login: ConsoleLogin
) -> None:
    data = tmp_path / "broken"  # type: ignore[operator]
    data.mkdir()
    (data / "warehouse.duckdb").write_bytes(b"this is not a DuckDB database" * 100)
    settings = Settings(environment="test", data_dir=data)
    with TestClient(create_app(settings, db=db)) as c:
        console_login(c, owner.email)
        resp = c.get("/", headers=HTML)
    assert resp.status_code == 503
    assert "数据仓库暂时不可用" in resp.text
    assert 'id="nav-network"' in resp.text


def test_period_covers_whole_local_days() -> None:
    now = datetime(2025, 3, 10, 17, 0, tzinfo=UTC)  # 01:00 on 11 March in Beijing
    p = period(3, now)
    assert p.days == [date(2025, 3, 9), date(2025, 3, 10), date(2025, 3, 11)]
    assert p.since == datetime(2025, 3, 8, 16, 0, tzinfo=UTC)
    assert p.today == datetime(2025, 3, 10, 16, 0, tzinfo=UTC)
    assert p.until == datetime(2025, 3, 11, 16, 0, tzinfo=UTC)
