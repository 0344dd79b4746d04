"""In Chromium: a consumer scans a code on a phone, logs in with a phone number and the one-time
code (development adapter), wins a red packet that lands in the ledger; the console's packing
forms and fraud-flag page render. Screenshots go to ``test-results/``."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bcone.codes import service as codes
from bcone.codes.schemas import BatchIn
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.promotions import service as promotions
from bcone.promotions.schemas import CampaignIn

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

browser_tests = pytest.importorskip("tests.codes.test_browser")
server = browser_tests.server
browser = browser_tests.browser


class _Codes(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_phone_login_wins_a_red_packet_in_the_ledger(server: tuple[str, Database, str], browser: Any) -> None:
    base_url, db, tenant_id = server
    secret = Settings(environment="test").secret_key
    with db.session(tenant_id=tenant_id) as s:
        batch = codes.create_batch(
            BatchIn(sku_code="ICT-500", count=10, lot="LP1"), session=s, secret_key=secret
        )
        url = codes.sample_urls(batch.id, 1, session=s, secret_key=secret)[0]
        campaign = promotions.create_campaign(
            CampaignIn(
                name="扫码领红包",
                budget_fen=10_000,
                prizes=[{"kind": "red_packet", "probability": 1, "amount_fen": 188}],  # type: ignore[list-item]
            ),
            session=s,
        )
        promotions.change_status(campaign.id, "activate", session=s)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
    handler = _Codes()
    logger = logging.getLogger("bcone.codes.identity")
    logger.addHandler(handler)
    try:
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
        ).new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda exc: errors.append(str(exc)))
        phone.goto(base_url + path)
        assert phone.get_attribute("#verdict", "data-verdict") == "genuine"
        phone.click("#login-phone")
        phone.wait_for_selector("#phone-form")
        phone.fill("#phone", "138 1234 5678")
        phone.click("#send")
        phone.wait_for_selector("#code-sent")
        code = re.search(r"(\d{6})$", handler.lines[-1])
        assert code, handler.lines
        phone.screenshot(path=str(browser_tests.RESULTS / "codes-phone-login-zh-CN.png"), full_page=True)
        phone.fill("#code", code.group(1))
        phone.click("#verify")
        phone.wait_for_selector("#scan-reward")
        assert "1.88" in phone.inner_text("#scan-reward")
        assert "138****5678" in phone.inner_text("#consumer")
        phone.screenshot(path=str(browser_tests.RESULTS / "codes-scan-reward-zh-CN.png"), full_page=True)
        assert errors == [], f"JavaScript errors on the page: {errors}"
    finally:
        logger.removeHandler(handler)
    hashed = codes.phone_hash("13812345678", secret_key=secret, tenant_id=tenant_id)
    with db.session(tenant_id=tenant_id, write=False) as s:
        spec = AccountSpec(kind="consumer_wallet", unit="fen", owner_type="phone", owner_id=hashed)
        wallet = ledger.find_account(spec, session=s)
    assert wallet is not None
    assert wallet.balance == 188


def test_packing_forms_and_fraud_flags_render(server: tuple[str, Database, str], browser: Any) -> None:
    base_url, _, _ = server
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", browser_tests.EMAIL)
    page.fill("input[name=password]", browser_tests.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    page.goto(f"{base_url}/codes/packing")
    page.wait_for_selector("#aggregate-form")
    page.fill("#commission-serials", "NOT-A-CODE")
    page.click("#commission-form button[type=submit]")
    page.wait_for_selector("#commission-error")
    assert "serials[0]" in page.inner_text("#commission-error")
    page.screenshot(path=str(browser_tests.RESULTS / "codes-packing-forms-zh-CN.png"), full_page=True)
    page.goto(f"{base_url}/promotions/flags")
    page.wait_for_selector("#flags-empty")
    page.screenshot(path=str(browser_tests.RESULTS / "promotions-flags-zh-CN.png"), full_page=True)
    assert errors == [], f"JavaScript errors on the page: {errors}"
