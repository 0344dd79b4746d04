"""Done when, in a real browser: a consumer opens a shop assistant's shared link, buys with a
coupon and pays (the development payment simulator); the nearest store accepts the order and
completes it with the pickup code; the shop assistant's commission shows pending and then, past
the return window, settled in the partner portal.

Debian's Chromium, driven by Playwright, against a uvicorn server with its own SQLite database.
Screenshots go to ``test-results/store-e2e-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bcone.app import create_app
from bcone.core.db import Database, utcnow
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.models import metadata
from bcone.store import service
from bcone.store.order_schemas import CouponIn, StockAdjustIn
from bcone.store.schemas import CommissionRuleIn, ListingIn, PriceRuleIn, ShareLinkIn
from tests.browser_support import RESULTS, chromium, live_server, require_chromium
from tests.store.storefront_helpers import World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

STORE_EMAIL, OWNER_EMAIL, PASSWORD = "wang@acme.example", "owner@acme.example", "e2e store password"

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database, World, str]]:
    data = tmp_path_factory.mktemp("store-e2e")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    world = make_world(db, tenant)
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(
            session=s,
            email=STORE_EMAIL,
            display_name="王店长",
            password=PASSWORD,
            role="partner",
            org_id=world.store.id,
        )
        iam.create_user(
            session=s, email=OWNER_EMAIL, display_name="品牌运营", password=PASSWORD, role="owner"
        )
        service.create_price_rule(PriceRuleIn(sku_code="TEA-500", floor_fen=400, ceiling_fen=600), session=s)
        service.set_listing(world.s_front.id, ListingIn(sku_code="TEA-500", price_fen=450), session=s)
        service.create_commission_rule(CommissionRuleIn(level1_bp=800, level2_bp=200), session=s)
        service.adjust_stock(StockAdjustIn(org_id=world.store.id, sku_id=world.tea.id, delta=20), session=s)
        service.create_coupon(
            CouponIn(code="WELCOME", name="新人立减 1 元", kind="fixed", amount_fen=100), session=s
        )
        link = service.create_share_link(
            ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=world.a_front.id), session=s
        )
    with live_server(create_app(settings, db=db)) as base_url:
        yield base_url, db, world, link.url
    db.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def _login(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/**")


def test_shared_link_to_coupon_order_nearest_store_and_settled_commission(
    server: tuple[str, Database, World, str], browser: Any
) -> None:
    base_url, db, world, share_path = server
    RESULTS.mkdir(exist_ok=True)
    errors: list[str] = []

    # the consumer, on a phone, opens the shop assistant's link and buys four bottles with a coupon
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    ).new_page()
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(base_url + share_path)
    assert "小李" in phone.inner_text("#shared-by")
    phone.click("a[data-buy='TEA-500']")
    phone.wait_for_selector("#checkout-form")
    phone.fill(f"input[name='qty_{world.tea.id}']", "4")
    phone.click("#cart-update")
    phone.wait_for_selector("#checkout-form")
    assert phone.inner_text("#cart-subtotal") == "¥18.00"
    phone.fill("#f-name", "张三")
    phone.fill("#f-phone", "13800138000")
    phone.fill("#f-division_code", "310101")
    phone.fill("#f-line", "南京东路 1 号")
    phone.check("#f-fulfilment-pickup")
    phone.fill("#f-coupon_code", "welcome")
    phone.screenshot(path=str(RESULTS / "store-e2e-1-checkout-zh-CN.png"), full_page=True)
    phone.click("#place-order")
    phone.wait_for_selector("#order-status[data-status='created']")
    assert phone.inner_text("#order-total") == "¥17.00"
    assert "¥1.00" in phone.inner_text("#order-discount")
    phone.click("#pay-button")
    phone.wait_for_selector("#simulate-pay")
    phone.screenshot(path=str(RESULTS / "store-e2e-2-pay-simulator-zh-CN.png"), full_page=True)
    phone.click("#simulate-pay")
    phone.wait_for_selector("#order-status[data-status='assigned']")
    pickup_code = phone.inner_text("#pickup-code").strip()
    assert len(pickup_code) == 6
    assert "联华超市" in phone.inner_text("#order-fulfiller")  # the nearest store with the goods
    phone.screenshot(path=str(RESULTS / "store-e2e-3-paid-pickup-code-zh-CN.png"), full_page=True)
    order_id = phone.url.rsplit("/", 1)[1]

    # the store's partner user accepts, prepares, and hands the goods over against the code
    store = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    store.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(store, base_url, STORE_EMAIL)
    store.goto(f"{base_url}/store/portal")
    store.wait_for_selector(f"#portal-orders tr[data-order='{order_id}']")
    store.click(f"#portal-orders tr[data-order='{order_id}'] a")
    store.wait_for_selector("#order-accept")
    store.screenshot(path=str(RESULTS / "store-e2e-4-store-order-zh-CN.png"), full_page=True)
    store.click("#order-accept")
    store.wait_for_selector("#order-ready")
    store.click("#order-ready")
    store.wait_for_selector("#order-pickup")
    store.fill("#f-pickup_code", pickup_code)
    store.click("#order-pickup")
    store.wait_for_selector("#order-status[data-status='completed']", state="attached")
    assert [a.get_attribute("data-action") for a in store.query_selector_all("#order-timeline li")] == [
        "created",
        "paid",
        "assigned",
        "accepted",
        "ready_for_pickup",
        "picked_up",
    ]
    store.screenshot(path=str(RESULTS / "store-e2e-5-completed-zh-CN.png"), full_page=True)

    # the shop assistant's commission: pending (8 % of the ¥17.00 paid), then settled
    brand = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    brand.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(brand, base_url, OWNER_EMAIL)
    brand.goto(f"{base_url}/store/portal?storefront_id={world.a_front.id}")
    brand.wait_for_selector("#portal-stats")
    assert brand.inner_text("#portal-name") == world.a_front.name
    assert brand.inner_text("#portal-pending") == "¥1.36"
    assert brand.inner_text("#portal-settled") == "¥0.00"
    brand.screenshot(path=str(RESULTS / "store-e2e-6-commission-pending-zh-CN.png"), full_page=True)
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.settle_due_commissions(session=s, now=utcnow() + timedelta(days=30)) == 2
    brand.reload()
    brand.wait_for_selector("#portal-stats")
    assert brand.inner_text("#portal-pending") == "¥0.00"
    assert brand.inner_text("#portal-settled") == "¥1.36"
    brand.screenshot(path=str(RESULTS / "store-e2e-7-commission-settled-zh-CN.png"), full_page=True)
    assert errors == [], f"JavaScript errors on the page: {errors}"
