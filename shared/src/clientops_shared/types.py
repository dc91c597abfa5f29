"""Value types shared by every service's API and event contracts."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from clientops_shared.requisites import validate_inn

KOPECK = Decimal("0.01")
MAX_AMOUNT = Decimal("1e10")
"""Every amount entered is below this (exclusive); the columns (NUMERIC(14, 2)) keep room
for sums of many."""
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


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
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value.strip()):
        # no exponents (1e5), no full-width or other non-ASCII digits
        raise ValueError("not a decimal amount in plain digits, e.g. \"12500.00\"")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("amount has more than two decimal places")
    if not isinstance(value, Decimal) and abs(amount) >= MAX_AMOUNT:
        # what a person or a client sends; sums the services compute may be larger
        raise ValueError("Слишком большая сумма: не больше 9 999 999 999,99 ₽.")
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


# --- bounds at the door: dates, counters, pagination -------------------------------------

MIN_DATE = date(2000, 1, 1)
FUTURE_YEARS = 5
MOSCOW = ZoneInfo("Europe/Moscow")
INT32_MAX = 2**31 - 1
MAX_OFFSET = 1_000_000


def max_date(today: date | None = None) -> date:
    """Today (Moscow) plus five years: the latest date any input may name by default."""
    today = today or datetime.now(MOSCOW).date()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def check_date(value: date, *, earliest: date = MIN_DATE, latest: date | None = None) -> date:
    """A date between 2000-01-01 and today + 5 years unless the field says otherwise."""
    latest = latest or max_date()
    if isinstance(value, datetime):
        day = value.date()
    else:
        day = value
    if day < earliest or day > latest:
        raise ValueError(f"Дата должна быть не раньше {earliest:%d.%m.%Y} и не позже "
                         f"{latest:%d.%m.%Y}.")
    return value


BoundedDate = Annotated[date, AfterValidator(check_date)]
"""A date a person enters: 2000-01-01 … today + 5 years (year 0001 or 9999 is a 422)."""

Offset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]
"""A page offset: never beyond what a list can hold (a 64-bit value is a 422, not a 500)."""

Count = Annotated[int, Interval(ge=0, le=INT32_MAX)]
"""A non-negative counter stored in an INTEGER column."""


def page_limit(most: int) -> Any:
    """``limit`` of a list: 1 … ``most``."""
    return Annotated[int, Interval(ge=1, le=most)]


def _check_value(value: Any, exempt: bool) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ValueError("number is out of range")
    if isinstance(value, date) and not exempt:
        check_date(value)
    return value


class BoundedInput(BaseModel):
    """Base of request bodies: every date and int field is bounded unless it says otherwise.

    Dates: 2000-01-01 … today + 5 years (list a field in ``UNBOUNDED_DATES`` to opt out and
    give it its own rule); ints: what an INTEGER column holds; ``NOT_NULL`` fields refuse an
    explicit ``null``. Optional and list fields are
    checked element by element, so ``[date, …]`` and ``date | None`` are covered too.
    """

    UNBOUNDED_DATES: ClassVar[frozenset[str]] = frozenset()
    NOT_NULL: ClassVar[frozenset[str]] = frozenset()
    """Fields a PATCH may leave out but never set to ``null`` (a required value)."""

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("must not be null")
        exempt = info.field_name in cls.UNBOUNDED_DATES
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                _check_value(item, exempt)
            return value
        return _check_value(value, exempt)



# one INN check for every counterparty (clients, rent owners, suppliers, statement payers)
Inn = Annotated[str, AfterValidator(validate_inn),
                WithJsonSchema({"type": "string", "pattern": r"^(\d{10}|\d{12})$",
                                "examples": ["7707083893"]})]
"""INN of an organisation (10 digits) or a sole trader (12 digits), checksum verified."""
