"""Dunning: which days reminders are made on, and how a debt escalates.

Choices (the rules leave them open):

* Reminder days are working days on or after the due date, for an invoice still unpaid at the
  start of the day. The due date itself is a reminder day when it is a working day: the seeds
  ask for calls "every day from the 20th".
* ``working_days_overdue`` numbers those reminder days: the first working day on or after the
  due date is day 1. Escalation stages are keyed by that number, so "day 5 letter" means the
  fifth reminder day. The count runs on through promise pauses: a broken promise should not
  reset the clock.
* A promise to pay by a date pauses reminders up to *and including* that date (the client
  has until the end of it); reminders resume on the next working day if still unpaid.
* Every reminder day puts the invoice on the call list; a stage's own action (letter, head
  escalation, suspension proposal) is taken once, on the day the stage starts. A stage that
  hands the case on (by default the suspension proposal) is the last reminder day.
* Payment stops everything.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

import holidays

RU_DECREE_OVERRIDES: Mapping[date, bool] = MappingProxyType({})
"""Dates where a year's government decree differs from the installed ``holidays`` data
(True: working day, False: day off). holidays 0.108 already knows the transfers the billing
rules' calendars rely on (31.12.2026 off, 20.02.2027 worked for 22.02.2027), so nothing is
overridden; add a year's transfers here when the package lags behind a new decree."""


class WorkingCalendar:
    """Russian working days: the ``holidays`` RU calendar (transferred days off, working
    Saturdays) with an override table that wins over it."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._holidays = holidays.country_holidays("RU")
        self._overrides: Mapping[date, bool] = MappingProxyType(
            dict(RU_DECREE_OVERRIDES if overrides is None else overrides)
        )
        self._known: dict[date, bool] = {}

    @property
    def overrides(self) -> Mapping[date, bool]:
        return self._overrides

    def is_working_day(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            override = self._overrides.get(day)
            known = override if override is not None else bool(
                self._holidays.is_working_day(day))
            self._known[day] = known  # the calendar never changes: a day is looked up once
        return known

    def working_days(self, first: date, last: date) -> Iterator[date]:
        """Working days from ``first`` to ``last``, both included."""
        day = first
        while day <= last:
            if self.is_working_day(day):
                yield day
            day += timedelta(days=1)


DEFAULT_CALENDAR = WorkingCalendar()


class DunningAction(StrEnum):
    CALL = "call"
    LETTER = "letter"
    HEAD_ESCALATION = "head_escalation"
    SUSPENSION_PROPOSAL = "suspension_proposal"


@dataclass(frozen=True)
class EscalationStage:
    """A stage in force from reminder day ``day`` until the next stage starts."""

    day: int
    action: DunningAction
    hands_on: bool = False
    """After this stage's day the case leaves the call list (e.g. to contracts for suspension)."""


@dataclass(frozen=True)
class EscalationPolicy:
    stages: tuple[EscalationStage, ...]

    def __post_init__(self) -> None:
        stages = tuple(sorted(self.stages, key=lambda stage: stage.day))
        if not stages:
            raise ValueError("an escalation policy needs at least one stage")
        days = [stage.day for stage in stages]
        if days[0] < 1:
            raise ValueError(f"stage days start at 1 (the first reminder day), got {days[0]}")
        if len(set(days)) != len(days):
            raise ValueError("two escalation stages start on the same day")
        object.__setattr__(self, "stages", stages)

    @classmethod
    def from_data(
        cls,
        data: Mapping[int, str] | Mapping[str, str],
        hands_on: Iterable[str] = (DunningAction.SUSPENSION_PROPOSAL,),
    ) -> EscalationPolicy:
        """From configuration: ``{"1": "call", "5": "letter", ...}`` and the hand-on actions."""
        handing_on = {DunningAction(action) for action in hands_on}
        return cls(
            tuple(
                EscalationStage(
                    day=int(day),
                    action=DunningAction(action),
                    hands_on=DunningAction(action) in handing_on,
                )
                for day, action in data.items()
            )
        )

    def stage_for(self, days_overdue: int) -> EscalationStage | None:
        """The stage in force on a reminder day; None before the first stage."""
        current = None
        for stage in self.stages:
            if stage.day > days_overdue:
                break
            current = stage
        return current

    def handed_on(self, days_overdue: int) -> bool:
        """Whether a hand-on stage's day has already passed."""
        return any(stage.hands_on and stage.day < days_overdue for stage in self.stages)

    def as_data(self) -> tuple[tuple[int, str, bool], ...]:
        """The stages as plain data ``(day, action, hands_on)`` (to send to a worker)."""
        return tuple((stage.day, str(stage.action), stage.hands_on) for stage in self.stages)

    @classmethod
    def from_stages(cls, stages: Iterable[tuple[int, str, bool]]) -> EscalationPolicy:
        return cls(tuple(EscalationStage(day=day, action=DunningAction(action),
                                         hands_on=hands_on) for day, action, hands_on in stages))


