"""WeChat Pay API v3, JSAPI payments (JSAPI支付): prepay, the H5 page's paySign, callbacks, refunds.

- Prepay: ``POST /v3/pay/transactions/jsapi`` with ``appid``, ``mchid``, ``description``,
  ``out_trade_no``, ``notify_url``, ``amount {total, currency}`` and ``payer {openid}``, signed
  with the merchant key (``Authorization: WECHATPAY2-SHA256-RSA2048 …``, RSA-SHA256 over
  ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n``); the answer's signature is verified with the
  platform key before ``prepay_id`` is used.
- The H5 page calls ``WeixinJSBridge.invoke('getBrandWCPayRequest', …)`` with ``appId``,
  ``timeStamp``, ``nonceStr``, ``package = prepay_id=…``, ``signType = RSA`` and ``paySign`` =
  RSA-SHA256 with the merchant key over ``APPID\\nTIMESTAMP\\nNONCE\\nPACKAGE\\n``.
- The payment callback is verified with the platform key over ``TIMESTAMP\\nNONCE\\nBODY\\n``
  (five minutes of clock skew at most), then its ``resource`` is opened with AEAD_AES_256_GCM
  under the APIv3 key. A callback that fails either check is refused and changes nothing.
- Refunds: ``POST /v3/refund/domestic/refunds`` with ``out_refund_no`` (one per order, so a
  resent request never refunds twice).

The v3 signing, verification and decryption primitives and the merchant configuration are the
ledger's (:mod:`bcone.ledger.wechatpay`, used for transfers); this module adds what JSAPI
payments need on top of them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from bcone.ledger.service import (
    InvalidSignature,
    WechatPayConfig,
    authorization,
    decrypt_resource,
    sign,
    verify_signed,
)
from bcone.store.errors import InvalidCallbackSignature, PaymentProviderUnavailable
from bcone.store.order_schemas import PaymentNotice

JSAPI_PATH = "/v3/pay/transactions/jsapi"
REFUND_PATH = "/v3/refund/domestic/refunds"


def pay_sign_message(appid: str, timestamp: str, nonce: str, package: str) -> str:
    return f"{appid}\n{timestamp}\n{nonce}\n{package}\n"


def jsapi_pay_params(
    config: WechatPayConfig, prepay_id: str, *, timestamp: str | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The parameters of ``getBrandWCPayRequest`` for the H5 page, with their ``paySign``."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(16)
    package = f"prepay_id={prepay_id}"
    return {
        "appId": config.appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": sign(
            config.merchant_private_key, pay_sign_message(config.appid, timestamp, nonce, package)
        ),
    }


def parse_payment_notification(
    config: WechatPayConfig, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> PaymentNotice:
    """Verify a JSAPI payment callback and return what it says; 401 ``invalid_callback_signature``
    when the signature, the timestamp or the encrypted resource do not check out."""
    try:
        verify_signed(config, headers, body, now=now)
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature("the callback has no resource", field="resource") from None
        data = decrypt_resource(config.apiv3_key, resource)
    except InvalidSignature as exc:
        raise InvalidCallbackSignature(exc.detail, field=exc.field) from None
    if data.get("mchid") not in (None, config.mchid) or data.get("appid") not in (None, config.appid):
        raise InvalidCallbackSignature("the callback is for another merchant", field="resource.mchid")
    try:
        amount = int(data["amount"]["total"])
        out_trade_no = str(data["out_trade_no"])
    except (KeyError, TypeError, ValueError):
        raise InvalidCallbackSignature(
            "the resource has no out_trade_no or amount", field="resource"
        ) from None
    success = str(data.get("success_time") or "")
    try:
        paid_at = datetime.fromisoformat(success) if success else datetime.now(UTC)
    except ValueError:
        paid_at = datetime.now(UTC)
    return PaymentNotice(
        out_trade_no=out_trade_no,
        transaction_id=str(data.get("transaction_id", "")),
        trade_state=str(data.get("trade_state", "")),
        amount_fen=amount,
        paid_at=paid_at.astimezone(UTC),
    )


class WechatPayJsapiProvider:
    """The :class:`~bcone.store._payments.PaymentProvider` for WeChat Pay JSAPI (in WeChat's browser)."""

    name = "wechat_jsapi"

    def __init__(self, config: WechatPayConfig, notify_url: str, client: httpx.Client | None = None) -> None:
        self.config = config
        self.notify_url = notify_url
        self.client = client or httpx.Client(base_url=config.base_url, timeout=10.0)

    def _request(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": authorization(self.config, "POST", path, body),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.config.platform_serial_no,
        }
        try:
            resp = self.client.post(self.config.base_url + path, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise PaymentProviderUnavailable(f"WeChat Pay unreachable: {exc.__class__.__name__}") from exc
        try:
            verify_signed(self.config, resp.headers, resp.content)
        except InvalidSignature as exc:
            raise PaymentProviderUnavailable(f"WeChat Pay's answer does not verify: {exc.detail}") from None
        data: dict[str, Any] = resp.json() if resp.content else {}
        if resp.status_code >= 300:
            raise PaymentProviderUnavailable(
                f"WeChat Pay refused: {data.get('code', resp.status_code)} {data.get('message', '')}"
            )
        return data

    def prepare(
        self, *, out_trade_no: str, amount_fen: int, description: str, payer_openid: str | None
    ) -> tuple[str, dict[str, str]]:
        """Create the prepay order; returns ``(prepay_id, H5 pay parameters)``."""
        if not payer_openid:
            raise PaymentProviderUnavailable("WeChat Pay JSAPI needs the payer's openid", field="openid")
        data = self._request(
            JSAPI_PATH,
            {
                "appid": self.config.appid,
                "mchid": self.config.mchid,
                "description": description[:127],
                "out_trade_no": out_trade_no,
                "notify_url": self.notify_url,
                "amount": {"total": amount_fen, "currency": "CNY"},
                "payer": {"openid": payer_openid},
            },
        )
        prepay_id = str(data.get("prepay_id", ""))
        if not prepay_id:
            raise PaymentProviderUnavailable("WeChat Pay returned no prepay_id")
        return prepay_id, jsapi_pay_params(self.config, prepay_id)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        return parse_payment_notification(self.config, headers, body)

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int) -> str:
        data = self._request(
            REFUND_PATH,
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"},
            },
        )
        return str(data.get("refund_id", ""))
