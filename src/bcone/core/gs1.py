"""GS1 identifiers: the GTIN check digit and the 14-digit form bcone stores.

A GTIN (Global Trade Item Number, the number under a product's barcode) comes in four lengths:
GTIN-8 (EAN-8), GTIN-12 (UPC-A), GTIN-13 (EAN-13, what Chinese products carry, prefixes 690-699)
and GTIN-14 (cases). Padded with leading zeros to 14 digits they are one comparable key, which
is also the form GS1 Digital Link URIs use (``/01/<14 digits>``).
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)
GTIN_STORED_LENGTH = 14


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (a GTIN without its last digit).

    From the rightmost digit of the body leftwards, digits are weighted 3, 1, 3, 1...; the check
    digit brings the weighted sum up to a multiple of ten.
    """
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"a GTIN body must be digits, got {body!r}")
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(value: str) -> str:
    """``value`` as a 14-digit GTIN, after checking its length and check digit.

    Accepts GTIN-8, -12, -13 and -14 with surrounding spaces; raises ``ValueError`` naming what is
    wrong (non-digits, wrong length, or a wrong check digit together with the expected one).
    """
    digits = value.strip()
    if not digits:
        raise ValueError("a GTIN is required")
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"a GTIN has only digits 0-9, got {value.strip()!r}")
    if len(digits) not in GTIN_LENGTHS:
        raise ValueError(f"a GTIN has 8, 12, 13 or 14 digits, got {len(digits)}")
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ValueError(f"wrong GTIN check digit: {digits} ends in {digits[-1]}, expected {expected}")
    return digits.zfill(GTIN_STORED_LENGTH)


def is_valid_gtin(value: str) -> bool:
    """Whether ``value`` is a GTIN of an accepted length with a correct check digit."""
    try:
        normalize_gtin(value)
    except ValueError:
        return False
    return True
