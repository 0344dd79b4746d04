"""WeChat Pay API v3: request signing, callback verification and decryption, merchant transfers.

- Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  signature="…",timestamp="…",serial_no="…"``; the signature is RSA-SHA256 (PKCS#1 v1.5) with the
  merchant's private key over ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL = path and query).
- Responses and callbacks carry ``Wechatpay-Timestamp``, ``Wechatpay-Nonce``, ``Wechatpay-Serial``
  and ``Wechatpay-Signature``: RSA-SHA256 with the platform key over ``TIMESTAMP\\nNONCE\\nBODY\\n``.
  A timestamp more than five minutes away from now is refused (replays).
- A callback's ``resource`` is encrypted with AEAD_AES_256_GCM under the APIv3 key, with its own
  ``nonce`` and ``associated_data``.
- Transfers use the merchant transfer API (商家转账, ``/v3/fund-app/mch-transfer/transfer-bills``):
  one bill per payout line, ``out_bill_no`` = the line id, so a resent request never pays twice.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bcone.ledger.errors import InvalidSignature, ProviderError
from bcone.ledger.schemas import LineOutcome, PayoutLineOut

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
MAX_CLOCK_SKEW_SECONDS = 300
# Environment variable naming a JSON file: {tenant_id: {mchid, appid, ...key files...}}.
CONFIG_ENV = "BCONE_LEDGER_WECHATPAY_CONFIG"
FINAL_STATES: dict[str, LineOutcome] = {"SUCCESS": "paid", "FAIL": "failed", "CANCELLED": "failed"}


@dataclass(frozen=True)
class WechatPayConfig:
    """One merchant's credentials (per tenant)."""

    mchid: str
    appid: str
    merchant_serial_no: str
    merchant_private_key: rsa.RSAPrivateKey
    platform_serial_no: str
    platform_public_key: rsa.RSAPublicKey
    apiv3_key: bytes  # 32 bytes
    notify_url: str = ""
    base_url: str = "https://api.mch.weixin.qq.com"
    transfer_scene_id: str = "1000"  # 现金营销 (cash marketing), the scene of scan rewards


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant key must be an RSA private key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform key must be an RSA public key")
    return key


def load_configs(path: Path) -> dict[str, WechatPayConfig]:
    """Configurations by tenant id from a JSON file whose key paths are relative to it."""
    raw: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8"))
    base = path.parent

    def read(name: str) -> bytes:
        return (base / name).read_bytes()

    return {
        tenant_id: WechatPayConfig(
            mchid=c["mchid"],
            appid=c["appid"],
            merchant_serial_no=c["merchant_serial_no"],
            merchant_private_key=load_private_key(read(c["merchant_private_key_file"])),
            platform_serial_no=c["platform_serial_no"],
            platform_public_key=load_public_key(read(c["platform_public_key_file"])),
            apiv3_key=read(c["apiv3_key_file"]).strip(),
            notify_url=c.get("notify_url", ""),
            base_url=c.get("base_url", "https://api.mch.weixin.qq.com"),
            transfer_scene_id=c.get("transfer_scene_id", "1000"),
        )
        for tenant_id, c in raw.items()
    }


def configs_from_env() -> dict[str, WechatPayConfig]:
    path = os.environ.get(CONFIG_ENV)
    return load_configs(Path(path)) if path else {}


# Merchants by tenant id for this process: loaded from CONFIG_ENV on first use, or set in code.
_configs: dict[str, WechatPayConfig] | None = None
_configs_lock = threading.Lock()


def _registry() -> dict[str, WechatPayConfig]:
    global _configs
    with _configs_lock:
        if _configs is None:
            _configs = configs_from_env()
        return _configs


def configure(tenant_id: str, config: WechatPayConfig | None) -> None:
    """Set (or with ``None`` remove) the WeChat Pay merchant of a tenant in this process."""
    registry = _registry()
    with _configs_lock:
        if config is None:
            registry.pop(tenant_id, None)
        else:
            registry[tenant_id] = config


def config_for(tenant_id: str | None) -> WechatPayConfig | None:
    """The WeChat Pay merchant of a tenant, if one is configured."""
    return _registry().get(tenant_id or "")


