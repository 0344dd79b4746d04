"""The diversion page in a real browser: the ECharts scatter renders without JavaScript errors."""

from __future__ import annotations

from typing import Any

import pytest

from bcone.codes import service as codes
from bcone.codes.schemas import BatchIn, Location
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

browser_tests = pytest.importorskip("tests.codes.test_browser")
server = browser_tests.server
browser = browser_tests.browser


def test_diversion_page_draws_the_alerts(server: tuple[str, Database, str], browser: Any) -> None:
    from tests.codes.test_packing import make_orgs

    base_url, db, tenant_id = server
    secret = Settings(environment="test").secret_key
    tenant = TenantOut.model_construct(id=tenant_id)
    distributor, _, _ = make_orgs(db, tenant)
    with db.session(tenant_id=tenant_id) as s:
        batch = codes.create_batch(
            BatchIn(sku_code="ICT-500", count=5, lot="LD1"), session=s, secret_key=secret
        )
        urls = codes.sample_urls(batch.id, 3, session=s, secret_key=secret)
    serials = [u.rsplit("/", 1)[1].split("?")[0] for u in urls]
    with db.session(tenant_id=tenant_id) as s:
        codes.commission(serials, session=s, secret_key=secret)
        codes.ship(serials, distributor, session=s, secret_key=secret)
    with db.session() as s:
        codes.check_code(GTIN14, serials[0], Location(lat=31.19, lng=121.44), session=s, secret_key=secret)
        codes.check_code(GTIN14, serials[1], Location(region="110105"), session=s, secret_key=secret)
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", browser_tests.EMAIL)
    page.fill("input[name=password]", browser_tests.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    page.goto(f"{base_url}/codes/diversion")
    page.wait_for_selector("#diversion-map canvas")
    assert page.locator("#alert-table tbody tr").count() == 2
    assert "超出经销商销售区域" in page.inner_text("#alert-table")
    browser_tests.RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser_tests.RESULTS / "codes-diversion-zh-CN.png"), full_page=True)
    assert errors == [], f"JavaScript errors on the page: {errors}"
