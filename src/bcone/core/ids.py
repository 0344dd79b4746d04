"""Identifiers: time-ordered UUIDv7 strings for rows and events, random tokens for secrets."""

from __future__ import annotations

import os
import secrets
import time
import uuid


def new_id() -> str:
    """A UUIDv7 (RFC 9562) as a 36-character string: unique, and sortable by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe random secret, optionally prefixed so leaked keys are recognisable."""
    return prefix + secrets.token_urlsafe(nbytes)
