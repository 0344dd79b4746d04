"""The crm pages in a real browser: Debian's Chromium driven by Playwright against a live server
seeded with a generated pipeline and a trained model. Screenshots go to ``test-results/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.crm import service
from bcone.iam import service as iam
from bcone.models import metadata
from tests.browser_support import RESULTS, chromium, live_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "browser test password"
EMAIL = "owner@acme.example"
CHART_SERIES = """() => {
  const el = document.getElementById('reliability-chart');
  const chart = el && window.echarts && window.echarts.getInstanceByDom(el);
  const option = chart && chart.getOption();
  return option && option.series ? option.series.length : 0;
}"""

require_chromium()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("crm-browser")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        owner = iam.create_user(session=s, email=EMAIL, display_name="王芳", password=PASSWORD, role="owner")
        service.generate_pipeline(session=s, closed=3000, open_count=120, seed=4, owner_user_ids=[owner.id])
    with db.session(tenant_id=tenant.id) as s:
        assert service.train_win_model(session=s) is not None
    try:
        with live_server(create_app(settings, db=db)) as url:
            yield url
    finally:
        db.dispose()


@pytest.fixture
def page(base_url: str) -> Iterator[object]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"


def test_pipeline_search_opportunity_and_model_pages(base_url: str, page: object) -> None:
    p = page  # a playwright.sync_api.Page
    RESULTS.mkdir(exist_ok=True)
    p.goto(f"{base_url}/login")  # type: ignore[attr-defined]
    p.fill("input[name=email]", EMAIL)  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base_url}/")  # type: ignore[attr-defined]
    assert p.inner_text("#nav-crm").strip() == "销售商机"  # type: ignore[attr-defined]

    p.goto(f"{base_url}/crm?status=open")  # type: ignore[attr-defined]
    before = p.locator("#opp-table tbody tr").count()  # type: ignore[attr-defined]
    assert before == 50
    # Search as you type: HTMX swaps only the results.
    p.fill("#q", "陈列协议 30")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.querySelectorAll('#opp-table tbody tr').length < 50")  # type: ignore[attr-defined]
    assert "陈列协议" in p.inner_text("#opp-table tbody tr:first-child")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-pipeline-zh-CN.png"), full_page=True)  # type: ignore[attr-defined]

    p.click("#opp-table tbody tr:first-child a")  # type: ignore[attr-defined]
    p.wait_for_selector("#reasons li")  # type: ignore[attr-defined]
    assert "%" in p.inner_text("#stat-probability")  # type: ignore[attr-defined]
    assert p.locator("#scorecard tr[data-item]").count() == 12  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-opportunity-zh-CN.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base_url}/crm/model")  # type: ignore[attr-defined]
    p.wait_for_function(CHART_SERIES)  # type: ignore[attr-defined]
    assert p.evaluate(CHART_SERIES) == 4  # ideal, raw, calibrated, own estimates  # type: ignore[attr-defined]
    p.wait_for_selector("#reliability-chart[data-rendered=true]")  # type: ignore[attr-defined]
    p.wait_for_timeout(300)  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-model-zh-CN.png"), full_page=True)  # type: ignore[attr-defined]

    # The scorecard: the current version, its history, and the form of a new version; an empty
    # name comes back next to its field and nothing is saved.
    p.goto(f"{base_url}/crm/scorecard")  # type: ignore[attr-defined]
    assert p.locator("#scorecard-items tbody tr").count() == 12  # type: ignore[attr-defined]
    p.fill("[name='items.0.label_zh']", "")  # type: ignore[attr-defined]
    p.click("#scorecard-save")  # type: ignore[attr-defined]
    p.wait_for_selector("[id='f-items.0.label_zh-error']")  # type: ignore[attr-defined]
    assert p.locator("#scorecard-history tbody tr").count() == 1  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-scorecard-zh-CN.png"), full_page=True)  # type: ignore[attr-defined]
    p.evaluate("document.getElementById('scorecard-edit').scrollIntoView()")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-scorecard-error-zh-CN.png"))  # type: ignore[attr-defined]
