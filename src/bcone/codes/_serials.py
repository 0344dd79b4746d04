"""The serial scheme: unguessable, unique-by-construction unit codes checked without a database.

A serial is 20 Crockford base32 characters (the GS1 limit for AI 21), e.g. ``1K7W3QZ0M5D8XH2RN4T9``::

    V  BBBBBBBBBBBBBBBB  TTT
    |  |                 └─ check tag: 15 bits of a keyed MAC of (version, body)
    |  └─ body: 80 bits, a keyed permutation of the batch counter
    └─ key version (0..31) of the tenant key that made it

- **Unique by construction**: a batch owns the counter range ``[start, start + count)`` of its
  tenant; the body is a 4-round Feistel permutation of the 80-bit counter (two 40-bit halves)
  whose round function is AES-128 under the tenant's Feistel key. A permutation never maps two
  counters to one body, so no code is ever drawn twice and no uniqueness check is needed.
- **Unguessable**: without the key the body looks uniformly random over 2^80 values; of those,
  only the issued counters decode into a batch (a 100-million-code batch is 2^-53 of the space).
- **Refused without a database read**: the 15-bit tag (AES-128 under a separate MAC key over the
  body and the version) rejects all but 1 in 32,768 forged or mistyped serials in about a
  microsecond; the survivors still have to decode to a counter inside an issued batch.
- **Fast**: AES-ECB over a buffer of N blocks is one OpenSSL call, so generating works on whole
  numpy chunks: five AES passes (4 rounds + tag) and a handful of vector shifts per chunk.

Reading is forgiving the Crockford way: lower case is accepted and ``I``/``L`` read as ``1``,
``O`` as ``0``; :func:`decode_serial` returns the canonical upper-case serial.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from numpy.typing import NDArray

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_LENGTH = 20
BODY_CHARS = 16
TAG_CHARS = 3
TAG_BITS = 5 * TAG_CHARS
HALF_BITS = 40
HALF_MASK = (1 << HALF_BITS) - 1
COUNTER_BITS = 2 * HALF_BITS
COUNTER_LIMIT = 1 << COUNTER_BITS
MAX_KEY_VERSION = len(ALPHABET) - 1
_VERSION_SHIFT = 5 * (SERIAL_LENGTH - 1)
_TAG_MASK = (1 << TAG_BITS) - 1
ROUNDS = 4
_ROUNDS_BACKWARDS = tuple(reversed(range(ROUNDS)))
KEY_BYTES = 32  # 16 for the Feistel permutation, 16 for the tag
_TAG_DOMAIN = 0x54  # block byte 11: keeps tag blocks apart from any round block

_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
# Crockford digits to the digits Python's int(x, 32) reads (0-9a-v), folding lower case and the
# look-alikes; anything else becomes "!", which int() and isalnum() refuse.
_PYTHON_DIGITS = "0123456789abcdefghijklmnopqrstuv"
_TABLE = bytearray(b"!" * 256)
for _i, _c in enumerate(ALPHABET):
    _TABLE[ord(_c)] = _TABLE[ord(_c.lower())] = ord(_PYTHON_DIGITS[_i])
for _c, _i in (("I", 1), ("L", 1), ("O", 0)):
    _TABLE[ord(_c)] = _TABLE[ord(_c.lower())] = ord(_PYTHON_DIGITS[_i])
_TO_PYTHON_BASE32 = bytes(_TABLE)
_FROM_PYTHON_BASE32 = str.maketrans(_PYTHON_DIGITS.upper(), ALPHABET)

U64 = NDArray[np.uint64]
U8 = NDArray[np.uint8]


class SerialError(ValueError):
    """A serial that is not one of ours; ``reason`` is ``malformed``, ``unknown_key`` or ``bad_tag``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CodeKey:
    """One version of a tenant's code key: 32 bytes, split into a Feistel and a tag AES-128 key."""

    version: int
    secret: bytes = field(repr=False)
    feistel_key: bytes = field(init=False, repr=False, compare=False)
    tag_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.version <= MAX_KEY_VERSION:
            raise ValueError(f"a key version is 0..{MAX_KEY_VERSION}, got {self.version}")
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a code key has {KEY_BYTES} bytes, got {len(self.secret)}")
        object.__setattr__(self, "feistel_key", self.secret[:16])
        object.__setattr__(self, "tag_key", self.secret[16:])


