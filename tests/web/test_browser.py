"""The console in a real browser: Debian's Chromium driven by Playwright against a live server.

A uvicorn server runs in a background thread on a free loopback port, with its own SQLite
database and DuckDB warehouse, seeded with a brand, its owner, a distributor and a fortnight of
events flushed to the warehouse. Screenshots go to ``test-results/`` for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.events import append_event, flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam import service as iam
from bcone.models import metadata
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from bcone.web.i18n import translate
from tests.browser_support import RESULTS, chromium, live_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "browser test password"
EVENT_TYPES = ("code.scanned", "order.paid", "store.visited")
CHART_READY = """() => {
  const el = document.getElementById('overview-chart');
  const chart = el && window.echarts && window.echarts.getInstanceByDom(el);
  const option = chart && chart.getOption();
  return !!(option && option.series && option.series.length > 0);
}"""

require_chromium()


@dataclass(frozen=True)
class LiveConsole:
    base_url: str
    email: str
    distributor_code: str


def _seed(db: Database, settings: Settings) -> tuple[str, str]:
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        owner = iam.create_user(
            session=s, email="owner@acme.example", display_name="王芳", password=PASSWORD, role="owner"
        )
        distributor = network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海沪饮商贸", division_code="310101"),
            session=s,
        )
        now = datetime.now(UTC)
        for day in range(14):
            for i, event_type in enumerate(EVENT_TYPES):
                # A different, deterministic count per day and type, so the stacked bars vary.
                for n in range((day * 7 + i * 3) % 5 + 1):
                    append_event(
                        s,
                        type=event_type,
                        ts=now - timedelta(days=day, minutes=n),
                        org_id=distributor.id,
                        profile_id=f"p{(day + n) % 9}",
                    )
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh, batch_size=1000)
    return owner.email, distributor.code


@pytest.fixture(scope="module")
def live_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    data = tmp_path_factory.mktemp("browser")
    settings = Settings(
        environment="test",
        data_dir=data,
        database_url=f"sqlite:///{data}/bcone.db",
        warehouse_url=f"duckdb:///{data}/warehouse.duckdb",
    )
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    email, distributor_code = _seed(db, settings)
    try:
        with live_server(create_app(settings, db=db), lifespan="on") as url:
            yield LiveConsole(url, email, distributor_code)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _shot(page: object, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    if page.locator("#overview-chart").count():  # type: ignore[attr-defined]
        # Let the bars finish their entry animation, so the picture shows the real chart.
        page.wait_for_selector("#overview-chart[data-rendered=true]")  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.screenshot(path=str(RESULTS / name), full_page=True)  # type: ignore[attr-defined]


def test_console_login_language_chart_and_new_store(live_console: LiveConsole, page: object) -> None:
    p = page  # a playwright.sync_api.Page
    base = live_console.base_url

    # Anonymous: the console sends us to the login page, which brings us back afterwards.
    p.goto(f"{base}/network")  # type: ignore[attr-defined]
    assert "/login?next=%2Fnetwork" in p.url  # type: ignore[attr-defined]
    p.goto(f"{base}/")  # type: ignore[attr-defined]
    _shot(p, "login-zh-CN.png")
    p.fill("input[name=email]", live_console.email)  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base}/")  # type: ignore[attr-defined]

    # The overview in Chinese, with the chart drawn from the warehouse.
    assert p.get_attribute("html", "lang") == "zh-CN"  # type: ignore[attr-defined]
    assert p.inner_text("#nav-network").strip() == "渠道网络"  # type: ignore[attr-defined]
    assert p.inner_text("#nav-staff").strip() == "门店员工"  # type: ignore[attr-defined]
    p.wait_for_function(CHART_READY)  # type: ignore[attr-defined]
    names = p.evaluate(  # type: ignore[attr-defined]
        "() => echarts.getInstanceByDom(document.getElementById('overview-chart'))"
        ".getOption().series.map(s => s.name)"
    )
    # The series carry each event type's readable zh-CN name.
    assert sorted(names) == sorted(translate(f"event.{t}", "zh-CN") for t in EVENT_TYPES)
    assert int(p.inner_text("#stat-events").replace(",", "")) > 0  # type: ignore[attr-defined]
    # HTMX 2 is loaded and will send the session's CSRF token with every request.
    assert p.evaluate("() => htmx.version").startswith("2.")  # type: ignore[attr-defined]
    headers = p.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))")  # type: ignore[attr-defined]
    assert headers["X-CSRF-Token"]
    assert headers["X-CSRF-Token"] == p.input_value("form[action='/logout'] input[name=csrf_token]")  # type: ignore[attr-defined]
    _shot(p, "overview-zh-CN.png")

    # English, then back to Chinese: the navigation follows.
    p.click("#lang-en")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.documentElement.lang === 'en'")  # type: ignore[attr-defined]
    assert p.inner_text("#nav-network").strip() == "Channel network"  # type: ignore[attr-defined]
    assert p.inner_text("#nav-overview").strip() == "Overview"  # type: ignore[attr-defined]
    assert p.url == f"{base}/"  # type: ignore[attr-defined]
    p.wait_for_function(CHART_READY)  # type: ignore[attr-defined]
    _shot(p, "overview-en.png")

    # The chart follows its container on a phone-sized screen.
    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        """() => { const el = document.getElementById('overview-chart');
                   return Math.abs(echarts.getInstanceByDom(el).getWidth() - el.clientWidth) <= 1; }"""
    )
    # On a phone the navigation is a drawer behind the menu button.
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => getComputedStyle(document.getElementById('sidenav')).visibility === 'hidden'"
    )
    assert not p.is_visible("#nav-staff")  # type: ignore[attr-defined]
    _shot(p, "overview-en-phone.png")
    p.click("[data-nav-toggle]")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.getElementById('sidenav').getBoundingClientRect().left >= 0")  # type: ignore[attr-defined]
    assert p.get_attribute("[data-nav-toggle]", "aria-expanded") == "true"  # type: ignore[attr-defined]
    assert p.is_visible("#nav-staff")  # type: ignore[attr-defined]
    _shot(p, "overview-en-phone-menu.png")
    p.keyboard.press("Escape")  # type: ignore[attr-defined]
    assert p.get_attribute("[data-nav-toggle]", "aria-expanded") == "false"  # type: ignore[attr-defined]
    p.wait_for_selector("#nav-staff", state="hidden")  # type: ignore[attr-defined]
    p.set_viewport_size({"width": 1366, "height": 900})  # type: ignore[attr-defined]

    p.click("#lang-zh")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.documentElement.lang === 'zh-CN'")  # type: ignore[attr-defined]
    assert p.inner_text("#nav-network").strip() == "渠道网络"  # type: ignore[attr-defined]

    # A new store through the network form, then found in the list.
    p.click("#nav-network")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base}/network")  # type: ignore[attr-defined]
    p.click("#org-new")  # type: ignore[attr-defined]
    p.select_option("select[name=kind]", "store")  # type: ignore[attr-defined]
    for name, value in {
        "code": "S-SH-BROWSER",
        "name": "外滩浏览器便利店",
        "parent_id": live_console.distributor_code,
        "division_code": "310101",
        "address": "上海市黄浦区中山东一路 1 号",
        "lng": "121.4905",
        "lat": "31.2397",
        "contact_name": "李雷",
        "contact_phone": "13800138000",
    }.items():
        p.fill(f"[name={name}]", value)  # type: ignore[attr-defined]
    p.click("#save")  # type: ignore[attr-defined]
    p.wait_for_load_state()  # type: ignore[attr-defined]
    assert p.locator(".field-error").count() == 0, p.inner_text("main")  # type: ignore[attr-defined]
    p.goto(f"{base}/network")  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="外滩浏览器便利店")  # type: ignore[attr-defined]
    row.wait_for()
    assert "S-SH-BROWSER" in row.inner_text()
    _shot(p, "network-list-zh-CN.png")
