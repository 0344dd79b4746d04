"""The payment port: :class:`PaymentProvider`, the development simulator, and the choice per tenant.

A provider prepares a payment (returns what the H5 page needs to pay), verifies and reads its
callbacks (:class:`~bcone.store.order_schemas.PaymentNotice`) and refunds. Two exist:

- :class:`~bcone.store.wechatpay_jsapi.WechatPayJsapiProvider`, used when the tenant has a WeChat
  Pay merchant configured (the ledger's ``BCONE_LEDGER_WECHATPAY_CONFIG``);
- :class:`SimulatorProvider`, the default outside production: a page at ``/s/pay/<trade>`` with a
  "pay" button that sends the app a callback signed with HMAC-SHA256 under the app's secret key,
  verified exactly like a real one (a tampered callback is refused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from bcone.core.ids import new_id
from bcone.core.settings import Settings
from bcone.ledger.service import config_for
from bcone.store.errors import InvalidCallbackSignature, PaymentProviderUnavailable
from bcone.store.order_schemas import PaymentNotice
from bcone.store.wechatpay_jsapi import WechatPayJsapiProvider

SIMULATOR_SIGNATURE_HEADER = "X-Bcone-Simulator-Signature"
SIMULATOR_TIMESTAMP_HEADER = "X-Bcone-Simulator-Timestamp"
MAX_CLOCK_SKEW_SECONDS = 300


class PaymentProvider(Protocol):
    name: str

    def prepare(
        self, *, out_trade_no: str, amount_fen: int, description: str, payer_openid: str | None
    ) -> tuple[str, dict[str, str]]:
        """Open the payment with the provider; returns ``(prepay id, parameters for the H5 page)``."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """Verify a callback and read it; raises ``InvalidCallbackSignature`` (nothing is written)."""
        ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int) -> str:
        """Ask for a refund (idempotent by ``out_refund_no``); returns the provider's refund id."""
        ...


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


class SimulatorProvider:
    """A development payment provider: no money moves, callbacks are signed with the app's secret."""

    name = "simulator"

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"bcone-payment-simulator:" + secret_key.encode()).digest()

    def _mac(self, timestamp: str, body: bytes) -> str:
        return hmac.new(self._key, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def prepare(
        self, *, out_trade_no: str, amount_fen: int, description: str, payer_openid: str | None
    ) -> tuple[str, dict[str, str]]:
        return f"sim_{out_trade_no}", {"pay_url": f"/s/pay/{out_trade_no}"}

    def notification(
        self,
        out_trade_no: str,
        amount_fen: int,
        *,
        trade_state: str = "SUCCESS",
        timestamp: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body of the callback the simulator sends when the buyer pays."""
        body = json.dumps(
            {
                "out_trade_no": out_trade_no,
                "transaction_id": "sim" + new_id().replace("-", "")[:28],
                "trade_state": trade_state,
                "amount": {"total": amount_fen, "currency": "CNY"},
                "success_time": datetime.now(UTC).isoformat(),
            },
            separators=(",", ":"),
        ).encode()
        ts = str(timestamp if timestamp is not None else int(time.time()))
        return {SIMULATOR_TIMESTAMP_HEADER: ts, SIMULATOR_SIGNATURE_HEADER: self._mac(ts, body)}, body

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        ts = _header(headers, SIMULATOR_TIMESTAMP_HEADER)
        signature = _header(headers, SIMULATOR_SIGNATURE_HEADER)
        if not ts or not signature:
            raise InvalidCallbackSignature("the callback is not signed", field=SIMULATOR_SIGNATURE_HEADER)
        if not hmac.compare_digest(signature, self._mac(ts, body)):
            raise InvalidCallbackSignature("the signature does not verify", field=SIMULATOR_SIGNATURE_HEADER)
        try:
            if abs(time.time() - int(ts)) > MAX_CLOCK_SKEW_SECONDS:
                raise InvalidCallbackSignature(
                    "the timestamp is too far from now", field=SIMULATOR_TIMESTAMP_HEADER
                )
            data = json.loads(body)
            return PaymentNotice(
                out_trade_no=str(data["out_trade_no"]),
                transaction_id=str(data.get("transaction_id", "")),
                trade_state=str(data.get("trade_state", "")),
                amount_fen=int(data["amount"]["total"]),
                paid_at=datetime.fromisoformat(str(data["success_time"])).astimezone(UTC),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidCallbackSignature("the callback body is malformed", field="body") from None

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int) -> str:
        return f"simrefund_{out_refund_no}"


# Providers set in code for a tenant (tests, embedding); otherwise chosen by configuration.
_overrides: dict[str, PaymentProvider] = {}
_lock = threading.Lock()


def configure_provider(tenant_id: str, provider: PaymentProvider | None) -> None:
    """Use ``provider`` for the tenant's payments in this process (``None`` goes back to the default)."""
    with _lock:
        if provider is None:
            _overrides.pop(tenant_id, None)
        else:
            _overrides[tenant_id] = provider


def notify_path(tenant_id: str, provider: str) -> str:
    return f"/api/v1/store/payments/{provider}/{tenant_id}/notify"


def provider_for(tenant_id: str, settings: Settings, *, base_url: str = "") -> PaymentProvider:
    """The tenant's payment provider: set in code, else WeChat Pay when configured, else the
    simulator (outside production); 503 ``payment_provider_unavailable`` otherwise."""
    with _lock:
        override = _overrides.get(tenant_id)
    if override is not None:
        return override
    config = config_for(tenant_id)
    if config is not None:
        return WechatPayJsapiProvider(config, base_url.rstrip("/") + notify_path(tenant_id, "wechat_jsapi"))
    if settings.environment != "production":
        return SimulatorProvider(settings.secret_key)
    raise PaymentProviderUnavailable("no payment provider is configured for this brand")


def provider_named(name: str, tenant_id: str, settings: Settings) -> PaymentProvider:
    """The provider that must verify a callback sent to ``/payments/<name>/…``."""
    provider = provider_for(tenant_id, settings)
    if provider.name != name:
        raise InvalidCallbackSignature(f"payments of this brand do not go through {name}", field="provider")
    return provider
