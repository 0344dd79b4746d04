"""Who scanned: the consumer identity of the scan page, through a port with two adapters.

- **WeChat OAuth** (production): the scan page inside WeChat redirects to
  ``open.weixin.qq.com/connect/oauth2/authorize`` (``snsapi_base``, or ``snsapi_userinfo`` when the
  brand wants the unionid), WeChat comes back to ``/consumer/wechat/callback`` with a ``code``, and
  the code is exchanged for the openid (and unionid) at ``api.weixin.qq.com/sns/oauth2/access_token``
  through an :class:`HttpClient` (the port: ``httpx`` by default; tests serve a real local HTTP
  server in WeChat's place). The ``state`` parameter is signed and bound to a nonce cookie, so a
  callback forged by another site (CSRF) is refused.
- **Phone and one-time code** (development): the consumer types a phone number, a 6-digit code is
  written to the log (no SMS gateway), and typing it back proves the phone. Codes expire after
  ``OTP_TTL``; a code allows ``OTP_ATTEMPTS`` wrong tries.

Either way the result is a :class:`ConsumerIdentity`, kept in a signed cookie
(``bcone_consumer``, HMAC-SHA256 under a key derived from ``BCONE_SECRET_KEY``) for
``COOKIE_MAX_AGE``. Phones are never kept in clear: they are the keyed hash ``bcone.cdp`` uses
(``HMAC(HMAC(secret, "bcone.cdp.identity:" + tenant), "phone\\x1f" + 11 digits)``), so the scan
events join the CDP profile of the same phone; ``tests/codes/test_identity.py`` checks the two
agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bcone.codes.errors import ConsumerLoginFailed, TooManyLoginCodes, WeChatNotConfigured
from bcone.codes.models import CodeConsumerOtp
from bcone.core.db import utcnow
from bcone.core.errors import ValidationFailed
from bcone.core.settings import get_settings
from bcone.core.tenancy import current_tenant

log = logging.getLogger("bcone.codes.identity")

COOKIE = "bcone_consumer"
NONCE_COOKIE = "bcone_oauth_nonce"
COOKIE_MAX_AGE = 30 * 24 * 3600
STATE_MAX_AGE = 600
OTP_TTL = timedelta(minutes=5)
OTP_ATTEMPTS = 5
OTP_PER_HOUR = 5
AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
DEFAULT_API_BASE = "https://api.weixin.qq.com"
Via = Literal["wechat", "phone", "development"]

_PHONE_STRIP = re.compile(r"[\s\-()（）]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True, slots=True)
class ConsumerIdentity:
    """A consumer proven by an adapter, for one tenant."""

    tenant_id: str
    via: Via
    openid: str | None = None
    appid: str | None = None
    unionid: str | None = None
    open_platform_id: str | None = None
    phone_hash: str | None = None
    phone_masked: str | None = None
    device: str | None = None

    @property
    def consumer_key(self) -> str | None:
        """Whose wallet a reward goes to: the openid, else the phone's hash."""
        return self.openid or self.phone_hash

    @property
    def owner_type(self) -> str:
        return "phone" if self.openid is None and self.phone_hash else "wechat_openid"

    def identities(self) -> list[tuple[str, str]]:
        """``(namespace, value)`` pairs for events, in the CDP's namespaces."""
        found: list[tuple[str, str]] = []
        if self.openid:
            found.append((f"wechat_openid:{self.appid}" if self.appid else "wechat_openid:dev", self.openid))
        if self.unionid and self.open_platform_id:
            found.append((f"wechat_unionid:{self.open_platform_id}", self.unionid))
        if self.phone_hash:
            found.append(("phone", self.phone_hash))
        if self.device:
            found.append(("device", self.device))
        return found

    def context(self) -> dict[str, str]:
        """What the scan listeners read (``openid`` is the consumer's key)."""
        values = {
            "openid": self.consumer_key,
            "owner_type": self.owner_type,
            "identity_via": self.via,
            "identities": json.dumps(self.identities()),
            "device": self.device,
        }
        return {k: v for k, v in values.items() if v}


# --- signing ---------------------------------------------------------------------------------