DEFAULT_ESCALATION = EscalationPolicy.from_data(
    {
        1: DunningAction.CALL,
        5: DunningAction.LETTER,
        10: DunningAction.HEAD_ESCALATION,
        30: DunningAction.SUSPENSION_PROPOSAL,
    }
)


@dataclass(frozen=True)
class Reminder:
    """One day's dunning for one invoice: call, plus the stage action if it starts today."""

    on: date
    days_overdue: int
    stage: EscalationStage

    @property
    def stage_starts(self) -> bool:
        return self.stage.day == self.days_overdue


def is_reminder_day(day: date, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> bool:
    return calendar.is_working_day(day)


def reminder_days(
    due_date: date, until: date, calendar: WorkingCalendar = DEFAULT_CALENDAR
) -> tuple[date, ...]:
    """Reminder days from the due date to ``until``, both included, for an unpaid invoice."""
    return tuple(calendar.working_days(due_date, until))


def working_days_overdue(
    due_date: date, on: date, calendar: WorkingCalendar = DEFAULT_CALENDAR
) -> int:
    """Working days from the due date to ``on``, both included: the reminder day's number."""
    return sum(1 for _ in calendar.working_days(due_date, on))


def stage_for(
    days_overdue: int, policy: EscalationPolicy = DEFAULT_ESCALATION
) -> EscalationStage | None:
    return policy.stage_for(days_overdue)


def reminder_for(
    on: date,
    due_date: date,
    paid: bool,
    promised_until: date | None = None,
    *,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> Reminder | None:
    """Today's reminder for an invoice, or None. ``paid`` is its state at the start of ``on``."""
    if paid or on < due_date or not calendar.is_working_day(on):
        return None
    if promised_until is not None and on <= promised_until:
        return None
    days = working_days_overdue(due_date, on, calendar)
    stage = policy.stage_for(days)
    if stage is None or policy.handed_on(days):
        return None
    return Reminder(on=on, days_overdue=days, stage=stage)


def should_remind(
    on: date,
    due_date: date,
    paid: bool,
    promised_until: date | None = None,
    *,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> bool:
    return (
        reminder_for(on, due_date, paid, promised_until, calendar=calendar, policy=policy)
        is not None
    )


# --- a day's reminders, planned in a worker process ---------------------------------------------

PlannedReminder = tuple[date, date | None, int, str, bool]
"""``(due_on, promised_until, days_overdue, stage action, stage_starts)``."""

# a worker process keeps its calendars between runs: the holiday data is worked out once
_calendars: dict[frozenset[tuple[date, bool]], WorkingCalendar] = {}


def plan_reminders(on: date, pairs: Sequence[tuple[date, date | None]],
                   overrides: Mapping[date, bool],
                   stages: Sequence[tuple[int, str, bool]]) -> list[PlannedReminder]:
    """The reminder of ``on`` for each open invoice's (due date, promise) pair, from plain data
    only (the calendar's overrides, the policy's stages), so that it runs in a worker process
    (``clientops_shared.offload``): an invoice due years ago means thousands of calendar days
    to count, which would hold the service's loop (issue 9 §4).

    Same answer as ``reminder_for`` for each pair; the working days from the earliest due date
    to ``on`` are listed once and each pair's count is a bisection into that list.
    """
    key = frozenset(overrides.items())
    calendar = _calendars.get(key)
    if calendar is None:
        calendar = _calendars[key] = WorkingCalendar(dict(overrides))
    policy = EscalationPolicy.from_stages(stages)
    if not pairs or not calendar.is_working_day(on):
        return []
    earliest = min(due_on for due_on, _ in pairs)
    working = list(calendar.working_days(earliest, on)) if earliest <= on else []
    planned: list[PlannedReminder] = []
    for due_on, promised_until in pairs:
        if on < due_on or (promised_until is not None and on <= promised_until):
            continue
        days = len(working) - bisect.bisect_left(working, due_on)  # working days due..on
        stage = policy.stage_for(days)
        if stage is None or policy.handed_on(days):
            continue
        planned.append((due_on, promised_until, days, str(stage.action),
                        stage.day == days))
    return planned
