"""The storefront, its share poster and the partner portal in a real browser.

A consumer on a phone opens a shop assistant's share link (bound to the assistant), sees the
store's goods and the poster; the store's partner user then sees the commission in the portal.
Debian's Chromium, driven by Playwright, against a uvicorn server with its own SQLite database.
Screenshots go to ``test-results/``.
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
from bcone.store.schemas import (
    CommissionRuleIn,
    ListingIn,
    OrderForCommission,
    OrderLineForCommission,
    PriceRuleIn,
    ShareLinkIn,
)
from tests.browser_support import RESULTS, chromium, live_server, require_chromium
from tests.store.storefront_helpers import World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EMAIL, PASSWORD = "shop@acme.example", "store browser password"

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database, World, str]]:
    data = tmp_path_factory.mktemp("store-browser")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    world = make_world(db, tenant)
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(
            session=s,
            email=EMAIL,
            display_name="王店长",
            password=PASSWORD,
            role="partner",
            org_id=world.store.id,
        )
        service.create_price_rule(PriceRuleIn(sku_code="TEA-500", floor_fen=400, ceiling_fen=600), session=s)
        service.set_listing(world.s_front.id, ListingIn(sku_code="TEA-500", price_fen=450), session=s)
        service.set_listing(world.s_front.id, ListingIn(sku_code="JUICE-1L"), session=s)
        service.create_commission_rule(CommissionRuleIn(level1_bp=800, level2_bp=200), session=s)
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


def test_shared_storefront_poster_and_partner_portal(
    server: tuple[str, Database, World, str], browser: Any
) -> None:
    base_url, db, world, share_path = server
    RESULTS.mkdir(exist_ok=True)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    ).new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(base_url + share_path)
    phone.wait_for_selector("#goods")
    assert "联华超市" in phone.inner_text("#storefront-title")
    assert "小李" in phone.inner_text("#shared-by")
    assert "¥4.50" in phone.inner_text("li[data-sku='TEA-500']")
    phone.screenshot(path=str(RESULTS / "store-storefront-h5-zh-CN.png"), full_page=True)
    openid = next(c["value"] for c in phone.context.cookies() if c["name"] == "openid")
    phone.click("#poster-link")
    phone.wait_for_load_state()
    phone.screenshot(path=str(RESULTS / "store-poster.png"))
    assert errors == [], f"JavaScript errors on the page: {errors}"

    # the consumer's order is paid (the orders side calls this) and later completed and settled
    with db.session(tenant_id=world.tenant_id) as s:
        service.accrue_commissions(
            session=s,
            order=OrderForCommission(
                order_id="ORD-B1",
                consumer_key=openid,
                storefront_id=world.s_front.id,
                lines=[OrderLineForCommission(sku="TEA-500", quantity=4, paid_fen=1800)],
                paid_at=utcnow(),
            ),
        )

    console = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    console.goto(f"{base_url}/login")
    console.fill("input[name=email]", EMAIL)
    console.fill("input[name=password]", PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url(f"{base_url}/**")
    console.goto(f"{base_url}/store/portal")
    console.wait_for_selector("#portal-stats")
    assert console.inner_text("#portal-pending") == "¥0.36"  # 2 % of ¥18.00 for the store
    assert "小李" in console.inner_text("#leaderboard")
    console.screenshot(path=str(RESULTS / "store-portal-pending-zh-CN.png"), full_page=True)

    with db.session(tenant_id=world.tenant_id) as s:
        service.mark_order_completed(session=s, order_id="ORD-B1", completed_at=utcnow() - timedelta(days=8))
        assert service.settle_due_commissions(session=s) == 2
    console.reload()
    console.wait_for_selector("#statement-table")
    assert console.inner_text("#portal-settled") == "¥0.36"
    assert console.inner_text("#portal-balance") == "¥0.36"
    console.screenshot(path=str(RESULTS / "store-portal-settled-zh-CN.png"), full_page=True)
    assert errors == [], f"JavaScript errors on the page: {errors}"
