"""Coupons on SQLite and PostgreSQL: the three kinds, validity, limits, and the bad cases (expired,
foreign, unknown, below the threshold) refused with a 4xx naming ``coupon_code``."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.store import service
from tests.store.orders_fixtures import (
    PRICE,
    Checkout,
    Stock,
    World,
    buy,
    checkout_in,
    coupon_in,
    days,
    now,
    stock,
    world,
)
from tests.store.test_stock import _together

__all__ = ["buy", "stock", "world"]


def _coupon(db: Database, world: World, code: str = "SAVE10", **fields: object) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        service.create_coupon(coupon_in(code, **fields), session=s)


@pytest.mark.parametrize(
    ("fields", "quantity", "discount"),
    [
        ({"kind": "fixed", "amount_fen": 1000}, 1, 1000),
        ({"kind": "percent", "amount_fen": 0, "percent_off": 15}, 2, 2 * PRICE * 15 // 100),
        ({"kind": "percent", "amount_fen": 0, "percent_off": 50, "max_discount_fen": 2000}, 2, 2000),
        ({"kind": "threshold", "amount_fen": 2000, "min_spend_fen": 10000}, 2, 2000),
    ],
)
def test_each_kind_of_coupon_discounts_and_splits_over_the_lines(
    db: Database,
    world: World,
    stock: Stock,
    buy: Checkout,
    fields: dict[str, object],
    quantity: int,
    discount: int,
) -> None:
    stock(world.store_hp, world.sku, 10)
    stock(world.store_hp, world.sku2, 10)
    _coupon(db, world, **fields)
    items = [{"sku_id": world.sku, "quantity": quantity}, {"sku_id": world.sku2, "quantity": 1}]
    subtotal = quantity * PRICE + 9900
    if fields["kind"] == "percent":
        discount = min(
            subtotal * int(str(fields["percent_off"])) // 100, int(str(fields.get("max_discount_fen", 10**9)))
        )
    order = buy(items=items, coupon_code="save10")
    assert (order.subtotal_fen, order.discount_fen, order.total_fen) == (
        subtotal,
        discount,
        subtotal - discount,
    )
    assert order.coupon_code == "SAVE10"
    assert sum(x.discount_fen for x in order.lines) == discount
    assert sum(x.paid_fen for x in order.lines) == order.total_fen


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"ends_at": now() - days(1), "starts_at": now() - days(10)}, "expired"),
        ({"starts_at": now() + days(1)}, "not_started"),
        ({"status": "disabled"}, "disabled"),
        ({"kind": "threshold", "amount_fen": 1000, "min_spend_fen": 50000}, "below_threshold"),
    ],
)
def test_unusable_coupons_are_refused_naming_the_field_and_nothing_is_written(
    db: Database, world: World, stock: Stock, buy: Checkout, fields: dict[str, object], reason: str
) -> None:
    stock(world.store_hp, world.sku, 5)
    _coupon(db, world, **fields)
    with pytest.raises(BconeError) as caught:
        buy(1, coupon_code="SAVE10")
    assert (caught.value.status, caught.value.field, caught.value.extra.get("reason")) == (
        422,
        "coupon_code",
        reason,
    )
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert service.get_stock(world.store_hp, world.sku, session=s).reserved == 0


def test_a_foreign_or_unknown_coupon_is_not_found(
    db: Database, world: World, stock: Stock, buy: Checkout, other_tenant: TenantOut
) -> None:
    stock(world.store_hp, world.sku, 5)
    with db.session(tenant_id=other_tenant.id) as s:
        service.create_coupon(coupon_in("GLOBEX"), session=s)
    for code in ("GLOBEX", "NOSUCH"):
        with pytest.raises(BconeError) as caught:
            buy(1, coupon_code=code)
        assert (caught.value.code, caught.value.status, caught.value.field) == (
            "coupon_not_found",
            404,
            "coupon_code",
        )


def test_a_per_consumer_limit_holds_under_concurrency_and_a_cancel_gives_the_use_back(
    db: Database, world: World, stock: Stock, buy: Checkout
) -> None:
    stock(world.store_hp, world.sku, 100)
    _coupon(db, world, per_consumer_limit=1, total_limit=50)

    def attempt(i: int) -> str:
        try:
            with db.session(tenant_id=world.tenant_id) as s:
                service.checkout(
                    checkout_in(world, 1, coupon_code="SAVE10", consumer_key=f"o-{i % 5}"), session=s
                )
        except BconeError as exc:
            return str(exc.extra.get("reason", exc.code))
        return "ok"

    outcomes = Counter(_together(40, attempt))
    assert outcomes == Counter({"ok": 5, "consumer_limit": 35})
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        orders = service.list_orders(PageParams(), session=s, consumer_key="o-0")
    with db.session(tenant_id=world.tenant_id) as s:
        service.cancel_order(orders.items[0].id, session=s)
    assert buy(1, coupon_code="SAVE10", consumer_key="o-0").discount_fen == 1000


def test_coupon_input_is_validated() -> None:
    with pytest.raises(ValidationError):
        coupon_in(kind="threshold", amount_fen=1000, min_spend_fen=500)
    with pytest.raises(ValidationError):
        coupon_in(kind="percent", amount_fen=0, percent_off=0)
    with pytest.raises(ValidationError):
        coupon_in(starts_at=now(), ends_at=now() - days(1))
