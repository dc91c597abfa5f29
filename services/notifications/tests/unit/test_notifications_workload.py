"""Workload, bus factor and regrouping over a hand-made December 2026, computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.model import Function, Priority, Task, TaskAction, TaskState
from notifications.domain.rules import WorkingCalendar
from notifications.domain.workload import (
    Load,
    Move,
    TaskFact,
    carriers,
    daily_digest,
    loads_by_function,
    loads_by_person,
    single_carrier_functions,
    suggest_regrouping,
    week_bounds,
)

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
# Wednesday 30 December 2026, noon: the week runs Mon 28.12 00:00 - Mon 04.01 00:00
NOW = datetime(2026, 12, 30, 12, 0, tzinfo=MSK)
SINCE = datetime(2026, 12, 1, 0, 0, tzinfo=MSK)

OP, DN, CN, SZ = TaskState.OPEN, TaskState.DONE, TaskState.CANCELLED, TaskState.SNOOZED
B, L, F, K, CL, SP = (
    Function.BILLING,
    Function.LOGISTICS,
    Function.FIELD_OPS,
    Function.CONTRACTS,
    Function.CLAIMS,
    Function.SUPPORT,
)


def t(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=MSK)


# The seeded month. Durations (created -> done) are whole hours so the medians are easy.
# fmt: off
MONTH: list[tuple[int, str, Function, datetime, datetime, TaskState, datetime | None]] = [
    # no, assignee,     function, created,       due,            state, done_at
    (1,  "ivanov",      B,  t(12, 1, 10),  t(12, 1, 18),  DN, t(12, 1, 12)),   # 2 h
    (2,  "ivanov",      B,  t(12, 21, 9),  t(12, 21, 18), DN, t(12, 21, 13)),  # 4 h
    (3,  "ivanov",      B,  t(12, 28, 9),  t(12, 28, 18), DN, t(12, 28, 15)),  # 6 h, this week
    (4,  "ivanov",      B,  t(12, 29, 9),  t(12, 29, 18), OP, None),           # overdue
    (5,  "ivanov",      B,  t(12, 30, 9),  t(12, 30, 18), OP, None),           # due tonight
    (6,  "ivanov",      L,  t(12, 7, 10),  t(12, 10, 18), DN, t(12, 9, 10)),   # 48 h
    (7,  "ivanov",      L,  t(12, 14, 10), t(12, 17, 18), DN, t(12, 15, 10)),  # 24 h
    (8,  "ivanov",      L,  t(12, 28, 10), t(12, 29, 18), OP, None),           # overdue
    (9,  "ivanov",      F,  t(12, 3, 10),  t(12, 4, 18),  DN, t(12, 3, 11)),   # 1 h
    (10, "ivanov",      F,  t(12, 29, 10), t(12, 29, 12), DN, t(12, 29, 18)),  # 8 h, this week
    (11, "ivanov",      F,  t(12, 25, 10), t(12, 28, 18), SZ, None),           # snoozed, overdue
    (12, "ivanov",      K,  t(11, 20, 10), t(11, 25, 18), DN, t(11, 24, 10)),  # before the window
    (13, "ivanov",      B,  t(12, 22, 10), t(12, 22, 18), CN, t(12, 22, 15)),  # closed by "paid"
    (14, "petrova",     K,  t(12, 2, 10),  t(12, 3, 18),  DN, t(12, 2, 14)),   # 4 h
    (15, "petrova",     K,  t(12, 16, 10), t(12, 17, 18), DN, t(12, 17, 10)),  # 24 h
    (16, "petrova",     K,  t(12, 29, 10), t(12, 31, 18), OP, None),           # not yet due
    (17, "petrova",     F,  t(12, 10, 10), t(12, 11, 18), DN, t(12, 10, 16)),  # 6 h
    (18, "petrova",     K,  t(12, 28, 10), t(12, 29, 18), DN, t(12, 30, 10)),  # 48 h, this week
    (19, "sidorov",     K,  t(12, 8, 10),  t(12, 9, 18),  DN, t(12, 8, 12)),   # 2 h
    (20, "smirnova",    CL, t(12, 4, 10),  t(12, 11, 18), DN, t(12, 10, 10)),  # 144 h
    (21, "smirnova",    CL, t(12, 21, 10), t(12, 25, 18), OP, None),           # overdue
    (22, "queue:support", SP, t(12, 29, 10), t(12, 29, 18), OP, None),         # overdue, a queue
]
# fmt: on

FACTS = [
    TaskFact(assignee=who, function=fn, created_at=c, due_at=due, state=st, done_at=done)
    for _, who, fn, c, due, st, done in MONTH
]

H = timedelta(hours=1)

# Worked by hand from the table above.
#   ivanov   open 4,5,8,11 = 4; overdue 4,8,11 = 3 (5 is due at 18:00 tonight);
#            done this week 3,10 = 2; done in window 1,2,3,6,7,9,10 = 7 (12 is November,
#            13 was cancelled); durations 1,2,4,6,8,24,48 h -> median 6 h; carried 4+7 = 11
#   petrova  open 16; overdue 0; week 18; window 14,15,17,18 = 4; 4,6,24,48 h -> 15 h; 5
#   sidorov  window 19 = 1; 2 h; carried 1
#   smirnova open 21 (overdue); window 20; 144 h; carried 2
# fmt: off
EXPECTED_PEOPLE = {
    #            open overdue week window median
    "ivanov":   Load(4, 3, 2, 7, 6 * H),
    "petrova":  Load(1, 0, 1, 4, 15 * H),
    "sidorov":  Load(0, 0, 0, 1, 2 * H),
    "smirnova": Load(1, 1, 0, 1, 144 * H),
}
#   billing   1-5,13: open 4,5; overdue 4; week 3; window 1,2,3; 2,4,6 h -> 4 h
#   logistics 6-8: open 8 (overdue); window 6,7; 48,24 h -> 36 h
#   field_ops 9,10,11,17: open 11 (snoozed, overdue); week 10; window 9,10,17; 1,8,6 h -> 6 h
#   contracts 12,14,15,16,18,19: open 16; week 18; window 14,15,18,19; 2,4,24,48 h -> 14 h
#   claims    20,21: open 21 (overdue); window 20; 144 h
#   support   22 (queue): open, overdue; nothing done
EXPECTED_FUNCTIONS = {
    B:  Load(2, 1, 1, 3, 4 * H),
    L:  Load(1, 1, 0, 2, 36 * H),
    F:  Load(1, 1, 1, 3, 6 * H),
    K:  Load(1, 0, 1, 4, 14 * H),
    CL: Load(1, 1, 0, 1, 144 * H),
    SP: Load(1, 1, 0, 0, None),
}
# fmt: on


def test_week_is_monday_to_sunday_in_moscow() -> None:
    assert week_bounds(NOW) == (t(12, 28, 0), datetime(2027, 1, 4, 0, 0, tzinfo=MSK))
    # 22:30 UTC on Sunday 27 December is already Monday 01:30 in Moscow
    sunday_utc = datetime(2026, 12, 27, 22, 30, tzinfo=UTC)
    assert week_bounds(sunday_utc)[0] == t(12, 28, 0)


def test_load_per_person() -> None:
    loads = loads_by_person(FACTS, NOW, SINCE)
    assert loads == EXPECTED_PEOPLE  # the queue is not a person
    assert [loads[p].carried for p in loads] == [11, 5, 1, 2]


def test_load_per_function_includes_queues() -> None:
    assert loads_by_function(FACTS, NOW, SINCE) == EXPECTED_FUNCTIONS
    open_total = sum(load.open for load in EXPECTED_FUNCTIONS.values())
    assert open_total == 7


def test_without_a_window_every_done_task_counts() -> None:
    ivanov = loads_by_person(FACTS, NOW)["ivanov"]
    # task 12 (contracts, 94 h) joins: 1,2,4,6,8,24,48,94 h -> (6 + 8) / 2 = 7 h
    assert (ivanov.done_in_window, ivanov.median_time_to_done) == (8, 7 * H)


def test_who_can_do_each_function() -> None:
    assert carriers(FACTS, NOW, SINCE) == {
        K: ("petrova", "sidorov"),  # ivanov's contracts task was before the window
        B: ("ivanov",),
        F: ("ivanov", "petrova"),
        L: ("ivanov",),
        CL: ("smirnova",),
        SP: (),  # only the queue holds support work, and nobody has done any
    }


def test_functions_carried_by_one_person_alone() -> None:
    assert single_carrier_functions(FACTS, NOW, SINCE) == {
        B: "ivanov",
        L: "ivanov",
        CL: "smirnova",
    }


def test_regrouping_moves_a_sole_function_to_the_senior_manager() -> None:
    # loads 11, 5, 1, 2 -> median 3.5; above it: ivanov (11), petrova (5)
    # ivanov alone carries billing (tasks 1-5: 5) and logistics (6-8: 3); petrova carries
    # nothing alone. Billing first: sidorov 1 + 5 = 6 <= ivanov 11 - 5 = 6, so it moves.
    # Logistics next: sidorov 6 + 3 = 9 > ivanov 6 - 3 = 3, so it stays with ivanov.
    result = suggest_regrouping(FACTS, NOW, SINCE, targets=["sidorov"])
    assert result.team_median == 3.5
    assert result.loads == {"ivanov": 11, "petrova": 5, "sidorov": 1, "smirnova": 2}
    assert result.overloaded == ("ivanov", "petrova")
    assert result.moves == (
        Move(
            function=B,
            tasks=5,
            from_person="ivanov",
            to_person="sidorov",
            from_load_before=11,
            from_load_after=6,
            to_load_before=1,
            to_load_after=6,
        ),
    )
    assert result.kept == (("ivanov", L, 3),)


def test_regrouping_without_named_targets_uses_everyone_under_the_median() -> None:
    # under 3.5: sidorov (1) and smirnova (2); billing goes to the least loaded, sidorov;
    # logistics would then go to smirnova: 2 + 3 = 5 > 6 - 3 = 3, so it is kept
    result = suggest_regrouping(FACTS, NOW, SINCE)
    assert [(m.function, m.to_person) for m in result.moves] == [(B, "sidorov")]
    assert result.kept == (("ivanov", L, 3),)


def test_a_senior_with_no_tasks_yet_is_still_a_target() -> None:
    facts = [f for f in FACTS if f.assignee != "sidorov"]
    # loads ivanov 11, petrova 5, smirnova 2, kuznetsov 0 -> median 3.5
    # billing 5: kuznetsov 0 + 5 = 5 <= 11 - 5 = 6 -> moves
    # logistics 3: kuznetsov 5 + 3 = 8 > 6 - 3 = 3 -> kept
    # contracts is now petrova's alone (14, 15, 18 done and 16 open: 4 carried):
    # kuznetsov 5 + 4 = 9 > 5 - 4 = 1 -> kept
    result = suggest_regrouping(facts, NOW, SINCE, targets=["kuznetsov"])
    assert result.loads["kuznetsov"] == 0
    assert [(m.function, m.from_person, m.to_person, m.tasks) for m in result.moves] == [
        (B, "ivanov", "kuznetsov", 5)
    ]
    assert result.kept == (("ivanov", L, 3), ("petrova", K, 4))


def test_no_facts_no_suggestions() -> None:
    result = suggest_regrouping([], NOW, SINCE)
    assert (result.moves, result.kept, result.overloaded) == ((), (), ())


def test_a_done_fact_needs_its_done_time() -> None:
    with pytest.raises(ValueError, match="done_at"):
        TaskFact("ivanov", B, t(12, 1, 10), t(12, 1, 18), TaskState.DONE)


def test_facts_come_straight_from_tasks() -> None:
    task = Task(
        id=UUID(int=1),
        kind="payment_reminder",
        action=TaskAction.CALL,
        function=B,
        title="x",
        assignee="ivanov",
        due_at=t(12, 21, 18),
        created_at=t(12, 21, 9),
    )
    task.complete(t(12, 21, 13), "ok")
    expected = TaskFact("ivanov", B, t(12, 21, 9), t(12, 21, 18), DN, t(12, 21, 13))
    assert TaskFact.of(task) == expected


# --- daily digest ----------------------------------------------------------------------------


def test_daily_digest_lists_overdue_then_today_by_urgency() -> None:
    monday = datetime(2026, 12, 28, 9, 0, tzinfo=MSK)

    def task(
        n: int, due: datetime, priority: Priority = Priority.NORMAL, who: str = "ivanov"
    ) -> Task:
        return Task(
            id=UUID(int=n),
            kind="k",
            action=TaskAction.CALL,
            function=B,
            title=f"задача {n}",
            assignee=who,
            due_at=due,
            created_at=t(12, 20, 9),
            priority=priority,
        )

    late_old, late_new = task(1, t(12, 24, 18)), task(2, t(12, 25, 18))
    today_normal = task(3, t(12, 28, 12))
    today_urgent = task(4, t(12, 28, 18), Priority.URGENT)
    tomorrow = task(5, t(12, 29, 18))
    someone_else = task(6, t(12, 24, 18), who="petrova")
    done_friday = task(7, t(12, 25, 18))
    done_friday.complete(t(12, 25, 16), "ok")
    done_sunday = task(8, t(12, 27, 18))
    done_sunday.complete(t(12, 27, 11), "ok")
    parked = task(9, t(12, 28, 18))
    parked.snooze(t(12, 30, 9), monday - timedelta(days=1))

    tasks = [tomorrow, today_normal, late_new, today_urgent, late_old, someone_else]
    tasks += [done_friday, done_sunday, parked]
    digest = daily_digest("ivanov", tasks, monday, WorkingCalendar())

    assert digest.day == monday.date()
    assert digest.overdue == (late_old, late_new)
    assert digest.due_today == (today_urgent, today_normal)
    assert digest.later == (tomorrow,)
    assert digest.done_yesterday == 1  # Friday, the previous working day
    # without a calendar "yesterday" is Sunday
    assert daily_digest("ivanov", tasks, monday).done_yesterday == 1
    assert daily_digest("ivanov", [done_friday], monday).done_yesterday == 0
    assert digest.mail_context()["person"] == "ivanov"
