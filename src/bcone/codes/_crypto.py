"""Code keys at rest: sealed with AES-256-GCM under a key derived from the app secret.

The key-encryption key is HKDF-SHA256 of ``Settings.secret_key`` with a purpose label, so the
code keys in the database are useless without the deployment's secret. The tenant and the key
version are the associated data: a sealed key copied onto another tenant's row does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bcone.codes._serials import KEY_BYTES

_PURPOSE = b"bcone codes key-encryption v1"
_NONCE_BYTES = 12


class KeyUnsealFailed(Exception):
    """A stored code key does not open with this secret (wrong secret, or tampered row)."""


def _kek(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode("utf-8")
    )
    return AESGCM(derived)


def _aad(tenant_id: str, version: int) -> bytes:
    return f"{tenant_id}:{version}".encode()


def new_code_secret() -> bytes:
    """A fresh random code key (32 bytes)."""
    return os.urandom(KEY_BYTES)


def seal(secret: bytes, *, secret_key: str, tenant_id: str, version: int) -> bytes:
    """``secret`` encrypted for storage: nonce followed by ciphertext and tag."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _kek(secret_key).encrypt(nonce, secret, _aad(tenant_id, version))


def unseal(sealed: bytes, *, secret_key: str, tenant_id: str, version: int) -> bytes:
    """The code key stored as ``sealed``; :class:`KeyUnsealFailed` when it does not open."""
    try:
        return _kek(secret_key).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _aad(tenant_id, version)
        )
    except InvalidTag:
        raise KeyUnsealFailed(f"code key v{version} of tenant {tenant_id} does not open") from None
