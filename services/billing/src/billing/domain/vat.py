"""VAT: a contract's mode, the dated rate table and the per-line net / VAT / gross split."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from clientops_shared.types import quantize_money

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


class VatMode(StrEnum):
    """How a contract's fee relates to VAT."""

    ON_TOP = "on_top"
    """The fee is net; VAT is added to it."""
    INCLUSIVE = "inclusive"
    """The fee already includes VAT."""
    EXEMPT = "exempt"
    """«НДС не облагается» (e.g. registered software): no VAT at all."""


@dataclass(frozen=True)
class VatRate:
    """A rate in percent (``Decimal("22")``) in force from a date until the next entry."""

    effective_from: date
    percent: Decimal


def _parse_percent(value: Decimal | str | int) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"VAT rate must be a decimal string or int, not {value!r}")
    try:
        percent = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"VAT rate {value!r} is not a number") from None
    if not percent.is_finite() or not 0 <= percent < 100:
        raise ValueError(f"VAT rate must be a percent in 0..100, got {value!r}")
    return percent


def _parse_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"VAT rate date must be YYYY-MM-DD, got {value!r}") from None


class VatRateTable:
    """Dated VAT rates; each applies from its date until the next one starts."""

    def __init__(self, rates: Iterable[VatRate]) -> None:
        ordered = sorted(rates, key=lambda rate: rate.effective_from)
        if not ordered:
            raise ValueError("a VAT rate table needs at least one rate")
        starts = [rate.effective_from for rate in ordered]
        if len(set(starts)) != len(starts):
            raise ValueError("a VAT rate table has two rates from the same date")
        self._rates: tuple[VatRate, ...] = tuple(ordered)
        self._starts: tuple[date, ...] = tuple(starts)

    @classmethod
    def from_data(cls, data: Mapping[date | str, Decimal | str | int]) -> VatRateTable:
        """Build from configuration, e.g. ``{"2019-01-01": "20", "2026-01-01": "22"}``."""
        return cls(
            VatRate(_parse_date(start), _parse_percent(percent)) for start, percent in data.items()
        )

    @property
    def rates(self) -> tuple[VatRate, ...]:
        return self._rates

    def rate_on(self, day: date) -> Decimal:
        """The percent in force on a day; a day before the first entry is an error."""
        index = bisect.bisect_right(self._starts, day) - 1
        if index < 0:
            raise ValueError(f"no VAT rate is known for {day.isoformat()}")
        return self._rates[index].percent

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VatRateTable) and self._rates == other._rates

    def __hash__(self) -> int:
        return hash(self._rates)

    def __repr__(self) -> str:
        return f"VatRateTable({list(self._rates)!r})"


# 20 % has applied since 2019-01-01 (it was 18 % before); 22 % from 2026-01-01.
DEFAULT_VAT_RATES = VatRateTable.from_data({"2019-01-01": "20", "2026-01-01": "22"})


@dataclass(frozen=True)
class VatSplit:
    """One line's amounts: gross = net + vat, each in kopecks; rate is None when exempt."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    rate: Decimal | None


def split_vat(amount: Decimal, mode: VatMode, rate: Decimal | None) -> VatSplit:
    """Split one line's amount (net for on_top, gross for inclusive) rounding half-up.

    The line amount is rounded to kopecks first, then VAT on it; so the invoice total,
    a sum of lines, matches what each line shows.
    """
    base = quantize_money(amount)
    if mode is VatMode.EXEMPT:
        return VatSplit(net=base, vat=ZERO, gross=base, rate=None)
    if rate is None:
        raise ValueError(f"VAT mode {mode} needs a rate")
    if mode is VatMode.ON_TOP:
        vat = quantize_money(base * rate / HUNDRED)
        return VatSplit(net=base, vat=vat, gross=base + vat, rate=rate)
    # inclusive: VAT is the rate's share of the gross, e.g. 22/122, and net is what remains
    vat = quantize_money(base * rate / (HUNDRED + rate))
    return VatSplit(net=base - vat, vat=vat, gross=base, rate=rate)
