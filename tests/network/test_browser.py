"""The network pages in a real browser: live search, the division picker, inline errors, imports.

Debian's Chromium, driven by Playwright, against a uvicorn server on a free loopback port with its
own SQLite database. Screenshots go to ``test-results/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.models import metadata
from bcone.network import service as network
from tests.browser_support import RESULTS, chromium, live_server, require_chromium
from tests.network.conftest import NETWORK
from tests.network.test_imports import ORG_CSV

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EMAIL, PASSWORD = "owner@acme.example", "network browser password"

require_chromium()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("network-browser")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(session=s, email=EMAIL, display_name="王芳", password=PASSWORD, role="owner")
        network.create_organizations_bulk(NETWORK, session=s)
    with live_server(create_app(settings, db=db)) as url:
        yield url
    db.dispose()


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base_url}/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/")
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"


def _codes(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#org-table tbody tr", "rows => rows.map(r => r.dataset.code)"))


def test_live_search_filters_and_division_picker(base_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{base_url}/network")
    assert len(_codes(page)) == 6
    # The page itself is not reloaded: a marker on the window survives the search.
    page.evaluate("() => { window.__marker = 1 }")
    page.fill("#q", "南山")
    page.wait_for_function("() => document.querySelectorAll('#org-table tbody tr').length === 2")
    assert _codes(page) == ["S-NS1", "W-SZ"]
    assert page.evaluate("() => window.__marker") == 1
    assert "q=%E5%8D%97%E5%B1%B1" in page.url  # the search is in the address, so it can be shared
    page.fill("#q", "")
    page.select_option("#f-kind", "store")
    page.wait_for_function("() => document.querySelectorAll('#org-table tbody tr').length === 3")
    page.fill("#f-division", "北京")
    page.wait_for_function("() => document.querySelectorAll('#division-filter-options option').length > 0")
    page.fill("#f-division", "110000")
    page.press("#f-division", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#org-table tbody tr').length === 1")
    assert _codes(page) == ["S-CY1"]
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "network-search-zh-CN.png"), full_page=True)


def test_form_errors_then_import_report(base_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{base_url}/network/organizations/new")
    page.select_option("select[name=kind]", "store")
    for name, value in {"code": "S-X", "name": "错误示范店", "parent_id": "S-NS1", "division_code": "朝阳区",
                        "contact_phone": "12345"}.items():  # fmt: skip
        page.fill(f"[name={name}]", value)
    page.click("#save")
    page.wait_for_selector("#f-division_code-error")
    assert "有多个同名区划" in page.inner_text("#f-division_code-error")
    assert page.input_value("[name=name]") == "错误示范店"
    page.screenshot(path=str(RESULTS / "network-form-errors-zh-CN.png"), full_page=True)

    csv = tmp_path / "网点.csv"
    csv.write_bytes(ORG_CSV.encode("gbk"))
    page.goto(f"{base_url}/network/import")
    page.set_input_files("#f-file", str(csv))
    page.click("#import-submit")
    page.wait_for_selector("#import-errors")
    rows = page.eval_on_selector_all("#import-errors tbody tr", "rows => rows.map(r => r.cells[0].innerText)")
    assert rows == ["5", "6", "7"]
    assert "未写入任何数据" in page.inner_text("#import-rejected")
    page.screenshot(path=str(RESULTS / "network-import-report-zh-CN.png"), full_page=True)
