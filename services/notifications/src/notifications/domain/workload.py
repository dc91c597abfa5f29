"""Who carries what: workload per person and function, bus factor, a regrouping suggestion.

The seeds end with the real problem: one manager carries everything, nobody can replace him,
his work cannot be checked, and the senior manager is under-loaded. These pure computations
over task facts make that visible from data and propose which functions could move.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from notifications.domain.model import (
    ACTIVE_STATES,
    MOSCOW,
    Function,
    Task,
    TaskState,
    is_queue,
    require_aware,
)


@dataclass(frozen=True)
class TaskFact:
    """The part of a task workload needs; rows of a read model or `TaskFact.of(task)`."""

    assignee: str
    function: Function
    created_at: datetime
    due_at: datetime
    state: TaskState
    done_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("created_at", "due_at", "done_at"):
            require_aware(name, getattr(self, name))
        if self.state is TaskState.DONE and self.done_at is None:
            raise ValueError("a done task fact needs done_at")

    @classmethod
    def of(cls, task: Task) -> TaskFact:
        return cls(
            assignee=task.assignee,
            function=task.function,
            created_at=task.created_at,
            due_at=task.due_at,
            state=task.state,
            done_at=task.done_at,
        )

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def done_between(self, start: datetime | None, end: datetime, *, end_inclusive: bool) -> bool:
        # only "done" is work done by the person; "cancelled" was closed by an event or dropped
        if self.state is not TaskState.DONE or self.done_at is None:
            return False
        if start is not None and self.done_at < start:
            return False
        return self.done_at <= end if end_inclusive else self.done_at < end

    def done_in_window(self, since: datetime | None, now: datetime) -> bool:
        """Done at or after `since` (None: ever) and not after `now`."""
        return self.done_between(since, now, end_inclusive=True)


@dataclass(frozen=True)
class Load:
    open: int
    overdue: int
    done_this_week: int
    done_in_window: int
    median_time_to_done: timedelta | None

    @property
    def carried(self) -> int:
        """Tasks on this person's plate: open now plus done in the window."""
        return self.open + self.done_in_window


def week_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, Moscow time, of the week holding `now`."""
    require_aware("now", now)
    today = now.astimezone(MOSCOW).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(0), tzinfo=MOSCOW)
    return start, start + timedelta(days=7)


def _median(values: Sequence[timedelta]) -> timedelta | None:
    # statistics.median is typed for numbers only; same rule: mean of the two middle values
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _load(facts: Sequence[TaskFact], now: datetime, since: datetime | None) -> Load:
    week_start, week_end = week_bounds(now)
    durations = [
        f.done_at - f.created_at
        for f in facts
        if f.done_at is not None and f.done_in_window(since, now)
    ]
    return Load(
        open=sum(1 for f in facts if f.is_active),
        overdue=sum(1 for f in facts if f.is_active and f.due_at < now),
        done_this_week=sum(
            1 for f in facts if f.done_between(week_start, week_end, end_inclusive=False)
        ),
        done_in_window=sum(1 for f in facts if f.done_in_window(since, now)),
        median_time_to_done=_median(durations),
    )


def _group(facts: Iterable[TaskFact], key: Callable[[TaskFact], Any]) -> dict[Any, list[TaskFact]]:
    groups: dict[Any, list[TaskFact]] = defaultdict(list)
    for fact in facts:
        groups[key(fact)].append(fact)
    return groups


def loads_by_person(
    facts: Iterable[TaskFact], now: datetime, since: datetime | None = None
) -> dict[str, Load]:
    """Per person (function queues are not people and are left out)."""
    people = _group((f for f in facts if not is_queue(f.assignee)), lambda f: f.assignee)
    return {person: _load(rows, now, since) for person, rows in sorted(people.items())}


def loads_by_function(
    facts: Iterable[TaskFact], now: datetime, since: datetime | None = None
) -> dict[Function, Load]:
    """Per function, queue tasks included: a function's backlog is its backlog."""
    groups = _group(facts, lambda f: f.function)
    return {function: _load(groups.get(function, []), now, since) for function in Function}


def carriers(
    facts: Iterable[TaskFact], now: datetime, since: datetime | None = None
) -> dict[Function, tuple[str, ...]]:
    """Per function, the people who did (completed) its tasks in the window: who can do it."""
    people: dict[Function, set[str]] = {function: set() for function in Function}
    for fact in facts:
        if not is_queue(fact.assignee) and fact.done_in_window(since, now):
            people[fact.function].add(fact.assignee)
    return {function: tuple(sorted(names)) for function, names in people.items()}


def single_carrier_functions(
    facts: Iterable[TaskFact], now: datetime, since: datetime | None = None
) -> dict[Function, str]:
    """Functions only one person carries (bus factor 1), with that person."""
    return {
        function: names[0]
        for function, names in carriers(facts, now, since).items()
        if len(names) == 1
    }


@dataclass(frozen=True)
class Move:
    function: Function
    tasks: int
    from_person: str
    to_person: str
    from_load_before: int
    from_load_after: int
    to_load_before: int
    to_load_after: int


