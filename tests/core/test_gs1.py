"""GTIN check digits and the 14-digit stored form, with known barcodes and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bcone.core.gs1 import gtin_check_digit, is_valid_gtin, normalize_gtin

bodies = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)


@pytest.mark.parametrize(
    ("gtin", "stored"),
    [
        ("96385074", "00000096385074"),  # GTIN-8 from the GS1 check digit calculator
        ("036000291452", "00036000291452"),  # UPC-A
        ("4006381333931", "04006381333931"),  # EAN-13
        ("6901234567892", "06901234567892"),  # EAN-13 with a Chinese 690 prefix
        ("10614141000415", "10614141000415"),  # GTIN-14 of a case
        (" 4006381333931 ", "04006381333931"),
    ],
)
def test_known_gtins_normalise_to_14_digits(gtin: str, stored: str) -> None:
    assert normalize_gtin(gtin) == stored
    assert is_valid_gtin(gtin)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4006381333932", "wrong GTIN check digit: 4006381333932 ends in 2, expected 1"),
        ("4006381333", "8, 12, 13 or 14 digits, got 10"),
        ("123456789", "8, 12, 13 or 14 digits, got 9"),
        ("123456789012345", "8, 12, 13 or 14 digits, got 15"),
        ("40063813339a1", "only digits"),
        ("４００６３８１３３３９３１", "only digits"),  # full-width digits are not barcode digits
        ("", "required"),
    ],
)
def test_bad_gtins_say_precisely_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_gtin(value)
    assert not is_valid_gtin(value)


def test_a_gtin_13_missing_a_digit_is_caught_by_its_check_digit() -> None:
    # 12 digits are a valid length (UPC-A), so only the check digit can tell the typo apart.
    with pytest.raises(ValueError, match="ends in 3, expected 0"):
        normalize_gtin("400638133393")


@given(bodies)
def test_body_plus_its_check_digit_is_valid(body: str) -> None:
    gtin = body + str(gtin_check_digit(body))
    stored = normalize_gtin(gtin)
    assert len(stored) == 14
    assert stored.lstrip("0") == gtin.lstrip("0")
    assert normalize_gtin(stored) == stored  # the stored form is itself a valid GTIN-14


@given(bodies, st.integers(min_value=1, max_value=9))
def test_every_wrong_check_digit_is_refused_with_the_expected_one(body: str, offset: int) -> None:
    expected = gtin_check_digit(body)
    wrong = (expected + offset) % 10
    with pytest.raises(ValueError, match=f"expected {expected}$"):
        normalize_gtin(body + str(wrong))


@given(bodies, st.data())
def test_any_single_digit_typo_is_detected(body: str, data: st.DataObject) -> None:
    gtin = body + str(gtin_check_digit(body))
    position = data.draw(st.integers(min_value=0, max_value=len(gtin) - 1))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != gtin[position]]))
    typo = gtin[:position] + replacement + gtin[position + 1 :]
    assert not is_valid_gtin(typo)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_check_digit_is_a_digit(body: str) -> None:
    assert 0 <= gtin_check_digit(body) <= 9
