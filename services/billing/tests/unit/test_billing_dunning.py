import pickle
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.dunning import (
    DEFAULT_ESCALATION,
    DunningAction,
    EscalationPolicy,
    EscalationStage,
    WorkingCalendar,
    is_reminder_day,
    plan_reminders,
    reminder_days,
    reminder_for,
    should_remind,
    stage_for,
    working_days_overdue,
)
from billing.domain.periods import Period

pytestmark = pytest.mark.unit


# BILLING-RULES.md, "Dunning calendar": due day 20, reminders to the end of the month
@pytest.mark.parametrize(
    ("period", "days"),
    [
        (Period(2026, 12), [21, 22, 23, 24, 25, 28, 29, 30]),
        (Period(2027, 1), [20, 21, 22, 25, 26, 27, 28, 29]),
        (Period(2027, 2), [20, 24, 25, 26]),
    ],
    ids=str,
)
def test_billing_rules_calendars(period: Period, days: list[int]) -> None:
    found = reminder_days(period.due_date(), period.last_day)
    assert [day.day for day in found] == days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 20), False),  # Sunday
        (date(2026, 12, 31), False),  # transferred day off
        (date(2027, 1, 8), False),  # New Year holidays
        (date(2027, 1, 11), True),
        (date(2027, 2, 20), True),  # working Saturday
        (date(2027, 2, 22), False),  # the day off it was moved to
        (date(2027, 2, 23), False),  # Defender of the Fatherland Day
    ],
)
def test_reminder_days_follow_the_ru_calendar(day: date, working: bool) -> None:
    assert is_reminder_day(day) is working


def test_override_table_wins_over_the_package() -> None:
    decree = WorkingCalendar({date(2027, 2, 20): False, date(2027, 2, 22): True})
    assert not decree.is_working_day(date(2027, 2, 20))
    assert decree.is_working_day(date(2027, 2, 22))
    assert [day.day for day in reminder_days(date(2027, 2, 20), date(2027, 2, 28), decree)] == [
        22,
        24,
        25,
        26,
    ]
    assert not is_reminder_day(date(2027, 2, 20), decree)


def test_working_days_overdue_counts_the_due_date_as_day_one() -> None:
    assert working_days_overdue(date(2027, 1, 20), date(2027, 1, 20)) == 1
    assert working_days_overdue(date(2027, 1, 20), date(2027, 1, 26)) == 5
    # the 20th of December 2026 is a Sunday: the 21st is day 1
    assert working_days_overdue(date(2026, 12, 20), date(2026, 12, 21)) == 1
    assert working_days_overdue(date(2026, 12, 20), date(2026, 12, 19)) == 0


@pytest.mark.parametrize(
    ("days", "action"),
    [
        (0, None),
        (1, DunningAction.CALL),
        (4, DunningAction.CALL),
        (5, DunningAction.LETTER),
        (9, DunningAction.LETTER),
        (10, DunningAction.HEAD_ESCALATION),
        (29, DunningAction.HEAD_ESCALATION),
        (30, DunningAction.SUSPENSION_PROPOSAL),
    ],
)
def test_default_stages(days: int, action: DunningAction | None) -> None:
    stage = stage_for(days)
    assert (stage.action if stage else None) is action


def test_policy_from_data() -> None:
    policy = EscalationPolicy.from_data({"3": "letter", "1": "call"}, hands_on=["letter"])
    assert policy.stages == (
        EscalationStage(1, DunningAction.CALL),
        EscalationStage(3, DunningAction.LETTER, hands_on=True),
    )
    assert policy.handed_on(4) and not policy.handed_on(3)
    with pytest.raises(ValueError):
        EscalationPolicy.from_data({"1": "fax"})
    with pytest.raises(ValueError, match="start at 1"):
        EscalationPolicy.from_data({"0": "call"})
    with pytest.raises(ValueError, match="same day"):
        EscalationPolicy((EscalationStage(1, DunningAction.CALL),) * 2)


DUE = date(2027, 1, 20)