# An ECB encryptor keeps no state between blocks, so one per key and thread serves every call
# (creating one costs more than encrypting a block); OpenSSL contexts are not thread-safe.
_local = threading.local()


def _encryptor(key: bytes) -> CipherContext:
    try:
        return _local.encryptors[key]  # type: ignore[no-any-return]
    except AttributeError:
        _local.encryptors = {}
    except KeyError:
        if len(_local.encryptors) > 256:
            _local.encryptors.clear()
    enc = _local.encryptors[key] = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc


def _aes_words(key: bytes, words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """AES-ECB of blocks given as ``(n, 2)`` 64-bit words (big-endian halves of each block)."""
    blocks = words.astype(">u8")
    out = _encryptor(key).update(blocks.tobytes())
    return np.frombuffer(out, dtype=">u8").reshape(-1, 2)[:, 0].astype(np.uint64)


def _round_values(key: bytes, round_index: int, half: U64) -> U64:
    # Block: the 40-bit half in bytes 0-4, the round number in byte 5, zeros after.
    words = np.zeros((half.shape[0], 2), dtype=np.uint64)
    words[:, 0] = (half << np.uint64(24)) | np.uint64(round_index << 16)
    return _aes_words(key, words) >> np.uint64(24)


def _tags(key: CodeKey, left: U64, right: U64) -> U64:
    # Block: left (5 bytes), right (5 bytes), the key version, a domain byte, zeros.
    words = np.empty((left.shape[0], 2), dtype=np.uint64)
    words[:, 0] = (left << np.uint64(24)) | (right >> np.uint64(16))
    words[:, 1] = ((right & np.uint64(0xFFFF)) << np.uint64(48)) | np.uint64(
        (key.version << 40) | (_TAG_DOMAIN << 32)
    )
    return _aes_words(key.tag_key, words) >> np.uint64(64 - TAG_BITS)


def permute(key: CodeKey, counters: U64 | NDArray[np.int64]) -> tuple[U64, U64]:
    """The Feistel permutation of 80-bit counters given as < 2^64 integers: (left, right) halves."""
    c = np.asarray(counters).astype(np.uint64)
    left = c >> np.uint64(HALF_BITS)
    right = c & np.uint64(HALF_MASK)
    for r in range(ROUNDS):
        left, right = right, left ^ _round_values(key.feistel_key, r, right)
    return left, right


def _chars(value: U64, count: int) -> U8:
    """``count`` base32 characters of each value, most significant first (rows)."""
    out = np.empty((value.shape[0], count), dtype=np.uint8)
    for i in range(count):
        shift = np.uint64(5 * (count - 1 - i))
        out[:, i] = _ALPHABET_BYTES[((value >> shift) & np.uint64(31)).astype(np.intp)]
    return out


def encode_range(key: CodeKey, start: int, count: int) -> U8:
    """The serials of counters ``start .. start+count-1`` as a ``(count, 20)`` array of ASCII bytes."""
    if start < 0 or count < 0 or start + count > 2**63:
        raise ValueError("counters are 0 .. 2^63")
    counters = np.arange(start, start + count, dtype=np.uint64)
    left, right = permute(key, counters)
    tags = _tags(key, left, right)
    out = np.empty((count, SERIAL_LENGTH), dtype=np.uint8)
    out[:, 0] = _ALPHABET_BYTES[key.version]
    out[:, 1:9] = _chars(left, 8)
    out[:, 9:17] = _chars(right, 8)
    out[:, 17:] = _chars(tags, TAG_CHARS)
    return out


def serials(key: CodeKey, start: int, count: int) -> list[str]:
    """The serials of a counter range as strings (small ranges: samples, QR images, tests)."""
    return [row.tobytes().decode("ascii") for row in encode_range(key, start, count)]


def serial_for(key: CodeKey, counter: int) -> str:
    """The serial of one counter."""
    return serials(key, counter, 1)[0]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A serial that passed its tag: its canonical text, key version and counter."""

    serial: str
    key_version: int
    counter: int


def _decode(key: CodeKey, left: int, right: int) -> int:
    """The counter whose permutation is (left, right): the Feistel rounds backwards."""
    enc = _encryptor(key.feistel_key)
    for r in _ROUNDS_BACKWARDS:
        block = ((left << 88) | (r << 80)).to_bytes(16, "big")
        left, right = right ^ int.from_bytes(enc.update(block)[:5], "big"), left
    return (left << HALF_BITS) | right


Rejection = Literal["malformed", "unknown_key", "bad_tag"]
_MESSAGES: dict[str, str] = {
    "malformed": f"a serial has {SERIAL_LENGTH} Crockford base32 characters",
    "unknown_key": "the serial names a key version this brand does not have",
    "bad_tag": "the serial's check characters do not match",
}


def check_serial(serial: str, keys: Mapping[int, CodeKey]) -> Decoded | Rejection:
    """Check ``serial``'s tag and invert its permutation, or say why it is refused.

    Pure computation (no database): a forged or mistyped serial is refused here. The hot path of
    the resolver; :func:`decode_serial` is the same with an exception.
    """
    text = serial.strip()
    if len(text) != SERIAL_LENGTH:
        return "malformed"
    try:
        # Characters outside the alphabet become "!", which int() refuses.
        digits = text.encode("ascii").translate(_TO_PYTHON_BASE32)
        number = int(digits, 32)
    except (UnicodeEncodeError, ValueError):
        return "malformed"
    key = keys.get(number >> _VERSION_SHIFT)
    if key is None:
        return "unknown_key"
    left = (number >> (TAG_BITS + HALF_BITS)) & HALF_MASK
    right = (number >> TAG_BITS) & HALF_MASK
    block = ((left << 88) | (right << 48) | (key.version << 40) | (_TAG_DOMAIN << 32)).to_bytes(16, "big")
    head = _encryptor(key.tag_key).update(block)
    if ((head[0] << 8 | head[1]) >> (16 - TAG_BITS)) != number & _TAG_MASK:
        return "bad_tag"
    canonical = digits.decode("ascii").upper().translate(_FROM_PYTHON_BASE32)
    return Decoded(serial=canonical, key_version=key.version, counter=_decode(key, left, right))


def decode_serial(serial: str, keys: Mapping[int, CodeKey]) -> Decoded:
    """:func:`check_serial`, raising :class:`SerialError` (with its ``reason``) on refusal."""
    result = check_serial(serial, keys)
    if isinstance(result, str):
        raise SerialError(result, _MESSAGES[result])
    return result


def verify_many(serial_rows: U8, keys: Mapping[int, CodeKey]) -> tuple[NDArray[np.bool_], U64]:
    """Vectorised :func:`decode_serial` over a ``(n, 20)`` array of canonical ASCII serials.

    Returns ``(valid, counters)``; ``counters`` is meaningful where ``valid``. For bulk checks
    (imports of scanned lists, benchmarks); lower case and look-alikes are not folded here.
    """
    lookup = np.full(256, 255, dtype=np.uint8)
    lookup[_ALPHABET_BYTES] = np.arange(32, dtype=np.uint8)
    digits = lookup[serial_rows]
    valid = (digits != 255).all(axis=1)
    digits64: U64 = np.where(digits == 255, 0, digits).astype(np.uint64)

    def number(cols: U64) -> U64:
        value = np.zeros(cols.shape[0], dtype=np.uint64)
        for i in range(cols.shape[1]):
            value = (value << np.uint64(5)) | cols[:, i]
        return value

    left, right, tag = number(digits64[:, 1:9]), number(digits64[:, 9:17]), number(digits64[:, 17:])
    counters = np.zeros(serial_rows.shape[0], dtype=np.uint64)
    versions = digits64[:, 0].astype(np.int64)
    for version, key in keys.items():
        rows = np.nonzero(valid & (versions == version))[0]
        if rows.size == 0:
            continue
        lv, rv = left[rows], right[rows]
        ok = _tags(key, lv, rv) == tag[rows]
        for r in reversed(range(ROUNDS)):
            lv, rv = rv ^ _round_values(key.feistel_key, r, lv), lv
        counters[rows] = (lv << np.uint64(HALF_BITS)) | rv
        # Issued counters are below 2^63; anything above would wrap around in 64 bits.
        valid[rows] &= ok & (lv < np.uint64(1 << (63 - HALF_BITS)))
    valid &= np.isin(versions, np.fromiter(keys, dtype=np.int64))
    return valid, counters
