"""Bounds on what people type into the billing desk (issue 13 §4): each refusal names the
field and says in Russian what to enter; the caller writes nothing."""

from __future__ import annotations

from datetime import date

from billing.domain.periods import Period
from clientops_shared.errors import InvalidInput

EARLIEST = date(2000, 1, 1)


def past_date(field: str, value: date, today: date, what: str) -> None:
    """A date of something that has happened: not in the future, not before 2000."""
    if value > today:
        raise InvalidInput(field, f"{what} не может быть в будущем: сегодня "
                                  f"{today:%d.%m.%Y}.")
    if value < EARLIEST:
        raise InvalidInput(field, f"{what} не может быть раньше {EARLIEST:%d.%m.%Y}.")


def run_period(period: Period, first: Period | None, today: date, confirmed: bool) -> None:
    """An invoice run is for a month from the first contract's month up to next month;
    outside that only with the head's confirmation (``confirmed``)."""
    latest = Period.of(today).next()
    earliest = first if first is not None else Period.of(today)
    if confirmed or earliest <= period <= latest:
        return
    raise InvalidInput("period", f"Выберите месяц от {earliest.first_day:%m.%Y} до "
                                 f"{latest.first_day:%m.%Y} (первый месяц договоров — "
                                 "следующий месяц); другой период — только с подтверждением "
                                 "руководителя.")