def test_reminds_on_working_days_from_the_due_date() -> None:
    assert should_remind(date(2027, 1, 20), DUE, paid=False)
    assert not should_remind(date(2027, 1, 19), DUE, paid=False)
    assert not should_remind(date(2027, 1, 23), DUE, paid=False)  # Saturday


def test_payment_stops_everything() -> None:
    assert not should_remind(date(2027, 1, 21), DUE, paid=True)
    assert not should_remind(date(2027, 3, 1), DUE, paid=True)


def test_promise_pauses_through_its_date() -> None:
    promised = date(2027, 1, 26)
    assert not should_remind(date(2027, 1, 25), DUE, False, promised)
    assert not should_remind(promised, DUE, False, promised)
    assert should_remind(date(2027, 1, 27), DUE, False, promised)
    # the clock ran on through the pause: the 27th is the sixth reminder day
    reminder = reminder_for(date(2027, 1, 27), DUE, False, promised)
    assert reminder is not None
    assert (reminder.days_overdue, reminder.stage.action) == (6, DunningAction.LETTER)
    assert not reminder.stage_starts


def test_stage_starts_once() -> None:
    letter_day = reminder_days(DUE, DUE + timedelta(days=30))[4]
    reminder = reminder_for(letter_day, DUE, paid=False)
    assert reminder is not None and reminder.stage_starts
    assert reminder.stage.action is DunningAction.LETTER


def test_suspension_proposal_hands_the_case_on() -> None:
    days = reminder_days(DUE, DUE + timedelta(days=80))
    thirtieth, after = days[29], days[30]
    reminder = reminder_for(thirtieth, DUE, paid=False)
    assert reminder is not None
    assert reminder.stage.action is DunningAction.SUSPENSION_PROPOSAL and reminder.stage_starts
    assert not should_remind(after, DUE, paid=False)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)), st.integers(0, 60))
def test_reminders_are_the_working_days_until_handed_on(due: date, span: int) -> None:
    until = due + timedelta(days=span)
    expected = [
        day
        for day in reminder_days(due, until)
        if working_days_overdue(due, day) <= DEFAULT_ESCALATION.stages[-1].day
    ]
    actual = [
        due + timedelta(days=offset)
        for offset in range(span + 1)
        if should_remind(due + timedelta(days=offset), due, paid=False)
    ]
    assert actual == expected


POLICY = EscalationPolicy.from_data({2: "call", 4: "letter", 7: "suspension_proposal"})
OVERRIDES = {date(2026, 12, 31): True, date(2027, 1, 11): False}


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 3, 31)),
       st.lists(st.tuples(st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 3, 31)),
                          st.none() | st.dates(min_value=date(2026, 1, 1),
                                               max_value=date(2027, 3, 31))),
                max_size=12, unique=True))
def test_the_planned_reminders_are_reminder_for_of_each_pair(
        on: date, pairs: list[tuple[date, date | None]]) -> None:
    """The worker's plan (plain data in, plain data out) is the domain's answer, pair by pair,
    with the calendar's overrides and the policy's stages carried as data."""
    calendar = WorkingCalendar(OVERRIDES)
    expected = []
    for due, promised in pairs:
        reminder = reminder_for(on, due, False, promised, calendar=calendar, policy=POLICY)
        if reminder is not None:
            expected.append((due, promised, reminder.days_overdue, str(reminder.stage.action),
                             reminder.stage_starts))
    assert plan_reminders(on, pairs, OVERRIDES, POLICY.as_data()) == expected


def test_the_plan_travels_to_a_worker_process() -> None:
    """What ``in_worker_process`` sends and gets back pickles (the rule objects did not)."""
    args = (date(2027, 1, 27), [(date(2026, 12, 21), None)], OVERRIDES, POLICY.as_data())
    again = pickle.loads(pickle.dumps((plan_reminders, args)))
    assert again[0] is plan_reminders
    result = plan_reminders(*again[1])
    assert result == pickle.loads(pickle.dumps(result))
    assert EscalationPolicy.from_stages(POLICY.as_data()) == POLICY
