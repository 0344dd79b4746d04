"""The orders API on SQLite and PostgreSQL: a partner acts only on orders assigned to its
organisation, brand roles import platform orders and adjust stock, bad input is a 4xx naming the
field with nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.store import service
from tests.fixtures_iam import AuthHeaders
from tests.store.orders_fixtures import Checkout, Pay, Stock, World, buy, now, pay, simulator, stock, world

__all__ = ["buy", "pay", "simulator", "stock", "world"]


def test_a_partner_sees_and_fulfils_only_its_own_orders(
    db: Database,
    world: World,
    stock: Stock,
    buy: Checkout,
    pay: Pay,
    client: TestClient,
    auth_headers: AuthHeaders,
) -> None:
    stock(world.store_hp, world.sku, 5)
    order = pay(buy(1).id)
    outsider = auth_headers("partner", org_id=world.store_ja)
    assert client.get("/api/v1/store/orders", headers=outsider).json()["total"] == 0
    assert client.get(f"/api/v1/store/orders/{order.id}", headers=outsider).status_code == 404
    refused = client.post(f"/api/v1/store/orders/{order.id}/accept", headers=outsider)
    assert refused.status_code == 409
    assert refused.json()["field"] == "assigned_org_id"
    mine = auth_headers("partner", org_id=world.store_hp)
    assert client.get("/api/v1/store/orders", headers=mine).json()["total"] == 1
    assert client.post(f"/api/v1/store/orders/{order.id}/accept", headers=mine).json()["accepted"] is True
    assert client.post(f"/api/v1/store/orders/{order.id}/ship", headers=mine).json()["status"] == "shipped"
    wrong = client.post(f"/api/v1/store/orders/{order.id}/ship", headers=mine)
    assert (wrong.status_code, wrong.json()["code"]) == (409, "order_state_conflict")
    assert client.post(f"/api/v1/store/orders/{order.id}/refund", headers=mine).status_code == 403
    done = client.post(f"/api/v1/store/orders/{order.id}/deliver", headers=mine)
    assert done.json()["status"] == "completed"


def test_brand_imports_platform_orders_adjusts_stock_and_manages_coupons(
    db: Database, world: World, owner_client: TestClient
) -> None:
    rows = [
        {
            "channel": "douyin",
            "external_id": "DY-1",
            "buyer_key": "dy-open-1",
            "created_at": now().isoformat(),
            "lines": [{"sku_code": "TEA-500", "quantity": 1, "paid_fen": 5000}],
        }
    ]
    first = owner_client.post("/api/v1/store/platform-orders", json=rows)
    assert first.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert owner_client.post("/api/v1/store/platform-orders", json=rows).json()["unchanged"] == 1
    listed = owner_client.get("/api/v1/store/orders", params={"channel": "douyin"}).json()
    assert [o["external_id"] for o in listed["items"]] == ["DY-1"]
    bad = owner_client.post("/api/v1/store/platform-orders", json=[{**rows[0], "channel": "taobao"}])
    assert (bad.status_code, bad.json()["field"]) == (422, "0.channel")

    adjust = {"org_id": world.store_hp, "sku_id": world.sku, "delta": 12, "reason": "receipt"}
    assert owner_client.post("/api/v1/store/stock/adjustments", json=adjust).json()["available"] == 12
    zero = owner_client.post("/api/v1/store/stock/adjustments", json={**adjust, "delta": 0})
    assert zero.status_code == 422
    floor = owner_client.post("/api/v1/store/stock/adjustments", json={**adjust, "delta": -13})
    assert (floor.status_code, floor.json()["code"]) == (409, "stock_below_reserved")
    stock_rows = owner_client.get("/api/v1/store/stock", params={"org_id": world.store_hp}).json()["items"]
    assert [(r["on_hand"], r["reserved"]) for r in stock_rows] == [(12, 0)]

    coupon = {"code": "half", "name": "半价", "kind": "percent", "percent_off": 50, "max_discount_fen": 3000}
    made = owner_client.post("/api/v1/store/coupons", json=coupon)
    assert made.status_code == 201
    assert made.json()["code"] == "HALF"
    again = owner_client.post("/api/v1/store/coupons", json=coupon)
    assert (again.status_code, again.json()["field"]) == (409, "code")
    off = owner_client.post(f"/api/v1/store/coupons/{made.json()['id']}/disable")
    assert off.json()["status"] == "disabled"
    settings = owner_client.put(
        "/api/v1/store/order-settings", json={"service_radius_km": 3, "reservation_minutes": 10}
    )
    assert settings.json() == {"service_radius_km": 3.0, "reservation_minutes": 10}
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert service.get_order_settings(session=s).service_radius_km == 3.0