# --- signing and verification -----------------------------------------------------------------


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    signature = private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: rsa.RSAPublicKey, message: str, signature_b64: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature_b64, validate=True),
            message.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (CryptoInvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def authorization(
    config: WechatPayConfig,
    method: str,
    url: str,
    body: str,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    """The ``Authorization`` header of a request (``url`` is the path with its query)."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(16).upper()
    signature = sign(
        config.merchant_private_key, request_message(method.upper(), url, timestamp, nonce, body)
    )
    return (
        f'{AUTH_SCHEMA} mchid="{config.mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{config.merchant_serial_no}"'
    )


def parse_authorization(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization`` header (the other side's view, used in tests)."""
    schema, _, params = header.partition(" ")
    if schema != AUTH_SCHEMA:
        raise ValueError(f"unknown schema {schema!r}")
    out: dict[str, str] = {}
    for part in params.split(","):
        name, _, value = part.partition("=")
        out[name.strip()] = value.strip().strip('"')
    return out


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def verify_signed(
    config: WechatPayConfig, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> None:
    """Check the platform's signature on a response or callback; raises ``InvalidSignature``."""
    timestamp = _header(headers, "Wechatpay-Timestamp")
    nonce = _header(headers, "Wechatpay-Nonce")
    signature = _header(headers, "Wechatpay-Signature")
    serial = _header(headers, "Wechatpay-Serial")
    if not (timestamp and nonce and signature):
        raise InvalidSignature("Wechatpay-Timestamp, -Nonce and -Signature are required", field="headers")
    if serial and serial != config.platform_serial_no:
        raise InvalidSignature(f"unknown platform certificate {serial}", field="Wechatpay-Serial")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise InvalidSignature("the timestamp is not a number", field="Wechatpay-Timestamp") from None
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise InvalidSignature("the timestamp is too far from now", field="Wechatpay-Timestamp")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("the body is not UTF-8", field="body") from None
    if not verify(config.platform_public_key, f"{timestamp}\n{nonce}\n{text}\n", signature):
        raise InvalidSignature("the signature does not verify", field="Wechatpay-Signature")


def encrypt_resource(key: bytes, plaintext: str, *, nonce: str, associated_data: str) -> str:
    """AEAD_AES_256_GCM as WeChat Pay sends it: base64 of ciphertext and tag."""
    sealed = AESGCM(key).encrypt(nonce.encode(), plaintext.encode("utf-8"), associated_data.encode())
    return base64.b64encode(sealed).decode("ascii")


def decrypt_resource(key: bytes, resource: Mapping[str, Any]) -> dict[str, Any]:
    """The decrypted ``resource`` of a callback; raises ``InvalidSignature`` when it does not open."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise InvalidSignature("unknown resource algorithm", field="resource.algorithm")
    try:
        plain = AESGCM(key).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(str(resource["ciphertext"])),
            str(resource.get("associated_data") or "").encode(),
        )
        data: dict[str, Any] = json.loads(plain)
    except (InvalidTag, KeyError, ValueError):
        raise InvalidSignature("the resource does not decrypt", field="resource") from None
    return data


@dataclass(frozen=True)
class TransferNotice:
    """What a transfer callback says about one bill."""

    out_bill_no: str
    transfer_bill_no: str
    state: str
    fail_reason: str

    @property
    def outcome(self) -> LineOutcome | None:
        return FINAL_STATES.get(self.state)


def parse_transfer_notification(
    config: WechatPayConfig, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> TransferNotice:
    """Verify a merchant-transfer callback and return its decrypted content."""
    verify_signed(config, headers, body, now=now)
    try:
        envelope = json.loads(body)
        resource = envelope["resource"]
    except (ValueError, KeyError, TypeError):
        raise InvalidSignature("the callback has no resource", field="resource") from None
    data = decrypt_resource(config.apiv3_key, resource)
    if not data.get("out_bill_no"):
        raise InvalidSignature("the resource has no out_bill_no", field="resource.out_bill_no")
    return TransferNotice(
        out_bill_no=str(data["out_bill_no"]),
        transfer_bill_no=str(data.get("transfer_bill_no", "")),
        state=str(data.get("state", "")),
        fail_reason=str(data.get("fail_reason", "")),
    )


# --- the provider -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    line_id: str
    provider_ref: str
    state: str


class WechatTransferProvider:
    """Pays each line with one merchant transfer bill; the final state arrives by callback."""

    name = "wechat_transfer"

    def __init__(self, config: WechatPayConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(base_url=config.base_url, timeout=10.0)

    def _request(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": authorization(self.config, method, path, body),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.config.platform_serial_no,
        }
        try:
            resp = self.client.request(
                method, self.config.base_url + path, content=body.encode(), headers=headers
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"WeChat Pay unreachable: {exc.__class__.__name__}") from exc
        verify_signed(self.config, resp.headers, resp.content)
        data: dict[str, Any] = resp.json() if resp.content else {}
        if resp.status_code >= 300:
            raise ProviderError(
                f"WeChat Pay refused the transfer: {data.get('code', resp.status_code)} {data.get('message', '')}",
                provider_status=resp.status_code,
            )
        return data

    def submit(self, lines: list[PayoutLineOut]) -> list[SubmitResult]:
        results = []
        for line in lines:
            payload: dict[str, Any] = {
                "appid": self.config.appid,
                "out_bill_no": line.id.replace("-", ""),
                "transfer_scene_id": self.config.transfer_scene_id,
                "openid": line.payee_account,
                "transfer_amount": line.amount_fen,
                "transfer_remark": "奖励发放",
                "transfer_scene_report_infos": [
                    {"info_type": "活动名称", "info_content": "扫码有礼"},
                    {"info_type": "奖励说明", "info_content": "扫码奖励"},
                ],
            }
            if self.config.notify_url:
                payload["notify_url"] = self.config.notify_url
            data = self._request("POST", TRANSFER_PATH, payload)
            results.append(
                SubmitResult(
                    line_id=line.id,
                    provider_ref=str(data.get("transfer_bill_no", "")),
                    state=str(data.get("state", "")),
                )
            )
        return results


def line_id_from_bill_no(out_bill_no: str) -> str:
    """The payout line id of an ``out_bill_no`` (a line id without its dashes, 32 characters)."""
    h = out_bill_no
    if len(h) == 32 and "-" not in h:
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return h
