"""The codes pages in a real browser: generate a batch in the console, scan a code on a phone.

Debian's Chromium, driven by Playwright, against a uvicorn server on a free loopback port with its
own SQLite database. Screenshots go to ``test-results/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bcone.app import create_app
from bcone.codes import service as codes
from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.models import metadata
from tests.browser_support import RESULTS, chromium, live_server, require_chromium
from tests.codes.conftest import add_skus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EMAIL, PASSWORD = "owner@acme.example", "codes browser password"

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database, str]]:
    data = tmp_path_factory.mktemp("codes-browser")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(session=s, email=EMAIL, display_name="王芳", password=PASSWORD, role="owner")
    add_skus(db, tenant)
    with live_server(create_app(settings, db=db)) as base_url:
        yield base_url, db, tenant.id
    db.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def test_generate_a_batch_then_scan_one_of_its_codes_on_a_phone(
    server: tuple[str, Database, str], browser: Any
) -> None:
    base_url, db, tenant_id = server
    RESULTS.mkdir(exist_ok=True)
    console = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    errors: list[str] = []
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    console.goto(f"{base_url}/login")
    console.fill("input[name=email]", EMAIL)
    console.fill("input[name=password]", PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url(f"{base_url}/")
    console.click("a[href='/codes']")
    console.wait_for_selector("#batch-form")
    console.fill("[name=sku_code]", "ICT-500")
    console.fill("[name=count]", "1000")
    console.fill("[name=lot]", "L240601")
    console.fill("[name=expiry_date]", "2027-12-31")
    console.click("#batch-submit")
    console.wait_for_selector("#batch-table tbody tr")
    assert "L240601" in console.inner_text("#batch-table")
    console.screenshot(path=str(RESULTS / "codes-batches-zh-CN.png"), full_page=True)
    assert errors == [], f"JavaScript errors on the page: {errors}"

    with db.session(tenant_id=tenant_id, write=False) as s:
        batch_id = codes.list_batches(PageParams(), session=s).items[0].id
        url = codes.sample_urls(batch_id, 1, session=s, secret_key=Settings(environment="test").secret_key)[0]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    ).new_page()
    phone.goto(base_url + path)
    assert phone.get_attribute("#verdict", "data-verdict") == "genuine"
    assert "正品" in phone.inner_text("#verdict")
    assert phone.inner_text("#product-name") == "冰红茶 500ml"
    phone.screenshot(path=str(RESULTS / "codes-scan-genuine-zh-CN.png"), full_page=True)
    phone.goto(base_url + path)
    assert phone.get_attribute("#verdict", "data-verdict") == "checked_before"
    assert phone.inner_text("#check-count") == "2"
    serial = path.rsplit("/", 1)[1].split("?")[0]
    phone.goto(base_url + path.replace(serial, serial[:-1] + ("0" if serial[-1] != "0" else "1")))
    assert phone.get_attribute("#verdict", "data-verdict") == "forged"
    assert "非正品码" in phone.inner_text("#verdict")
    phone.screenshot(path=str(RESULTS / "codes-scan-forged-zh-CN.png"), full_page=True)
