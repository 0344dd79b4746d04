"""Stock and reservations on SQLite and PostgreSQL: adjustments, the reserved floor, and the flash
sale: 500 concurrent buyers (each with its own unit of work) for 100 units sell exactly 100."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.store import service
from bcone.store.order_models import Order, StockReservation
from bcone.store.order_schemas import StockAdjustIn
from tests.store.orders_fixtures import (
    Checkout,
    Pay,
    Stock,
    World,
    buy,
    checkout_in,
    pay,
    simulator,
    stock,
    world,
)

__all__ = ["buy", "pay", "simulator", "stock", "world"]

T = TypeVar("T")
THREADS = 20


def _together(n: int, work: Callable[[int], T], threads: int = THREADS) -> list[T]:
    """Run ``work(i)`` for i in range(n) on ``threads`` threads that start at the same moment."""
    barrier = threading.Barrier(threads)

    def _chunk(t: int) -> list[T]:
        barrier.wait()
        return [work(i) for i in range(t, n, threads)]

    with ThreadPoolExecutor(threads) as pool:
        return [r for chunk in pool.map(_chunk, range(threads)) for r in chunk]


def test_adjustments_move_stock_on_hand_but_never_below_what_is_reserved(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 10)
    buy(6)
    with db.session(tenant_id=world.tenant_id) as s:
        row = service.adjust_stock(
            StockAdjustIn(org_id=world.store_hp, sku_id=world.sku, delta=-4, reason="damage"), session=s
        )
    assert (row.on_hand, row.reserved, row.available) == (6, 6, 0)
    with db.session(tenant_id=world.tenant_id) as s, pytest.raises(BconeError) as caught:
        service.adjust_stock(StockAdjustIn(org_id=world.store_hp, sku_id=world.sku, delta=-1), session=s)
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "stock_below_reserved",
        409,
        "delta",
    )
    with db.session(tenant_id=world.tenant_id) as s, pytest.raises(BconeError) as caught:
        service.adjust_stock(StockAdjustIn(org_id="nope", sku_id=world.sku, delta=1), session=s)
    assert (caught.value.status, caught.value.field) == (404, "org_id")
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        page = service.list_stock(PageParams(), session=s, org_id=world.store_hp)
    assert [(r.sku_code, r.on_hand, r.reserved, r.org_name) for r in page.items] == [
        ("TEA-500", 6, 6, "黄浦店")
    ]


def test_an_order_of_several_skus_reserves_all_or_nothing(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 5)
    stock(world.store_hp, world.sku2, 1)
    items = [{"sku_id": world.sku, "quantity": 2}, {"sku_id": world.sku2, "quantity": 2}]
    with pytest.raises(BconeError) as caught:
        buy(items=items)
    assert caught.value.code == "out_of_stock"
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert service.get_stock(world.store_hp, world.sku, session=s).reserved == 0
        assert service.get_stock(world.store_hp, world.sku2, session=s).reserved == 0


def test_flash_sale_five_hundred_buyers_for_one_hundred_units_sell_exactly_one_hundred(
    db: Database, world: World, stock: Stock, pay: Pay
) -> None:
    stock(world.store_hp, world.sku, 100)

    def attempt(i: int) -> str:
        try:
            with db.session(tenant_id=world.tenant_id) as s:
                order = service.checkout(checkout_in(world, 1, consumer_key=f"o-{i}"), session=s)
        except BconeError as exc:
            return exc.code
        pay(order.id)
        return "sold"

    outcomes = Counter(_together(500, attempt))
    assert outcomes == Counter({"sold": 100, "out_of_stock": 400})
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        level = service.get_stock(world.store_hp, world.sku, session=s)
        assert (level.on_hand, level.reserved) == (100, 100)
        assert s.scalar(select(func.count()).select_from(Order)) == 100
        assert s.scalar(select(func.count()).select_from(Order).where(Order.status == "assigned")) == 100
        held = s.scalar(select(func.sum(StockReservation.quantity)).where(StockReservation.status == "held"))
        assert held == 100