@dataclass(frozen=True)
class Regrouping:
    team_median: float
    loads: dict[str, int]
    overloaded: tuple[str, ...]
    moves: tuple[Move, ...]
    # functions an overloaded person carries alone that no target can take without becoming
    # busier than the giver: (person, function, tasks)
    kept: tuple[tuple[str, Function, int], ...]


def suggest_regrouping(
    facts: Iterable[TaskFact],
    now: datetime,
    since: datetime | None = None,
    targets: Sequence[str] | None = None,
) -> Regrouping:
    """For each person above the team median, which of the functions they carry alone could
    move to an under-loaded person (e.g. the senior manager, passed in `targets`).

    Load = tasks carried in the window (open now plus done). Greedy: the person's biggest
    sole function first, to the least-loaded target, only while the target stays no busier
    than the giver after the move, so a move never just shifts the overload.
    """
    rows = [f for f in facts if not is_queue(f.assignee)]
    by_person = loads_by_person(rows, now, since)
    loads = {person: load.carried for person, load in by_person.items()}
    for name in targets or ():
        loads.setdefault(name, 0)
    if not loads:
        return Regrouping(team_median=0.0, loads={}, overloaded=(), moves=(), kept=())
    median = float(statistics.median(loads.values()))
    overloaded = tuple(
        sorted((p for p, n in loads.items() if n > median), key=lambda p: (-loads[p], p))
    )
    pool = (
        [t for t in targets if t not in overloaded]
        if targets is not None
        else [p for p, n in loads.items() if n < median]
    )
    sole = single_carrier_functions(rows, now, since)
    carried: dict[tuple[str, Function], int] = defaultdict(int)
    for fact in rows:
        if fact.is_active or fact.done_in_window(since, now):
            carried[(fact.assignee, fact.function)] += 1

    projected = dict(loads)
    moves: list[Move] = []
    kept: list[tuple[str, Function, int]] = []
    for person in overloaded:
        own = sorted(
            ((f, carried[(person, f)]) for f, who in sole.items() if who == person),
            key=lambda item: (-item[1], item[0].value),
        )
        for function, tasks in own:
            candidates = sorted((t for t in pool if t != person), key=lambda t: (projected[t], t))
            target = candidates[0] if candidates else None
            if target is None or projected[target] + tasks > projected[person] - tasks:
                kept.append((person, function, tasks))
                continue
            moves.append(
                Move(
                    function=function,
                    tasks=tasks,
                    from_person=person,
                    to_person=target,
                    from_load_before=projected[person],
                    from_load_after=projected[person] - tasks,
                    to_load_before=projected[target],
                    to_load_after=projected[target] + tasks,
                )
            )
            projected[person] -= tasks
            projected[target] += tasks
    return Regrouping(
        team_median=median,
        loads=dict(sorted(loads.items())),
        overloaded=overloaded,
        moves=tuple(moves),
        kept=tuple(kept),
    )


# --- daily digest -------------------------------------------------------------------------


class _Calendar(Protocol):
    def step(self, day: date, direction: int) -> date: ...


@dataclass(frozen=True)
class Digest:
    person: str
    day: date
    overdue: tuple[Task, ...]
    due_today: tuple[Task, ...]
    later: tuple[Task, ...]
    done_yesterday: int

    def mail_context(self) -> dict[str, Any]:
        """Keyword arguments for render_mail("daily_digest", ...)."""
        return {
            "person": self.person,
            "day": self.day,
            "overdue": list(self.overdue),
            "due_today": list(self.due_today),
            "later": list(self.later),
            "done_yesterday": self.done_yesterday,
        }


def daily_digest(
    person: str, tasks: Iterable[Task], now: datetime, calendar: _Calendar | None = None
) -> Digest:
    """One person's morning list: overdue, due today, the rest, and what they did last.

    With a calendar, "yesterday" is the previous working day, so Monday's digest counts
    Friday's work rather than Sunday's.
    """
    require_aware("now", now)
    today = now.astimezone(MOSCOW).date()
    previous = calendar.step(today, -1) if calendar is not None else today - timedelta(days=1)
    prev_start = datetime.combine(previous, time(0), tzinfo=MOSCOW)
    prev_end = datetime.combine(previous + timedelta(days=1), time(0), tzinfo=MOSCOW)
    mine = [t for t in tasks if t.assignee == person]
    open_tasks = [t for t in mine if t.state is TaskState.OPEN]

    def urgency(task: Task) -> tuple[int, datetime]:
        return (-task.priority.rank, task.due_at)

    overdue = sorted((t for t in open_tasks if t.due_at < now), key=lambda t: t.due_at)
    today_left = [
        t for t in open_tasks if t.due_at >= now and t.due_at.astimezone(MOSCOW).date() == today
    ]
    later = [t for t in open_tasks if t.due_at.astimezone(MOSCOW).date() > today]
    done = sum(
        1
        for t in mine
        if t.state is TaskState.DONE
        and t.done_at is not None
        and prev_start <= t.done_at < prev_end
    )
    return Digest(
        person=person,
        day=today,
        overdue=tuple(overdue),
        due_today=tuple(sorted(today_left, key=urgency)),
        later=tuple(sorted(later, key=urgency)),
        done_yesterday=done,
    )
