"""The analytics pages in a real browser (Debian's Chromium through Playwright): every chart is
drawn by ECharts from the page's data, with no JavaScript error, in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.demo import _scale
from bcone.iam import service as iam
from bcone.models import metadata
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, TENANT
from tests.browser_support import RESULTS, chromium, live_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "browser test password"
RANGE = f"since={FIRST_DAY}&until={LAST_DAY}"

require_chromium()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("analytics-browser")
    settings = Settings(
        environment="test",
        data_dir=data,
        database_url=f"sqlite:///{data}/bcone.db",
        warehouse_url=f"duckdb:///{data}/warehouse.duckdb",
    )
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(
            session=s, email="owner@acme.example", display_name="王芳", password=PASSWORD, role="owner"
        )
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        wh.insert_events(
            [e.model_copy(update={"tenant_id": tenant.id}) for e in EVENTS if e.tenant_id == TENANT]
        )
    # A scaled history (shares, NPS answers, Spring Festival) on top, with a named store network.
    with db.session(tenant_id=tenant.id) as s:
        dist = network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D1",
                name="华南经销商",
                division_code="440000",
                sales_regions=["440000"],
            ),
            session=s,
        )
        stores = [
            network.create_organization(
                OrganizationIn(
                    kind="store", code=f"ST{i}", name=f"{name}店", division_code=region, parent_id=dist.id
                ),
                session=s,
            )
            for i, (name, region) in enumerate(
                [
                    ("南山", "440305"),
                    ("黄浦", "310101"),
                    ("朝阳", "110105"),
                    ("锦江", "510104"),
                    ("天河", "440106"),
                ]
            )
        ]
    plan = _scale.HistoryPlan(
        tenant.id,
        3_000,
        365,
        LAST_DAY,
        [_scale.Store(o.id, o.division_code) for o in stores],
        [_scale.Sku(f"SKU-{i}", 3600 + 200 * i) for i in range(8)],
        seed=9,
    )
    _scale.load_history(db, settings, plan)
    try:
        with live_server(create_app(settings, db=db), lifespan="on") as url:
            yield url
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_analytics_chart_is_drawn(base_url: str, browser: object, locale: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{base_url}/login?next=/analytics")
        page.fill("input[name=email]", "owner@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/analytics/dashboard")
        assert page.get_attribute("html", "lang") == locale
        for path, chart in (
            (f"/analytics/rfm?{RANGE}", "rfm-grid-chart"),
            (f"/analytics/retention?{RANGE}&mode=on_or_after", "retention-chart"),
            (
                f"/analytics/funnel?{RANGE}&breakdown=channel&steps=order.paid,code.scanned,order.paid",
                "funnel-chart",
            ),
            (f"/analytics/clv?until={LAST_DAY}", "clv-chart"),
            (f"/analytics/dashboard?{RANGE}", "dashboard-region"),
            (f"/analytics/dashboard?{RANGE}&grain=week", "dashboard-trend"),
            (f"/analytics/dashboard?{RANGE}&province=44", "dashboard-region"),
            (f"/analytics/nps?{RANGE}&breakdown=region", "nps-chart"),
            (f"/analytics/attribution?{RANGE}", "attribution-chart"),
        ):
            page.goto(base_url + path)
            page.wait_for_selector(f"#{chart}[data-rendered=true]")
            series = page.evaluate(
                f"() => echarts.getInstanceByDom(document.getElementById('{chart}')).getOption().series[0].data.length"
            )
            assert series > 0, path
            RESULTS.mkdir(exist_ok=True)
            page.wait_for_timeout(200)
            name = path.split("?")[0].rsplit("/", 1)[-1] + ("-city" if "province=" in path else "")
            page.screenshot(path=str(RESULTS / f"analytics-{name}-{chart}-{locale}.png"), full_page=True)
        link = page.locator("a[href='/analytics/rfm']").first
        assert link.is_visible()
        # Drill-down: a click on the channel chart keeps only that channel.
        page.goto(f"{base_url}/analytics/dashboard?{RANGE}")
        page.wait_for_selector("#dashboard-channel[data-rendered=true]")
        page.locator("#dashboard-channels a").first.click()
        page.wait_for_url("**channel=*")
        assert "channel=" in page.url
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