def _key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"bcone.codes.{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_identity(identity: ConsumerIdentity, *, secret_key: str, now: float | None = None) -> str:
    """The cookie value that carries ``identity`` (signed, expires after ``COOKIE_MAX_AGE``)."""
    payload = _as_dict(identity)
    payload["exp"] = int((now or time.time()) + COOKIE_MAX_AGE)
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    sig = _b64(hmac.new(_key(secret_key, "consumer"), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def _as_dict(identity: ConsumerIdentity) -> dict[str, Any]:
    names = (
        "tenant_id",
        "via",
        "openid",
        "appid",
        "unionid",
        "open_platform_id",
        "phone_hash",
        "phone_masked",
    )
    return {n: getattr(identity, n) for n in names if getattr(identity, n)}


def read_identity(value: str | None, *, secret_key: str, now: float | None = None) -> ConsumerIdentity | None:
    """The identity in a cookie value, or None when missing, forged, expired or malformed."""
    if not value or value.count(".") != 1:
        return None
    body, sig = value.split(".")
    want = _b64(hmac.new(_key(secret_key, "consumer"), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, want):
        return None
    try:
        payload = json.loads(_unb64(body))
        if int(payload.pop("exp")) < (now or time.time()):
            return None
        return ConsumerIdentity(**payload)
    except (ValueError, TypeError, KeyError):
        return None


def make_state(
    *, secret_key: str, nonce: str, tenant_id: str, next_path: str, now: float | None = None
) -> str:
    """The OAuth ``state``: bound to the browser's nonce cookie, the tenant and the page to return to."""
    expires = int((now or time.time()) + STATE_MAX_AGE)
    message = f"{nonce}|{expires}|{tenant_id}|{next_path}".encode()
    sig = _b64(hmac.new(_key(secret_key, "oauth-state"), message, hashlib.sha256).digest()[:18])
    return f"{nonce}.{expires}.{sig}"  # 16 + 10 + 24 characters: within WeChat's 128


def check_state(
    state: str,
    *,
    secret_key: str,
    nonce_cookie: str | None,
    tenant_id: str,
    next_path: str,
    now: float | None = None,
) -> None:
    """Refuse (422 ``consumer_login_failed``, field ``state``) a state this browser was not given."""
    parts = state.split(".")
    if len(parts) != 3 or not nonce_cookie or not hmac.compare_digest(parts[0], nonce_cookie):
        raise ConsumerLoginFailed("the login did not start in this browser", field="state")
    nonce, expires, sig = parts
    message = f"{nonce}|{expires}|{tenant_id}|{next_path}".encode()
    want = _b64(hmac.new(_key(secret_key, "oauth-state"), message, hashlib.sha256).digest()[:18])
    if not hmac.compare_digest(sig, want):
        raise ConsumerLoginFailed("the login state was altered", field="state")
    if not expires.isdigit() or int(expires) < (now or time.time()):
        raise ConsumerLoginFailed("the login took too long; scan again", field="state")


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


# --- WeChat OAuth ----------------------------------------------------------------------------


class HttpClient(Protocol):
    """The port to WeChat's API: a GET answering JSON."""

    def get_json(self, url: str, params: Mapping[str, str]) -> dict[str, Any]: ...


class HttpxClient:
    """The default adapter: ``httpx`` with a short timeout."""

    def __init__(self, timeout: float = 5.0) -> None:
        self._client = httpx.Client(timeout=timeout)

    def get_json(self, url: str, params: Mapping[str, str]) -> dict[str, Any]:
        response = self._client.get(url, params=dict(params))
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError("WeChat answered something other than a JSON object")
        return data


@dataclass
class WeChatPort:
    """Where WeChat's API is and how it is reached (tests point it at a local server)."""

    api_base: str = field(default_factory=lambda: _configured_api_base())
    authorize_url: str = AUTHORIZE_URL
    http: HttpClient | None = None

    def client(self) -> HttpClient:
        if self.http is None:
            self.http = HttpxClient()
        return self.http


def _configured_api_base() -> str:
    try:
        return get_settings().wechat_api_base
    except ValidationError:  # settings that cannot load fail where they are used, not at import
        return DEFAULT_API_BASE


PORT = WeChatPort()


def configure_wechat(
    *, api_base: str | None = None, authorize_url: str | None = None, http: HttpClient | None = None
) -> None:
    """Point the WeChat adapter elsewhere (a sandbox, or a test's local server)."""
    if api_base is not None:
        PORT.api_base = api_base.rstrip("/")
    if authorize_url is not None:
        PORT.authorize_url = authorize_url
    if http is not None:
        PORT.http = http


@dataclass(frozen=True, slots=True)
class WeChatApp:
    appid: str
    secret: str
    scope: str = "snsapi_base"
    open_platform_id: str | None = None

    def authorize(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": self.scope,
                "state": state,
            }
        )
        return f"{PORT.authorize_url}?{query}#wechat_redirect"

    def exchange(self, code: str, tenant_id: str) -> ConsumerIdentity:
        """The ``code`` WeChat returned → openid (and unionid); 422 when WeChat refuses it."""
        if not code or len(code) > 128:
            raise ConsumerLoginFailed("WeChat sent no usable code", field="code")
        http = PORT.client()
        try:
            token = http.get_json(
                f"{PORT.api_base}/sns/oauth2/access_token",
                {
                    "appid": self.appid,
                    "secret": self.secret,
                    "code": code,
                    "grant_type": "authorization_code",
                },
            )
        except (httpx.HTTPError, ValueError) as exc:
            raise ConsumerLoginFailed(f"WeChat could not be reached: {exc}", field="code") from None
        if token.get("errcode") or not token.get("openid"):
            raise ConsumerLoginFailed(
                f"WeChat refused the code ({token.get('errcode')}: {token.get('errmsg', '')})", field="code"
            )
        unionid = token.get("unionid")
        if unionid is None and self.scope == "snsapi_userinfo" and token.get("access_token"):
            try:
                info = http.get_json(
                    f"{PORT.api_base}/sns/userinfo",
                    {
                        "access_token": str(token["access_token"]),
                        "openid": str(token["openid"]),
                        "lang": "zh_CN",
                    },
                )
                unionid = info.get("unionid")
            except (httpx.HTTPError, ValueError):
                unionid = None  # the openid is enough to reward; the unionid only joins apps
        return ConsumerIdentity(
            tenant_id=tenant_id,
            via="wechat",
            openid=str(token["openid"])[:64],
            appid=self.appid,
            unionid=str(unionid)[:64] if unionid else None,
            open_platform_id=self.open_platform_id if unionid else None,
        )


# --- phone and one-time code (development adapter) -------------------------------------------


def cdp_identity_key(secret_key: str, tenant_id: str) -> bytes:
    """The tenant's key for phone hashes, as ``bcone.cdp.identifiers.identity_key`` derives it."""
    return hmac.new(secret_key.encode(), b"bcone.cdp.identity:" + tenant_id.encode(), hashlib.sha256).digest()


def phone_hash(digits: str, *, secret_key: str, tenant_id: str) -> str:
    """The CDP's keyed hash of a normalised phone (``keyed_hash(key, "phone", digits)``)."""
    return hmac.new(
        cdp_identity_key(secret_key, tenant_id), f"phone\x1f{digits}".encode(), hashlib.sha256
    ).hexdigest()


def normalise_phone(value: str, *, field: str = "phone") -> str:
    digits = _PHONE_STRIP.sub("", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MAINLAND_MOBILE.match(digits):
        raise ValidationFailed("not a mainland China mobile number (11 digits starting 13-19)", field=field)
    return digits


def _mask(digits: str) -> str:
    return f"{digits[:3]}****{digits[-4:]}"


def _code_hash(code: str, phone: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def start_phone_login(phone: str, *, session: Session, secret_key: str) -> str:
    """Send (write to the log) a one-time code for ``phone``; returns the masked phone.

    At most ``OTP_PER_HOUR`` codes per phone and hour (429 ``too_many_codes``)."""
    digits = normalise_phone(phone)
    tenant_id = current_tenant(session)
    hashed = phone_hash(digits, secret_key=secret_key, tenant_id=tenant_id)
    now = utcnow()
    recent = session.scalars(
        select(CodeConsumerOtp.id).where(
            CodeConsumerOtp.phone_hash == hashed, CodeConsumerOtp.created_at >= now - timedelta(hours=1)
        )
    ).all()
    if len(recent) >= OTP_PER_HOUR:
        raise TooManyLoginCodes("too many codes for this phone; try again in an hour", field="phone")
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        CodeConsumerOtp(
            phone_hash=hashed, code_hash=_code_hash(code, hashed), attempts=0, expires_at=now + OTP_TTL
        )
    )
    session.flush()
    log.warning("development one-time code for %s (tenant %s): %s", _mask(digits), tenant_id, code)
    return _mask(digits)


OtpOutcome = Literal["ok", "wrong", "expired", "locked"]


def verify_phone_login(
    phone: str, code: str, *, session: Session, secret_key: str
) -> tuple[OtpOutcome, ConsumerIdentity | None, int]:
    """Check a typed code: (outcome, identity when ok, tries left).

    Returns rather than raises, so the caller commits the counted try before refusing."""
    digits = normalise_phone(phone)
    tenant_id = current_tenant(session)
    hashed = phone_hash(digits, secret_key=secret_key, tenant_id=tenant_id)
    now = utcnow()
    row = session.scalars(
        select(CodeConsumerOtp)
        .where(CodeConsumerOtp.phone_hash == hashed, CodeConsumerOtp.used_at.is_(None))
        .order_by(CodeConsumerOtp.created_at.desc())
        .limit(1)
    ).first()
    if row is None or _aware(row.expires_at) <= now:
        return "expired", None, 0
    # Count the try first, atomically: concurrent guesses cannot exceed the limit.
    tried = session.execute(
        update(CodeConsumerOtp)
        .where(CodeConsumerOtp.id == row.id, CodeConsumerOtp.attempts < OTP_ATTEMPTS)
        .values(attempts=CodeConsumerOtp.attempts + 1)
        .returning(CodeConsumerOtp.attempts)
    ).first()
    if tried is None:
        return "locked", None, 0
    left = OTP_ATTEMPTS - int(tried[0])
    if not hmac.compare_digest(_code_hash(code.strip(), hashed), row.code_hash):
        return ("locked" if left <= 0 else "wrong"), None, left
    session.execute(update(CodeConsumerOtp).where(CodeConsumerOtp.id == row.id).values(used_at=now))
    identity = ConsumerIdentity(
        tenant_id=tenant_id, via="phone", phone_hash=hashed, phone_masked=_mask(digits)
    )
    return "ok", identity, left


def _aware(value: Any) -> Any:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def require_wechat(app: WeChatApp | None) -> WeChatApp:
    if app is None:
        raise WeChatNotConfigured(
            "this brand has no WeChat official account configured", field="wechat_appid"
        )
    return app
