"""What checkout keeps per process (storefronts, SKUs, prices, order settings, organisations), on
SQLite and PostgreSQL: a change made in this process is seen by the very next checkout, a rolled
back one never is, one made behind the process's back is seen once the entry expires; and how
many SQL statements checkout → paid costs with the caches warm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuUpdate
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.store import _fulfilment, service
from bcone.store._orders import start_consumer_payment
from bcone.store.order_schemas import OrderSettingsIn
from bcone.store.schemas import ListingIn, StorefrontUpdate
from tests.store.orders_fixtures import (
    PRICE,
    Checkout,
    Stock,
    World,
    buy,
    checkout_in,
    simulator,
    stock,
    world,
)

__all__ = ["buy", "simulator", "stock", "world"]


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    _fulfilment.forget_reference_data()
    yield
    _fulfilment.forget_reference_data()


def test_a_price_change_is_seen_by_the_next_checkout(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 10)
    assert buy().lines[0].unit_price_fen == PRICE  # warms the caches
    with db.session(tenant_id=world.tenant_id) as s:
        service.set_listing(world.storefront, ListingIn(sku_id=world.sku, price_fen=4990), session=s)
    assert buy().lines[0].unit_price_fen == 4990
    with db.session(tenant_id=world.tenant_id) as s:
        catalog.update_sku(world.sku, SkuUpdate(name="冷泡茶 新装"), session=s)
    assert buy().lines[0].name == "冷泡茶 新装"


def test_a_paused_storefront_is_closed_at_once(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 10)
    buy()
    with db.session() as s:
        assert service.open_storefront(world.slug, session=s)[1] == world.storefront
    with db.session(tenant_id=world.tenant_id) as s:
        service.update_storefront(world.storefront, StorefrontUpdate(status="paused"), session=s)
    with db.session() as s, pytest.raises(BconeError) as err:
        service.open_storefront(world.slug, session=s)
    assert err.value.code == "storefront_not_found"
    with pytest.raises(BconeError) as err:
        buy()
    assert err.value.field == "storefront_id"


def test_new_order_settings_apply_to_the_next_checkout(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_ja, world.sku, 10)  # about 3.5 km from the buyer
    assert buy().assigned_org_id is None
    with db.session(tenant_id=world.tenant_id) as s:
        service.update_order_settings(OrderSettingsIn(service_radius_km=1, reservation_minutes=15), session=s)
    with pytest.raises(BconeError) as err:  # no store within 1 km, the distributor holds nothing
        buy()
    assert err.value.code == "out_of_stock"


def test_a_rolled_back_change_is_never_served(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 10)
    buy()
    s = db.open_session()
    s.info["tenant_id"] = world.tenant_id
    try:
        catalog.update_sku(world.sku, SkuUpdate(name="未提交"), session=s)
        order = service.checkout(checkout_in(world), session=s)
        assert order.lines[0].name == "未提交"  # its own transaction sees the change
    finally:
        s.rollback()
        s.close()
    assert buy().lines[0].name == "冷泡茶 500ml"


def test_a_change_made_elsewhere_is_seen_once_the_entry_expires(
    db: Database, world: World, stock: Stock, buy: Checkout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (a second server worker) changed the SKU: this one serves its copy until
    the entry expires (REFERENCE_SECONDS), here forced by dropping it."""
    from bcone.catalog.models import Sku  # the test writes behind the service's back

    stock(world.store_hp, world.sku, 10)
    buy()
    with db.engine.begin() as conn:  # not through a Session: nothing in this process notices
        conn.execute(update(Sku).where(Sku.id == world.sku).values(name="别处改名"))
    assert buy().lines[0].name == "冷泡茶 500ml"
    _fulfilment.forget_reference_data()  # what expiry does
    assert buy().lines[0].name == "别处改名"
    monkeypatch.setattr(_fulfilment, "REFERENCE_SECONDS", 0.0)  # entries expire at once
    _fulfilment.forget_reference_data()
    buy()
    with db.engine.begin() as conn:
        conn.execute(update(Sku).where(Sku.id == world.sku).values(name="又改了"))
    assert buy().lines[0].name == "又改了"


def test_checkout_to_paid_statements_with_warm_caches(
    db: Database, world: World, stock: Stock, buy: Checkout, simulator: service.SimulatorProvider
) -> None:
    """The statements of the consumer's three requests, once the reference data is cached:
    checkout 8 (binding, outbox, order, timeline, line, candidates, stock hold, reservation), the
    pay button 2 (the order, locked; the payment), the callback 9 (payment and order locked
    together and written once each, the lines, the stock hold kept and its holder read back, the
    timeline, the event, the timeline read back) plus what the commission accrual reads and writes
    (13 in this world). Before: 23 + 6 + 26."""
    stock(world.store_hp, world.sku, 1000)
    buy(consumer_key="warm")
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    def counted(fn: Any) -> tuple[Any, int]:
        statements.clear()
        with db.session(tenant_id=world.tenant_id) as s:
            value = fn(s)
        return value, len(
            [x for x in statements if not x.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
        )

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        order, n_checkout = counted(lambda s: service.checkout(checkout_in(world), session=s))
        payment, n_pay = counted(
            lambda s: start_consumer_payment(order.id, "o-buyer", session=s, provider=simulator)
        )
        headers, body = simulator.notification(payment.out_trade_no, payment.amount_fen)
        notice = simulator.parse_notification(headers, body)
        paid, n_callback = counted(lambda s: service.apply_payment_notice(notice, session=s))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert paid.status == "assigned"
    assert paid.assigned_org_id == world.store_hp
    assert [e.action for e in paid.timeline] == ["created", "paid", "assigned"]
    assert n_checkout <= 8
    assert n_pay <= 2
    assert n_callback <= 24  # 9 of the order side, the rest the commission accrual's
