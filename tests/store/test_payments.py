"""Payments on SQLite and PostgreSQL: the WeChat Pay JSAPI adapter with keys generated here (request
signing checked by a stand-in WeChat Pay server, paySign, callback verification and decryption),
the simulator through the HTTP API, tampered callbacks refused with nothing written, and a callback
delivered twice (also twice at once) completing the order once."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.events import outbox
from bcone.ledger import wechatpay
from bcone.ledger.wechatpay import WechatPayConfig
from bcone.store import service
from bcone.store.order_models import Order, OrderEvent, Payment
from bcone.store.wechatpay_jsapi import (
    JSAPI_PATH,
    REFUND_PATH,
    WechatPayJsapiProvider,
    parse_payment_notification,
    pay_sign_message,
)
from tests.store.orders_fixtures import (
    PRICE,
    Checkout,
    Stock,
    World,
    address,
    buy,
    pay,
    simulator,
    stock,
    world,
)
from tests.store.test_stock import _together

__all__ = ["buy", "pay", "simulator", "stock", "world"]

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
PLATFORM_SERIAL = "PLATFORM-SERIAL-1"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StandInWechatPay:
    """WeChat Pay's side, with its own platform key: checks the merchant's signatures, answers
    signed, and builds signed, encrypted payment callbacks."""

    def __init__(self, merchant_public: rsa.RSAPublicKey) -> None:
        self.merchant_public = merchant_public
        self.platform_key = _key()
        self.apiv3_key = secrets.token_hex(16).encode()
        self.requests: list[dict[str, Any]] = []

    def config(self, merchant_key: rsa.RSAPrivateKey) -> WechatPayConfig:
        return WechatPayConfig(
            mchid=MCHID,
            appid=APPID,
            merchant_serial_no="MERCHANT-SERIAL-1",
            merchant_private_key=merchant_key,
            platform_serial_no=PLATFORM_SERIAL,
            platform_public_key=self.platform_key.public_key(),
            apiv3_key=self.apiv3_key,
            base_url="https://api.mch.weixin.qq.com",
        )

    def signed_headers(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": PLATFORM_SERIAL,
            "Wechatpay-Signature": wechatpay.sign(self.platform_key, f"{ts}\n{nonce}\n{body}\n"),
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        auth = wechatpay.parse_authorization(request.headers["Authorization"])
        message = wechatpay.request_message(
            request.method, request.url.raw_path.decode(), auth["timestamp"], auth["nonce_str"], body
        )
        if auth["mchid"] != MCHID or not wechatpay.verify(self.merchant_public, message, auth["signature"]):
            answer = json.dumps({"code": "SIGN_ERROR", "message": "签名错误"})
            return httpx.Response(401, content=answer, headers=self.signed_headers(answer))
        payload = json.loads(body)
        self.requests.append({"path": request.url.path, **payload})
        if request.url.path == JSAPI_PATH:
            answer = json.dumps({"prepay_id": "wx" + payload["out_trade_no"][:20]})
        else:
            answer = json.dumps({"refund_id": "50" + payload["out_refund_no"][:20], "status": "PROCESSING"})
        return httpx.Response(200, content=answer, headers=self.signed_headers(answer))

    def callback(
        self, out_trade_no: str, amount_fen: int, *, timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        resource = {
            "appid": APPID,
            "mchid": MCHID,
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000000" + secrets.token_hex(6),
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "success_time": "2026-11-23T18:00:00+08:00",
            "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY"},
            "payer": {"openid": "o-buyer"},
        }
        nonce = secrets.token_hex(6)
        envelope = {
            "id": secrets.token_hex(8),
            "create_time": "2026-11-23T18:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": wechatpay.encrypt_resource(
                    self.apiv3_key, json.dumps(resource), nonce=nonce, associated_data="transaction"
                ),
                "associated_data": "transaction",
                "original_type": "transaction",
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope)
        return self.signed_headers(body, timestamp), body.encode()


@pytest.fixture
def wechat(world: World) -> Any:
    merchant = _key()
    standin = StandInWechatPay(merchant.public_key())
    client = httpx.Client(transport=httpx.MockTransport(standin.handle))
    provider = WechatPayJsapiProvider(standin.config(merchant), "https://shop.example/notify", client=client)
    service.configure_provider(world.tenant_id, provider)
    yield standin, provider, merchant
    service.configure_provider(world.tenant_id, None)


def _verify(public: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def test_jsapi_prepay_is_signed_and_the_h5_page_gets_a_valid_pay_sign(
    db: Database, world: World, stock: Stock, buy: Checkout, wechat: Any
) -> None:
    standin, provider, merchant = wechat
    stock(world.store_hp, world.sku, 2)
    order = buy(2)
    with db.session(tenant_id=world.tenant_id) as s:
        payment = service.start_payment(order.id, session=s, provider=provider, payer_openid="o-buyer")
    (sent,) = standin.requests
    assert sent["amount"] == {"total": 2 * PRICE, "currency": "CNY"}
    assert (sent["payer"], sent["appid"], sent["mchid"]) == ({"openid": "o-buyer"}, APPID, MCHID)
    assert sent["notify_url"] == "https://shop.example/notify"
    params = payment.pay_params
    assert params["package"] == "prepay_id=wx" + payment.out_trade_no[:20]
    assert params["signType"] == "RSA"
    message = pay_sign_message(params["appId"], params["timeStamp"], params["nonceStr"], params["package"])
    assert _verify(merchant.public_key(), message, params["paySign"])
    assert not _verify(_key().public_key(), message, params["paySign"])


def test_jsapi_callback_is_verified_decrypted_and_applied(
    db: Database, world: World, stock: Stock, buy: Checkout, wechat: Any
) -> None:
    standin, provider, _ = wechat
    stock(world.store_hp, world.sku, 1)
    order = buy(1)
    with db.session(tenant_id=world.tenant_id) as s:
        payment = service.start_payment(order.id, session=s, provider=provider, payer_openid="o-buyer")
    headers, body = standin.callback(payment.out_trade_no, PRICE)
    notice = parse_payment_notification(provider.config, headers, body)
    assert (notice.trade_state, notice.amount_fen, notice.out_trade_no) == (
        "SUCCESS",
        PRICE,
        payment.out_trade_no,
    )
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.apply_payment_notice(notice, session=s).status == "assigned"
    with db.session(tenant_id=world.tenant_id) as s:
        refunded = service.refund_order(order.id, session=s, provider=provider)
    assert refunded.status == "refunded"
    assert standin.requests[-1]["path"] == REFUND_PATH
    assert standin.requests[-1]["amount"] == {"refund": PRICE, "total": PRICE, "currency": "CNY"}


def _tampered(standin: StandInWechatPay, out_trade_no: str) -> list[tuple[str, dict[str, str], bytes]]:
    headers, body = standin.callback(out_trade_no, PRICE)
    bad_body = body.replace(b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCEED"')
    forged = StandInWechatPay(standin.merchant_public)  # another platform key
    forged.apiv3_key = standin.apiv3_key
    forged_headers, forged_body = forged.callback(out_trade_no, PRICE)
    stale_headers, stale_body = standin.callback(out_trade_no, PRICE, timestamp=int(time.time()) - 3600)
    envelope = json.loads(body)
    envelope["resource"]["ciphertext"] = base64.b64encode(b"x" * 64).decode()
    swapped = json.dumps(envelope)
    return [
        ("body changed", headers, bad_body),
        ("wrong platform key", forged_headers, forged_body),
        ("replayed an hour later", stale_headers, stale_body),
        ("resource does not decrypt", standin.signed_headers(swapped), swapped.encode()),
        ("unsigned", {}, body),
    ]


def test_tampered_callbacks_get_401_through_the_api_and_write_nothing(
    db: Database, world: World, stock: Stock, buy: Checkout, wechat: Any, client: TestClient
) -> None:
    standin, provider, _ = wechat
    stock(world.store_hp, world.sku, 1)
    order = buy(1)
    with db.session(tenant_id=world.tenant_id) as s:
        payment = service.start_payment(order.id, session=s, provider=provider, payer_openid="o-buyer")
    url = f"/api/v1/store/payments/wechat_jsapi/{world.tenant_id}/notify"
    for case, headers, body in _tampered(standin, payment.out_trade_no):
        resp = client.post(url, content=body, headers=headers)
        assert resp.status_code == 401, case
        assert resp.json()["code"] == "invalid_callback_signature", case
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(Order.status)) == "created"
        assert s.scalar(select(Payment.status)) == "pending"
    headers, body = standin.callback(payment.out_trade_no, PRICE)
    first = client.post(url, content=body, headers=headers)
    again = client.post(url, content=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == {"code": "SUCCESS", "message": "OK"}
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(Order.status)) == "assigned"
        assert s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "paid")) == 1


def test_a_callback_delivered_many_times_at_once_pays_the_order_once(
    db: Database, world: World, stock: Stock, buy: Checkout, simulator: service.SimulatorProvider
) -> None:
    stock(world.store_hp, world.sku, 1)
    order = buy(1)
    with db.session(tenant_id=world.tenant_id) as s:
        payment = service.start_payment(order.id, session=s, provider=simulator)
    headers, body = simulator.notification(payment.out_trade_no, payment.amount_fen)

    def deliver(_: int) -> str:
        with db.session(tenant_id=world.tenant_id) as s:
            return service.apply_payment_notice(simulator.parse_notification(headers, body), session=s).status

    assert Counter(_together(20, deliver, threads=10)) == Counter({"assigned": 20})
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "paid")) == 1
        assert s.scalar(select(Payment.status)) == "succeeded"
    with db.engine.connect() as conn:
        paid = conn.execute(select(func.count()).where(outbox.c.type == "order.paid")).scalar()
    assert paid == 1


def test_a_callback_with_another_amount_is_refused(
    db: Database, world: World, stock: Stock, buy: Checkout, simulator: service.SimulatorProvider
) -> None:
    stock(world.store_hp, world.sku, 1)
    order = buy(1)
    with db.session(tenant_id=world.tenant_id) as s:
        payment = service.start_payment(order.id, session=s, provider=simulator)
    headers, body = simulator.notification(payment.out_trade_no, 1)
    with db.session(tenant_id=world.tenant_id) as s, pytest.raises(BconeError) as caught:
        service.apply_payment_notice(simulator.parse_notification(headers, body), session=s)
    assert (caught.value.code, caught.value.status) == ("payment_mismatch", 422)


def test_the_consumer_buys_and_pays_with_the_simulator_through_the_api(
    db: Database, world: World, stock: Stock, client: TestClient
) -> None:
    stock(world.store_hp, world.sku, 5)
    me = {"X-Consumer-Key": "o-api-buyer"}
    body = {
        "consumer_key": "o-api-buyer",
        "items": [{"sku_id": world.sku, "quantity": 2}],
        "address": address().model_dump(),
    }
    quote = client.post(f"/api/v1/store/public/{world.slug}/quote", json=body)
    assert quote.status_code == 200, quote.text
    assert quote.json()["total_fen"] == 2 * PRICE
    placed = client.post(f"/api/v1/store/public/{world.slug}/checkout", json=body)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert placed.json()["storefront_id"] == world.storefront
    assert client.get(f"/api/v1/store/public/{world.slug}/orders/{order_id}").status_code == 401
    other = client.get(
        f"/api/v1/store/public/{world.slug}/orders/{order_id}", headers={"X-Consumer-Key": "o-x"}
    )
    assert other.status_code == 404
    payment = client.post(f"/api/v1/store/public/{world.slug}/orders/{order_id}/pay", headers=me)
    assert payment.status_code == 200, payment.text
    trade = payment.json()["out_trade_no"]
    assert payment.json()["pay_params"] == {"pay_url": f"/s/pay/{trade}"}
    paid = client.post(f"/api/v1/store/public/{world.slug}/payments/{trade}/simulate")
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "assigned"
    again = client.post(f"/api/v1/store/public/{world.slug}/payments/{trade}/simulate")
    assert again.json()["status"] == "assigned"
    seen = client.get(f"/api/v1/store/public/{world.slug}/orders/{order_id}", headers=me)
    assert [e["action"] for e in seen.json()["timeline"]] == ["created", "paid", "assigned"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"items": [{"sku_id": "x", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"sku_id": "x", "quantity": -2}]}, "items.0.quantity"),
        ({"address": {**address().model_dump(), "division_code": "12345"}}, "address.division_code"),
        ({"address": {**address().model_dump(), "division_code": "990000"}}, "address.division_code"),
        ({"coupon_code": "EXPIRED!"}, "coupon_code"),
    ],
)
def test_bad_checkout_input_is_a_4xx_naming_the_field(
    db: Database, world: World, stock: Stock, client: TestClient, patch: dict[str, object], field: str
) -> None:
    stock(world.store_hp, world.sku, 5)
    body: dict[str, object] = {
        "consumer_key": "o-api-buyer",
        "items": [{"sku_id": world.sku, "quantity": 1}],
        "address": address().model_dump(),
    }
    body.update(patch)
    resp = client.post(f"/api/v1/store/public/{world.slug}/checkout", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
    assert resp.headers["content-type"].startswith("application/problem+json")
    with db.session(tenant_id=world.tenant_id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
