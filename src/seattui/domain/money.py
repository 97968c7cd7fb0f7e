"""Credits are exact: Decimal with two places in models, integer hundredths in the store.
The field type of models, `Credits`, is in domain.base; this module stays free of pydantic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDREDTH = Decimal("0.01")
# Any amount, balance or price: its hundredths fit the store's 64-bit integers many times over.
MAX_CREDITS = Decimal("999999999999.99")
CREDIT_UNIT = "credits"


def exact_hundredths(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("an amount of credits must be a finite number")
    if abs(value) > MAX_CREDITS:
        raise ValueError(f"an amount of credits is at most {MAX_CREDITS:,} (either way)")
    quantized = value.quantize(HUNDREDTH)
    if quantized != value:
        raise ValueError("an amount of credits has at most two decimal places")
    return quantized


def to_hundredths(amount: Decimal) -> int:
    """The store's integer form of an amount; refuses anything finer than a hundredth."""
    return int(exact_hundredths(amount) * 100)


def from_hundredths(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(HUNDREDTH)


def round_credits(amount: Decimal) -> Decimal:
    """Round a computed amount (a prorated price) to the hundredth, half up, as invoices do."""
    return amount.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def parse_credits(text: str) -> Decimal:
    """Parse an amount typed by a person ("1,250.50" or "1250.5")."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of credits; type a number like 1250.50") from None
    return exact_hundredths(value)


def format_credits(amount: Decimal) -> str:
    """1234.5 -> '1,234.50' (the sign kept)."""
    return f"{amount:,.2f}"
