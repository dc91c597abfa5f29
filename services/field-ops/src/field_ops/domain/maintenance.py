"""Maintenance plans (seed 000 §11): N planned visits per month / quarter / year per contract.

A period is split into N equal parts; each visit falls on the first working day at or after
the start of its part. Orders are generated ``lead_days`` ahead of the visit, once per visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from field_ops.domain.sla import is_working_day


class VisitPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_LABELS = {"month": "месяц", "quarter": "квартал", "year": "год"}
_MONTHS = {VisitPeriod.MONTH: 1, VisitPeriod.QUARTER: 3, VisitPeriod.YEAR: 12}


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class PlannedVisit:
    on: date
    number: int      # 1 … visits within its period
    of: int
    period_start: date


def visits(*, starts_on: date, ends_on: date | None, per_period: int, period: VisitPeriod,
           until: date) -> Iterator[PlannedVisit]:
    """Every planned visit from the plan's start up to ``until`` (and its end, if any)."""
    if per_period < 1:
        return
    start = date(starts_on.year, starts_on.month, 1)
    while start <= until:
        end = _add_months(start, _MONTHS[period])
        length = (end - start).days
        for k in range(per_period):
            on = next_working_day(start + timedelta(days=length * k // per_period))
            if on < starts_on or on > until or (ends_on is not None and on > ends_on):
                continue
            yield PlannedVisit(on=on, number=k + 1, of=per_period, period_start=start)
        start = end
