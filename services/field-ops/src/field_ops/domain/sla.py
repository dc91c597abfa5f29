"""Emergency-visit SLA (000 §15, ARCHITECTURE flow 5): N business days, Russian calendar, Moscow.

An emergency order registered on day D is due by the end of the N-th working day after D;
the clock runs out at midnight (Moscow) that ends that day. Days off and transferred holidays
come from the ``holidays`` RU production calendar the project already ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from clientops_shared.jobs import MOSCOW

DEFAULT_SLA_DAYS = 2
SLA_DAYS_RANGE = (1, 2)


@lru_cache(maxsize=1)
def _ru() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def is_working_day(day: date) -> bool:
    return bool(_ru().is_working_day(day))


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after ``day`` (``day`` itself does not count)."""
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


@dataclass(frozen=True)
class Deadline:
    due_by: date          # the last business day of the window
    due_at: datetime      # the moment it passes: midnight Moscow after ``due_by``


def sla_days(contract_days: int | None) -> int:
    if contract_days is None:
        return DEFAULT_SLA_DAYS
    low, high = SLA_DAYS_RANGE
    return min(max(contract_days, low), high)


def deadline(registered_at: datetime, contract_days: int | None) -> Deadline:
    local_day = registered_at.astimezone(MOSCOW).date()
    due_by = add_working_days(local_day, sla_days(contract_days))
    due_at = datetime.combine(due_by + timedelta(days=1), time(0, 0), tzinfo=MOSCOW)
    return Deadline(due_by=due_by, due_at=due_at)


DOWNTIME_ESCALATION = timedelta(hours=24)
