"""Value types shared by every service's API and event contracts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

KOPECK = Decimal("0.01")


def quantize_money(value: Decimal) -> Decimal:
    """Round to kopecks half-up: the rounding the billing rules prescribe."""
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def parse_money(value: Any) -> Decimal:
    """Strictly parse an amount: decimal string or int, at most two places, never a float."""
    if isinstance(value, bool) or isinstance(value, float):
        # floats carry binary error; clients must send amounts as strings
        raise ValueError("amount must be a decimal string such as \"12500.00\", not a float")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValueError("not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("amount has more than two decimal places")
    return amount.quantize(KOPECK)


def _non_negative(value: Any) -> Decimal:
    amount = parse_money(value)
    if amount < 0:
        raise ValueError("amount must not be negative")
    return amount


def _positive(value: Any) -> Decimal:
    amount = parse_money(value)
    if amount <= 0:
        raise ValueError("amount must be greater than zero")
    return amount


_money_schema = WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$",
                                "examples": ["12500.00"]})
_as_string = PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json")

Money = Annotated[Decimal, BeforeValidator(parse_money), _as_string, _money_schema]
"""Any amount in RUB (may be negative, e.g. a credit note), two places, JSON string."""

NonNegativeMoney = Annotated[Decimal, BeforeValidator(_non_negative), _as_string, _money_schema]
PositiveMoney = Annotated[Decimal, BeforeValidator(_positive), _as_string, _money_schema]
