"""The crm pages in a real browser: Debian's Chromium driven by Playwright against a live server
seeded with a generated pipeline and a trained model. Screenshots go to ``test-results/``."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.crm import service
from bcone.iam import service as iam
from bcone.models import metadata

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "browser test password"
EMAIL = "owner@acme.example"
CHART_SERIES = """() => {
  const el = document.getElementById('reliability-chart');
  const chart = el && window.echarts && window.echarts.getInstanceByDom(el);
  const option = chart && chart.getOption();
  return option && option.series ? option.series.length : 0;
}"""

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing; CI must install Debian's chromium package")
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

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
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, db=db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        db.dispose()


@pytest.fixture
def page(base_url: str) -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
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
