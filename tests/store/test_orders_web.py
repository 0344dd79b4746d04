"""The order pages on SQLite and PostgreSQL: the consumer's cart, checkout (bad input comes back
naming the field), payment through the simulator's page and the order page; the console's orders
list (filters, search, empty state), order detail with the fulfilment actions, coupons and stock;
a partner acting on its own organisation's order only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.store import service
from bcone.store.order_models import Order
from tests.fixtures_iam import ConsoleLogin, MakeUser
from tests.store.orders_fixtures import PRICE, Stock, World, simulator, stock, world

__all__ = ["simulator", "stock", "world"]


def _consumer(client: TestClient, world: World) -> None:
    assert client.get(f"/s/{world.slug}", params={"openid": "o-web-buyer"}).status_code == 200


def _checkout_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "张三",
        "phone": "13800138000",
        "division_code": "310101",
        "line": "南京东路 1 号",
        "lng": "121.484428",
        "lat": "31.231739",
        "fulfilment": "pickup",
        "coupon_code": "",
    }
    form.update(overrides)
    return form


def test_consumer_buys_from_the_storefront_link_pays_with_the_simulator_and_sees_the_pickup_code(
    db: Database, world: World, stock: Stock, client: TestClient
) -> None:
    stock(world.store_hp, world.sku, 5)
    _consumer(client, world)
    added = client.get(f"/s/{world.slug}/buy", params={"sku": world.sku}, follow_redirects=False)
    assert added.status_code == 303
    cart = client.get(f"/s/{world.slug}/buy")
    assert cart.status_code == 200
    assert "冷泡茶 500ml" in cart.text
    assert 'id="checkout-form"' in cart.text
    assert client.post(f"/s/{world.slug}/cart", data={f"qty_{world.sku}": "2"}).status_code == 200
    bad = client.post(f"/s/{world.slug}/buy", data=_checkout_form(division_code="999999"))
    assert bad.status_code == 422
    assert 'id="f-division_code-error"' in bad.text
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
    placed = client.post(f"/s/{world.slug}/buy", data=_checkout_form(), follow_redirects=False)
    assert placed.status_code == 303, placed.text
    order_url = placed.headers["location"]
    page = client.get(order_url)
    assert 'data-status="created"' in page.text
    assert "¥119.80" in page.text
    to_pay = client.post(order_url + "/pay", follow_redirects=False)
    assert to_pay.status_code == 303
    simulator_page = client.get(to_pay.headers["location"])
    assert 'id="simulate-pay"' in simulator_page.text
    paid = client.post(to_pay.headers["location"], follow_redirects=False)
    assert paid.headers["location"] == order_url
    done = client.get(order_url)
    assert 'data-status="assigned"' in done.text
    assert 'id="pickup-code"' in done.text
    assert "黄浦店" in done.text
    mine = client.get(f"/s/{world.slug}/orders")
    assert order_url.rsplit("/", 1)[1] in mine.text


def test_console_lists_filters_and_acts_on_orders(
    db: Database,
    world: World,
    stock: Stock,
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    simulator: service.SimulatorProvider,
) -> None:
    stock(world.store_hp, world.sku, 5)
    from tests.store.orders_fixtures import checkout_in

    with db.session(tenant_id=world.tenant_id) as s:
        order = service.checkout(checkout_in(world, 1), session=s)
        payment = service.start_payment(order.id, session=s, provider=simulator)
    headers, body = simulator.notification(payment.out_trade_no, PRICE)
    with db.session(tenant_id=world.tenant_id) as s:
        service.apply_payment_notice(simulator.parse_notification(headers, body), session=s)
    owner = make_user("owner")
    token = console_login(client, owner.email)
    listing = client.get("/store/orders")
    assert listing.status_code == 200
    assert order.number in listing.text
    assert order.number not in client.get("/store/orders", params={"channel": "tmall"}).text
    assert 'class="empty-state"' in client.get("/store/orders", params={"q": "nothing-like-this"}).text
    detail = client.get(f"/store/orders/{order.id}")
    assert 'id="order-accept"' in detail.text
    accepted = client.post(f"/store/orders/{order.id}/act", data={"action": "accept", "csrf_token": token})
    assert accepted.status_code == 200
    assert 'id="order-ship"' in accepted.text
    wrong = client.post(f"/store/orders/{order.id}/act", data={"action": "deliver", "csrf_token": token})
    assert wrong.status_code == 400
    assert "cannot deliver" in wrong.text
    assert client.get("/store/coupons").status_code == 200
    made = client.post(
        "/store/coupons",
        data={"code": "WELCOME", "name": "新人券", "kind": "fixed", "amount_fen": "500", "csrf_token": token},
    )
    assert made.status_code == 200
    assert "WELCOME" in made.text
    refused = client.post(
        "/store/coupons",
        data={
            "code": "BAD",
            "name": "x",
            "kind": "threshold",
            "amount_fen": "500",
            "min_spend_fen": "100",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422
    stock_page = client.get("/store/stock")
    assert "黄浦店" in stock_page.text
    adjusted = client.post(
        "/store/stock",
        data={"org_id": "S-JA", "sku_id": "TEA-500", "delta": "7", "reason": "receipt", "csrf_token": token},
    )
    assert adjusted.status_code == 200
    assert "静安店" in adjusted.text


def test_a_partner_acts_only_on_its_own_organisations_orders(
    db: Database,
    world: World,
    stock: Stock,
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    simulator: service.SimulatorProvider,
) -> None:
    from tests.store.orders_fixtures import checkout_in

    stock(world.store_hp, world.sku, 5)
    with db.session(tenant_id=world.tenant_id) as s:
        order = service.checkout(checkout_in(world, 1), session=s)
        payment = service.start_payment(order.id, session=s, provider=simulator)
    headers, body = simulator.notification(payment.out_trade_no, PRICE)
    with db.session(tenant_id=world.tenant_id) as s:
        service.apply_payment_notice(simulator.parse_notification(headers, body), session=s)
    outsider = make_user("partner", org_id=world.store_ja)
    token = console_login(client, outsider.email)
    assert client.get(f"/store/orders/{order.id}").status_code == 404
    assert client.post(
        f"/store/orders/{order.id}/act", data={"action": "accept", "csrf_token": token}
    ).status_code in (400, 404)
    client.cookies.clear()
    partner = make_user("partner", org_id=world.store_hp)
    token = console_login(client, partner.email)
    assert order.number in client.get("/store/orders").text
    resp = client.post(f"/store/orders/{order.id}/act", data={"action": "accept", "csrf_token": token})
    assert resp.status_code == 200
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert service.get_order(order.id, session=s).accepted


def test_the_stock_page_filters_by_organisation_code_and_sku_code(
    db: Database,
    world: World,
    stock: Stock,
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
) -> None:
    stock(world.store_hp, world.sku, 5)
    stock(world.store_ja, world.sku2, 7)
    console_login(client, make_user("owner").email)
    both = client.get("/store/stock")
    assert "黄浦店" in both.text
    assert "静安店" in both.text
    only = client.get("/store/stock", params={"org_id": "S-JA"})
    assert "静安店" in only.text
    assert "黄浦店" not in only.text
    by_sku = client.get("/store/stock", params={"sku_id": "TEA-500"})
    assert "黄浦店" in by_sku.text
    assert "静安店" not in by_sku.text
    assert 'class="empty-state"' in client.get("/store/stock", params={"org_id": "S-PD"}).text
