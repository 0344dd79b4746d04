"""Consumer identifiers: namespaces, validation, normalisation, keyed hashes and masked forms.

An identifier is a ``(namespace, value)`` pair. Some namespaces are scoped: a WeChat openid is
only unique within its app, so its namespace is ``wechat_openid:{appid}``. Phones and emails are
personal data: they are normalised, then stored only as an HMAC-SHA256 with a per-tenant key
(derived from the application's secret) plus a masked display form such as ``138****1234``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from bcone.cdp.errors import InvalidIdentifier, UnknownNamespace

# Namespaces that need a scope after a colon, and what the scope is.
SCOPED_NAMESPACES: dict[str, str] = {
    "wechat_openid": "appid",
    "wechat_unionid": "open_platform_id",
    "wecom_external": "corp_id",
    "douyin_openid": "app",
}
PLAIN_NAMESPACES = ("phone", "email", "tmall_ouid", "jd_pin", "device")
NAMESPACE_BASES: tuple[str, ...] = (*SCOPED_NAMESPACES, *PLAIN_NAMESPACES)
# Namespaces stored as a keyed hash, never as the value itself.
HASHED_NAMESPACES = frozenset({"phone", "email"})
MAX_VALUE_LENGTH = 128

_SCOPE = re.compile(r"^[A-Za-z0-9_.\-]{1,48}$")
_PLAIN_VALUE = re.compile(r"^[\x21-\x7e\u00a0-\uffff]+$")  # no whitespace or control characters
_PHONE_STRIP = re.compile(r"[\s\-().]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class NormalisedIdentifier:
    """An identifier ready to store: ``key`` is what is matched, ``display`` what people see."""

    namespace: str
    key: str
    display: str

    @property
    def base(self) -> str:
        return namespace_base(self.namespace)


def namespace_base(namespace: str) -> str:
    """``wechat_openid:wx123`` -> ``wechat_openid``."""
    return namespace.split(":", 1)[0]


def identity_key(secret_key: str, tenant_id: str) -> bytes:
    """The tenant's HMAC key for phones and emails, derived from the application's secret.

    Derived, not stored: the same secret gives the same key, so a phone typed into a search box
    matches the stored hash; another tenant's key differs, so hashes cannot be joined across
    brands.
    """
    return hmac.new(secret_key.encode(), b"bcone.cdp.identity:" + tenant_id.encode(), hashlib.sha256).digest()


def validate_namespace(namespace: str, *, field: str = "namespace") -> str:
    """The namespace, checked: a known base, and a scope exactly when the base needs one."""
    namespace = namespace.strip()
    base, sep, scope = namespace.partition(":")
    if base not in NAMESPACE_BASES:
        raise UnknownNamespace(
            f"unknown identifier namespace {namespace!r} (known: {', '.join(NAMESPACE_BASES)})",
            field=field,
            namespace=namespace,
        )
    if base in SCOPED_NAMESPACES:
        if not sep or not _SCOPE.match(scope):
            raise InvalidIdentifier(
                f"namespace {base!r} needs its {SCOPED_NAMESPACES[base]}: {base}:{{{SCOPED_NAMESPACES[base]}}}",
                field=field,
                namespace=namespace,
            )
    elif sep:
        raise InvalidIdentifier(f"namespace {base!r} takes no scope", field=field, namespace=namespace)
    return namespace


def normalise_phone(value: str) -> str:
    """A mainland China mobile number as 11 digits; ``+86``, ``0086``, ``86`` and separators dropped."""
    digits = _PHONE_STRIP.sub("", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MAINLAND_MOBILE.match(digits):
        raise ValueError("not a mainland China mobile number (11 digits starting 13-19)")
    return digits


def mask_phone(digits: str) -> str:
    """``13812341234`` -> ``138****1234``."""
    return f"{digits[:3]}****{digits[-4:]}"


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def mask_email(email: str) -> str:
    """``alice@example.com`` -> ``a***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@lru_cache(maxsize=64)
def _hmac_base(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def keyed_hash(key: bytes, namespace: str, normalised: str) -> str:
    """HMAC-SHA256 of the normalised value under the tenant's key (the key schedule is cached)."""
    mac = _hmac_base(key).copy()
    mac.update(f"{namespace}\x1f{normalised}".encode())
    return mac.hexdigest()


def normalise(namespace: str, value: str, key: bytes, *, field: str = "identities") -> NormalisedIdentifier:
    """Validate and normalise one identifier; raises a 422 error naming ``field``."""
    namespace = validate_namespace(namespace, field=f"{field}.namespace")
    base = namespace_base(namespace)
    if not isinstance(value, str):
        raise InvalidIdentifier(
            "an identifier value must be text", field=f"{field}.value", namespace=namespace
        )
    raw = value.strip()
    try:
        if base == "phone":
            digits = normalise_phone(raw)
            return NormalisedIdentifier(namespace, keyed_hash(key, base, digits), mask_phone(digits))
        if base == "email":
            email = normalise_email(raw)
            return NormalisedIdentifier(namespace, keyed_hash(key, base, email), mask_email(email))
    except ValueError as exc:
        raise InvalidIdentifier(f"{namespace}: {exc}", field=f"{field}.value", namespace=namespace) from exc
    if not raw or len(raw) > MAX_VALUE_LENGTH or not _PLAIN_VALUE.match(raw):
        raise InvalidIdentifier(
            f"{namespace}: a value of 1 to {MAX_VALUE_LENGTH} characters without spaces is needed",
            field=f"{field}.value",
            namespace=namespace,
        )
    return NormalisedIdentifier(namespace, raw, raw)


def search_key(text: str, key: bytes) -> tuple[str, str] | None:
    """``(namespace, key)`` when ``text`` is a phone or an email, so a search can match its hash."""
    text = text.strip()
    if "@" in text:
        try:
            return "email", keyed_hash(key, "email", normalise_email(text))
        except ValueError:
            return None
    try:
        return "phone", keyed_hash(key, "phone", normalise_phone(text))
    except ValueError:
        return None
