"""Orders through the service, on SQLite and PostgreSQL: checkout, payment, states, refunds,
expiry, bad input, events and tenant isolation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.events import outbox
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.store import service
from bcone.store.order_models import Order, OrderLine, StockReservation
from bcone.store.order_schemas import PlatformOrderIn
from tests.store.orders_fixtures import (
    PRICE,
    Checkout,
    Pay,
    Stock,
    World,
    address,
    buy,
    checkout_in,
    now,
    pay,
    simulator,
    stock,
    world,
)

__all__ = ["buy", "pay", "simulator", "stock", "world"]


def _stock_of(db: Database, world: World, org_id: str, sku_id: str | None = None) -> tuple[int, int]:
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        row = service.get_stock(org_id, sku_id or world.sku, session=s)
        return row.on_hand, row.reserved


def _events(db: Database, world: World, type_: str) -> list[dict[str, object]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.org_id, outbox.c.amount, outbox.c.properties, outbox.c.region).where(
                outbox.c.tenant_id == world.tenant_id, outbox.c.type == type_
            )
        ).all()
    return [dict(r._mapping) for r in rows]


def test_checkout_prices_holds_stock_at_the_nearest_store_and_records_the_event(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 10)
    stock(world.store_ja, world.sku, 10)
    order = buy(3)
    assert order.status == "created"
    assert (order.subtotal_fen, order.discount_fen, order.total_fen) == (3 * PRICE, 0, 3 * PRICE)
    assert order.storefront_org_id == world.store_hp
    assert order.expires_at is not None
    assert [(x.sku_code, x.quantity, x.unit_price_fen) for x in order.lines] == [("TEA-500", 3, PRICE)]
    assert _stock_of(db, world, world.store_hp) == (10, 3)
    assert _stock_of(db, world, world.store_ja) == (10, 0)
    (event,) = _events(db, world, "order.created")
    assert event["amount"] == 3 * PRICE
    assert event["region"] == "310101"


def test_the_nearest_store_with_the_goods_inside_the_radius_wins_else_the_distributor(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay
) -> None:
    stock(world.store_ja, world.sku, 5)  # 静安, ~3.5 km
    stock(world.store_pd, world.sku, 5)  # 浦东, ~6 km: outside the 5 km radius
    stock(world.distributor, world.sku, 5)
    first = pay(buy(1).id)
    assert (first.status, first.assigned_org_id) == ("assigned", world.store_ja)
    second = pay(buy(5).id)  # 静安 has only 4 left: the distributor above the storefront
    assert second.assigned_org_id == world.distributor
    with pytest.raises(BconeError) as caught:
        buy(5)  # nobody within reach has five
    assert (caught.value.code, caught.value.status, caught.value.field) == ("out_of_stock", 409, "items")


def test_paid_order_is_assigned_accepted_shipped_and_completed_taking_the_goods_off_stock(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay
) -> None:
    stock(world.store_hp, world.sku, 10)
    order = pay(buy(2).id)
    assert order.status == "assigned"
    assert order.assigned_org_id == world.store_hp
    assert order.paid_fen == 2 * PRICE
    assert order.expires_at is None
    (paid,) = _events(db, world, "order.paid")
    assert paid["amount"] == 2 * PRICE
    assert paid["org_id"] == world.store_hp
    properties = paid["properties"]
    assert (json.loads(properties) if isinstance(properties, str) else properties) == {
        "order_id": order.id,
        "channel": "store",
        "sharer_id": world.storefront,
    }
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(BconeError) as caught:
            service.ship_order(order.id, session=s, org_id=world.store_hp)
        assert caught.value.code == "order_state_conflict"  # accept first
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(BconeError) as caught:
            service.accept_order(order.id, session=s, org_id=world.store_ja)
        assert caught.value.status == 409  # another store's order
    with db.session(tenant_id=world.tenant_id) as s:
        service.accept_order(order.id, session=s, org_id=world.store_hp)
        service.ship_order(order.id, session=s, org_id=world.store_hp)
    with db.session(tenant_id=world.tenant_id) as s:
        done = service.confirm_delivery(order.id, session=s, actor="consumer")
    assert done.status == "completed"
    assert [e.action for e in done.timeline] == [
        "created",
        "paid",
        "assigned",
        "accepted",
        "shipped",
        "delivered",
    ]
    assert _stock_of(db, world, world.store_hp) == (8, 0)
    assert len(_events(db, world, "order.completed")) == 1
    with db.session(tenant_id=world.tenant_id) as s:
        commissions = service.list_commissions(PageParams(), session=s, order_id=order.id)
    assert commissions.total >= 0  # accrual is the storefront side's; it ran without error


def test_pickup_needs_the_right_code(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay
) -> None:
    stock(world.store_hp, world.sku, 3)
    order = pay(buy(1, fulfilment="pickup").id)
    assert order.pickup_code is not None
    assert len(order.pickup_code) == 6
    with db.session(tenant_id=world.tenant_id) as s:
        service.accept_order(order.id, session=s)
        service.ready_order(order.id, session=s)
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(BconeError) as caught:
            service.confirm_pickup(order.id, wrong, session=s)
        assert (caught.value.status, caught.value.field) == (422, "pickup_code")
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.confirm_pickup(order.id, order.pickup_code, session=s).status == "completed"
    assert _stock_of(db, world, world.store_hp) == (2, 0)


def test_a_declining_store_hands_the_order_and_its_stock_to_the_next(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay
) -> None:
    stock(world.store_hp, world.sku, 2)
    stock(world.store_ja, world.sku, 2)
    order = pay(buy(2).id)
    assert order.assigned_org_id == world.store_hp
    with db.session(tenant_id=world.tenant_id) as s:
        moved = service.decline_order(order.id, session=s, org_id=world.store_hp, reason="店休")
    assert (moved.status, moved.assigned_org_id) == ("assigned", world.store_ja)
    assert _stock_of(db, world, world.store_hp) == (2, 0)
    assert _stock_of(db, world, world.store_ja) == (2, 2)
    with db.session(tenant_id=world.tenant_id) as s:
        last = service.decline_order(order.id, session=s, org_id=world.store_ja)
    assert (last.status, last.assigned_org_id) == ("paid", None)  # nobody else: the brand decides
    assert _stock_of(db, world, world.store_ja) == (2, 0)


def test_cancel_gives_back_stock_and_refuses_a_paid_order(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay
) -> None:
    stock(world.store_hp, world.sku, 5)
    order = buy(5)
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.cancel_order(order.id, session=s, consumer_key="o-buyer").status == "cancelled"
    assert _stock_of(db, world, world.store_hp) == (5, 0)
    paid = pay(buy(1).id)
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(BconeError) as caught:
            service.cancel_order(paid.id, session=s)
        assert (caught.value.code, caught.value.status) == ("order_state_conflict", 409)


def test_unpaid_orders_expire_and_release_their_stock(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 4)
    order = buy(4)
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.expire_orders(session=s, now=now()) == 0
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.expire_orders(session=s, now=now() + timedelta(minutes=16)) == 1
        assert service.get_order(order.id, session=s).status == "cancelled"
    assert _stock_of(db, world, world.store_hp) == (4, 0)
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        statuses = set(s.scalars(select(StockReservation.status)))
    assert statuses == {"released"}


def test_refund_releases_held_stock_and_records_the_event(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay, simulator: service.SimulatorProvider
) -> None:
    stock(world.store_hp, world.sku, 3)
    order = pay(buy(3).id)
    with db.session(tenant_id=world.tenant_id) as s:
        refunded = service.refund_order(order.id, session=s, provider=simulator, reason="买错了")
    assert (refunded.status, refunded.refunded_fen) == ("refunded", 3 * PRICE)
    assert _stock_of(db, world, world.store_hp) == (3, 0)
    assert [e["amount"] for e in _events(db, world, "order.refunded")] == [3 * PRICE]
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(BconeError) as caught:
            service.refund_order(order.id, session=s, provider=simulator)
        assert caught.value.status == 409


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"address": address("999999").model_dump()}, "address.division_code", 422),
        ({"items": [{"sku_id": "NOPE", "quantity": 1}]}, "items.0.sku_id", 422),
        ({"coupon_code": "NOSUCH"}, "coupon_code", 404),
        ({"storefront_id": "00000000-0000-0000-0000-000000000000"}, "storefront_id", 404),
    ],
)
def test_bad_checkouts_name_the_field_and_write_nothing(
    db: Database, world: World, stock: Stock, overrides: dict[str, object], field: str, status: int
) -> None:
    stock(world.store_hp, world.sku, 5)
    with db.session(tenant_id=world.tenant_id) as s, pytest.raises(BconeError) as caught:
        service.checkout(checkout_in(world, 1, **overrides), session=s)
    assert (caught.value.field, caught.value.status) == (field, status)
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
        assert s.scalar(select(func.count()).select_from(OrderLine)) == 0
    assert _stock_of(db, world, world.store_hp) == (5, 0)


def test_platform_orders_appear_in_the_same_views_marked_by_channel(db: Database, world: World) -> None:
    rows = [
        PlatformOrderIn(
            channel="tmall",
            external_id="T1001",
            buyer_key="tb-ouid-1",
            buyer_name="李四",
            division_code="310101",
            created_at=now(),
            lines=[{"sku_code": "TEA-500", "quantity": 2, "paid_fen": 11000}],
        ),
        PlatformOrderIn(
            channel="jd",
            external_id="J9",
            buyer_key="jd-pin-1",
            created_at=now(),
            status="completed",
            lines=[{"sku_code": "TEA-1L", "quantity": 1, "paid_fen": 9900}],
        ),
    ]
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.import_platform_orders(rows, session=s).created == 2
    with db.session(tenant_id=world.tenant_id) as s:
        again = service.import_platform_orders(
            [rows[0].model_copy(update={"status": "shipped"}), rows[1]], session=s
        )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        tmall = service.list_orders(PageParams(), session=s, channel="tmall")
        everything = service.list_orders(PageParams(), session=s)
        found = service.list_orders(PageParams(q="J9"), session=s)
    assert [(o.channel, o.status, o.total_fen) for o in tmall.items] == [("tmall", "shipped", 11000)]
    assert everything.total == 2
    assert [o.external_id for o in found.items] == ["J9"]
    assert len(_events(db, world, "order.paid")) == 2
    assert len(_events(db, world, "order.completed")) == 1


def test_another_tenant_cannot_see_or_touch_an_order(
    db: Database, world: World, stock: Stock, buy: Checkout, other_tenant: TenantOut
) -> None:
    stock(world.store_hp, world.sku, 1)
    order = buy(1)
    with db.session(tenant_id=other_tenant.id) as s:
        assert service.list_orders(PageParams(), session=s).total == 0
        with pytest.raises(BconeError) as caught:
            service.cancel_order(order.id, session=s)
        assert caught.value.status == 404


def test_the_periodic_check_queues_a_job_that_cancels_expired_orders(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    from bcone.core.jobs import run_pending
    from bcone.store.order_jobs import schedule_expiry

    stock(world.store_hp, world.sku, 3)
    fresh = buy(1)
    stale = buy(2, consumer_key="o-late")
    with db.session(tenant_id=world.tenant_id) as s:
        s.execute(
            update(StockReservation)
            .where(StockReservation.order_id == stale.id)
            .values(expires_at=now() - timedelta(minutes=1))
        )
    schedule_expiry(db)
    assert run_pending(db, worker_id="test") >= 1
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert service.get_order(stale.id, session=s).status == "cancelled"
        assert service.get_order(fresh.id, session=s).status == "created"
    assert _stock_of(db, world, world.store_hp) == (3, 1)


def test_a_refund_after_settlement_claws_back_exactly_the_commission_paid(
    db: Database, world: World, stock: Stock, buy: Checkout, pay: Pay, simulator: service.SimulatorProvider
) -> None:
    from bcone.store.schemas import CommissionRuleIn

    with db.session(tenant_id=world.tenant_id) as s:
        service.create_commission_rule(CommissionRuleIn(level1_bp=1000), session=s)
    stock(world.store_hp, world.sku, 5)
    order = pay(buy(2).id)
    with db.session(tenant_id=world.tenant_id) as s:
        service.accept_order(order.id, session=s)
        service.ship_order(order.id, session=s)
        service.confirm_delivery(order.id, session=s)
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.settle_due_commissions(session=s, now=now() + timedelta(days=60)) >= 1
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        settled = service.partner_statement(world.storefront, PageParams(), session=s)
    assert settled.balance_fen == 2 * PRICE // 10  # 10 % of what was paid
    with db.session(tenant_id=world.tenant_id) as s:
        service.refund_order(order.id, session=s, provider=simulator, reason="退货")
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        after = service.partner_statement(world.storefront, PageParams(), session=s)
        commissions = service.list_commissions(PageParams(), session=s, order_id=order.id).items
    assert after.balance_fen == 0
    assert after.totals.clawed_back_fen == 2 * PRICE // 10
    assert {c.status for c in commissions} == {"clawed_back"}
