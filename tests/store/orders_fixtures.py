"""Fixtures of the order-side tests: a Shanghai channel network with stock, a SKU, a storefront.

The world (tenant "acme"): distributor ``D-SH`` (sales region 上海市), stores ``S-HP`` in 黄浦
(at the district's centroid), ``S-JA`` in 静安 (about 3.5 km away) and ``S-PD`` in 浦东 (about 6 km,
outside the default 5 km radius); SKU ``TEA-500`` at 59.90 yuan; a storefront of ``S-HP``.
Buyers live at the 黄浦 centroid unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from bcone.store import service
from bcone.store.order_schemas import AddressIn, CheckoutIn, CouponIn, OrderOut, StockAdjustIn
from bcone.store.schemas import StorefrontIn

HUANGPU = (121.484428, 31.231739)
PRICE = 5990


@dataclass
class World:
    tenant_id: str
    distributor: str
    store_hp: str
    store_ja: str
    store_pd: str
    sku: str
    sku2: str
    storefront: str
    slug: str


@pytest.fixture
def world(db: Database, tenant: TenantOut) -> World:
    with db.session(tenant_id=tenant.id) as s:
        d = network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D-SH",
                name="上海茶饮",
                division_code="310101",
                sales_regions=["310000"],
            ),
            session=s,
        )

        def store(
            code: str, name: str, division: str, lng: float | None = None, lat: float | None = None
        ) -> str:
            return network.create_organization(
                OrganizationIn(
                    kind="store",
                    code=code,
                    name=name,
                    parent_code="D-SH",
                    division_code=division,
                    lng=lng,
                    lat=lat,
                ),
                session=s,
            ).id

        hp = store("S-HP", "黄浦店", "310101", *HUANGPU)
        ja = store("S-JA", "静安店", "310106")
        pd = store("S-PD", "浦东店", "310115")
        product = catalog.create_product(ProductIn(name="冷泡茶", line="茶饮"), session=s)
        sku = catalog.create_sku(
            SkuIn(product_id=product.id, sku_code="TEA-500", name="冷泡茶 500ml", list_price="59.90"),
            session=s,
        )
        sku2 = catalog.create_sku(
            SkuIn(product_id=product.id, sku_code="TEA-1L", name="冷泡茶 1L", list_price="99.00"), session=s
        )
        front = service.create_storefront(StorefrontIn(org_id=hp), session=s)
        return World(tenant.id, d.id, hp, ja, pd, sku.id, sku2.id, front.id, front.slug)


Stock = Callable[[str, str, int], None]


@pytest.fixture
def stock(db: Database, world: World) -> Stock:
    """``stock(org_id, sku_id, units)``: receive units at an organisation."""

    def _stock(org_id: str, sku_id: str, units: int) -> None:
        with db.session(tenant_id=world.tenant_id) as s:
            service.adjust_stock(StockAdjustIn(org_id=org_id, sku_id=sku_id, delta=units), session=s)

    return _stock


def address(
    division: str = "310101", lng: float | None = HUANGPU[0], lat: float | None = HUANGPU[1]
) -> AddressIn:
    return AddressIn(
        name="张三", phone="13800138000", division_code=division, line="南京东路 1 号", lng=lng, lat=lat
    )


def checkout_in(world: World, quantity: int = 1, **overrides: Any) -> CheckoutIn:
    data: dict[str, Any] = {
        "storefront_id": world.storefront,
        "consumer_key": "o-buyer",
        "items": [{"sku_id": world.sku, "quantity": quantity}],
        "address": address().model_dump(),
    }
    data.update(overrides)
    return CheckoutIn.model_validate(data)


Checkout = Callable[..., OrderOut]


@pytest.fixture
def buy(db: Database, world: World) -> Checkout:
    """``buy(quantity=1, **checkout fields)``: one checkout in its own unit of work."""

    def _buy(quantity: int = 1, **overrides: Any) -> OrderOut:
        with db.session(tenant_id=world.tenant_id) as s:
            return service.checkout(checkout_in(world, quantity, **overrides), session=s)

    return _buy


Pay = Callable[[str], OrderOut]


@pytest.fixture
def simulator(world: World) -> Iterator[service.SimulatorProvider]:
    provider = service.SimulatorProvider("test-secret")
    service.configure_provider(world.tenant_id, provider)
    yield provider
    service.configure_provider(world.tenant_id, None)


@pytest.fixture
def pay(db: Database, world: World, simulator: service.SimulatorProvider) -> Pay:
    """``pay(order_id)``: open a simulator payment and deliver its signed callback."""

    def _pay(order_id: str) -> OrderOut:
        with db.session(tenant_id=world.tenant_id) as s:
            payment = service.start_payment(order_id, session=s, provider=simulator)
        headers, body = simulator.notification(payment.out_trade_no, payment.amount_fen)
        with db.session(tenant_id=world.tenant_id) as s:
            return service.apply_payment_notice(simulator.parse_notification(headers, body), session=s)

    return _pay


def coupon_in(code: str = "SAVE10", **fields: Any) -> CouponIn:
    data: dict[str, Any] = {"code": code, "name": "立减 10 元", "kind": "fixed", "amount_fen": 1000}
    data.update(fields)
    return CouponIn.model_validate(data)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def now() -> datetime:
    return datetime.now(UTC)
