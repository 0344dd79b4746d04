"""Money: integer fen (分) inside, ``Decimal`` yuan at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")


def yuan_to_fen(value: Decimal | str | int) -> int:
    """Convert yuan to integer fen; refuses values with more than two decimals or not numbers."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    if amount.quantize(_CENT) != amount:
        raise ValueError(f"more than two decimals (fen is the smallest unit): {value!r}")
    return int(amount * FEN_PER_YUAN)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen as a two-decimal ``Decimal`` of yuan."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT, rounding=ROUND_HALF_UP)


def format_yuan(fen: int) -> str:
    """Display form, e.g. ``¥1,234.50``."""
    return f"¥{fen_to_yuan(fen):,.2f}"
