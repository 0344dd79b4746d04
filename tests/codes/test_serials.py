"""The serial scheme as pure functions: round trips, uniqueness, the check tag, Crockford reading."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcone.codes._serials import (
    ALPHABET,
    MAX_KEY_VERSION,
    SERIAL_LENGTH,
    CodeKey,
    Decoded,
    SerialError,
    check_serial,
    decode_serial,
    encode_range,
    serial_for,
    serials,
    verify_many,
)

KEY = CodeKey(3, bytes(range(32)))
OTHER = CodeKey(3, bytes(range(1, 33)))
KEYS = {3: KEY}

counters = st.integers(min_value=0, max_value=2**63 - 1)
secrets = st.binary(min_size=32, max_size=32)
versions = st.integers(min_value=0, max_value=MAX_KEY_VERSION)


@given(secret=secrets, version=versions, counter=counters)
@settings(max_examples=300)
def test_every_counter_round_trips_under_every_key(secret: bytes, version: int, counter: int) -> None:
    key = CodeKey(version, secret)
    serial = serial_for(key, counter)
    assert len(serial) == SERIAL_LENGTH
    assert set(serial) <= set(ALPHABET)
    assert serial[0] == ALPHABET[version]  # the key version is readable from the serial
    assert decode_serial(serial, {version: key}) == Decoded(serial, version, counter)


@given(start=st.integers(min_value=0, max_value=2**62), count=st.integers(min_value=1, max_value=300))
@settings(max_examples=50)
def test_the_vectorised_path_matches_the_scalar_one(start: int, count: int) -> None:
    rows = encode_range(KEY, start, count)
    texts = [r.tobytes().decode("ascii") for r in rows]
    assert texts == serials(KEY, start, count)
    assert [decode_serial(t, KEYS).counter for t in texts] == list(range(start, start + count))
    valid, decoded = verify_many(rows, KEYS)
    assert valid.all()
    assert decoded.tolist() == list(range(start, start + count))


def test_a_range_has_no_duplicate_and_looks_random() -> None:
    rows = encode_range(KEY, 0, 200_000)
    texts = rows.view(f"S{SERIAL_LENGTH}").ravel()
    assert len(np.unique(texts)) == 200_000
    # Consecutive counters share nothing visible: every body position uses the whole alphabet
    # about evenly (a counter in disguise would leave the leading characters constant).
    for position in range(1, 17):
        counts = np.bincount(rows[:, position], minlength=256)[np.frombuffer(ALPHABET.encode(), np.uint8)]
        assert counts.min() > 200_000 / 32 * 0.9, position


def test_serials_depend_on_the_key() -> None:
    mine, theirs = serials(KEY, 0, 1000), serials(OTHER, 0, 1000)
    assert not set(mine) & set(theirs)
    refused = sum(isinstance(check_serial(s, {3: OTHER}), str) for s in mine)
    assert refused >= 990  # a 15-bit tag lets 1 in 32,768 through by chance


def test_every_single_character_typo_is_refused_or_lands_outside_the_batch() -> None:
    issued = range(64)
    for counter in issued:
        serial = serial_for(KEY, counter)
        for position in range(1, SERIAL_LENGTH):
            for char in ALPHABET:
                if char == serial[position]:
                    continue
                typo = serial[:position] + char + serial[position + 1 :]
                result = check_serial(typo, KEYS)
                assert isinstance(result, str) or result.counter not in issued, typo


def test_reading_is_forgiving_the_crockford_way() -> None:
    serial = next(s for s in serials(KEY, 0, 500) if "1" in s[1:] and "0" in s[1:])
    sloppy = serial.lower().replace("1", "l").replace("0", "O")
    decoded = decode_serial(f"  {sloppy} ", KEYS)
    assert decoded.serial == serial


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "malformed"),
        ("3" * 19, "malformed"),
        ("3" * 21, "malformed"),
        ("3ABCDEFGHJKMNPQRSTU!", "malformed"),
        ("3ABCDEFGHJKMNPQRSTVW", "bad_tag"),
        ("3ABCDEFGHJKMNPQRSTUW", "malformed"),
        ("3ABCDEFGHJKMNPQRSTV中", "malformed"),
        ("4ABCDEFGHJKMNPQRSTVW", "unknown_key"),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    assert check_serial(text, KEYS) == reason
    with pytest.raises(SerialError) as caught:
        decode_serial(text, KEYS)
    assert caught.value.reason == reason


def test_verify_many_refuses_what_check_serial_refuses() -> None:
    good = encode_range(KEY, 1000, 50)
    bad = good.copy()
    bad[:, 5] = np.where(bad[:, 5] == ord("A"), ord("B"), ord("A"))
    bad[0, 0] = ord("Z")  # unknown key version
    bad[1, 3] = ord("U")  # not in the alphabet
    rows = np.vstack([good, bad])
    valid, counters = verify_many(rows, KEYS)
    expected = [not isinstance(check_serial(r.tobytes().decode(), KEYS), str) for r in rows]
    assert valid.tolist() == expected
    assert valid[:50].all()
    assert counters[:50].tolist() == list(range(1000, 1050))


def test_keys_and_ranges_are_checked() -> None:
    with pytest.raises(ValueError, match="version"):
        CodeKey(32, bytes(32))
    with pytest.raises(ValueError, match="32 bytes"):
        CodeKey(0, bytes(16))
    with pytest.raises(ValueError, match="counters"):
        encode_range(KEY, 2**63, 1)
    assert "secret" not in repr(KEY)  # the key never shows in logs
