"""Value types shared by every service's API and event contracts."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

KOPECK = Decimal("0.01")
MONEY_LIMIT = Decimal(10) ** 10
"""Every amount a person or a service may send is below this (10 billion roubles)."""


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
    if abs(amount) >= MONEY_LIMIT:
        # every money column is NUMERIC(14, 2); refuse at the door, never a database error
        raise ValueError("amount is too large: it must be less than 10 000 000 000")
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


# --- INN (taxpayer number): every service that takes one checks its control digits ---------

_INN_SEPARATORS = re.compile(r"[\s\-]+")
_INN_DIGITS = re.compile(r"[0-9]{10}|[0-9]{12}")  # [0-9], not \d: no other scripts' digits
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def validate_inn(value: str) -> str:
    """The INN without separators; 10 digits (organisation) or 12 (person), control digits
    checked (FNS algorithm)."""
    number = _INN_SEPARATORS.sub("", value)
    if not _INN_DIGITS.fullmatch(number):
        raise ValueError(
            f"INN must be 10 digits (organisation) or 12 digits (sole trader), got {value!r}")
    digits = [int(c) for c in number]
    if len(digits) == 10:
        ok = digits[9] == _inn_digit(digits, _INN10)
    else:
        ok = (digits[10] == _inn_digit(digits, _INN12_FIRST)
              and digits[11] == _inn_digit(digits, _INN12_SECOND))
    if not ok:
        raise ValueError(f"INN {number}: invalid checksum")
    return number


Inn = Annotated[str, AfterValidator(validate_inn),
                WithJsonSchema({"type": "string", "pattern": r"^(\d{10}|\d{12})$",
                                "examples": ["7707083893"]})]
"""INN of an organisation (10 digits) or a sole trader (12 digits), checksum verified."""
