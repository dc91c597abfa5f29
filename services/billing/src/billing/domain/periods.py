"""Billing periods: a calendar month (Europe/Moscow), billed by the run on the 15th."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from clientops_shared.ru import MONTHS

INVOICE_RUN_DAY = 15
"""The run on this day bills the current month: service is paid in the month it is given."""

DEFAULT_DUE_DAY = 20
"""Payment is due by this day of the billed month (`due_day`, configurable per run)."""


_PERIOD_RE = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month; ordering is chronological, `str()` gives the ``YYYY-MM`` key."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1..9999, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM`` (e.g. ``2026-12``); anything else is a ValueError."""
        match = _PERIOD_RE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"period must look like YYYY-MM (e.g. 2026-12), got {text!r}")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r} has month {month:02d}; months are 01..12")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Period:
        """The period a date falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        """Days in the month: the proration denominator."""
        return _days_in(self.year, self.month)

    @property
    def title_ru(self) -> str:
        """«декабрь 2026 г.», as it follows «за» in invoice lines."""
        return f"{MONTHS[self.month - 1]} {self.year} г."

    def next(self) -> Period:
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def previous(self) -> Period:
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)

    def contains(self, day: date) -> bool:
        return day.year == self.year and day.month == self.month

    def dates(self) -> Iterator[date]:
        """Every day of the month, in order."""
        for offset in range(self.days):
            yield self.first_day + timedelta(days=offset)

    def run_day(self, day: int = INVOICE_RUN_DAY) -> date:
        """The date of this period's invoice run."""
        return self._day_in_month(day, "run day")

    def due_date(self, due_day: int = DEFAULT_DUE_DAY) -> date:
        """The payment due date; a due_day past the month's end means its last day."""
        return self._day_in_month(due_day, "due day")

    def _day_in_month(self, day: int, what: str) -> date:
        if not 1 <= day <= 31:
            raise ValueError(f"{what} must be 1..31, got {day}")
        # a configured 30th or 31st still has to fall inside February
        return date(self.year, self.month, min(day, self.days))


EARLIEST_PERIOD = Period(2000, 1)
HORIZON_YEARS = 5


def horizon(today: date) -> Period:
    """The last period anything may be billed or corrected for: five years ahead."""
    return Period(today.year + HORIZON_YEARS, today.month)


def check_run_period(period: Period, today: date, confirmed: bool) -> None:
    """An invoice run is for a period from 2000-01 up to next month; further ahead only when
    confirmed, and never beyond the five-year horizon. ValueError (in Russian) otherwise."""
    if period < EARLIEST_PERIOD:
        raise ValueError(f"период {period} раньше {EARLIEST_PERIOD}")
    if period > horizon(today):
        raise ValueError(f"период {period} дальше {horizon(today)}: так далеко вперёд счета "
                         "не выставляются")
    if period > Period.of(today).next() and not confirmed:
        raise ValueError(f"период {period} позже следующего месяца "
                         f"({Period.of(today).next()}); подтвердите запуск (confirm=true)")


@cache
def _days_in(year: int, month: int) -> int:
    # asked several times per contract by a run of tens of thousands
    return calendar.monthrange(year, month)[1]
