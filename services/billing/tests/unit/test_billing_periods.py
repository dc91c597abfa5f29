from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.periods import Period

pytestmark = pytest.mark.unit

periods = st.builds(Period, st.integers(min_value=1990, max_value=2100), st.integers(1, 12))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-12", Period(2026, 12)), ("2027-02", Period(2027, 2)), (" 2027-01 ", Period(2027, 1))],
)
def test_parse(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-12", "2026/12", "2026-12-01", "", "декабрь"]
)
def test_parse_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)


def test_constructor_refuses_bad_month() -> None:
    with pytest.raises(ValueError, match="month"):
        Period(2026, 13)


def test_str_is_the_period_key() -> None:
    assert str(Period(2026, 1)) == "2026-01"


@pytest.mark.parametrize(
    ("period", "first", "last", "days"),
    [
        (Period(2026, 12), date(2026, 12, 1), date(2026, 12, 31), 31),
        (Period(2027, 2), date(2027, 2, 1), date(2027, 2, 28), 28),
        (Period(2028, 2), date(2028, 2, 1), date(2028, 2, 29), 29),
        (Period(2027, 4), date(2027, 4, 1), date(2027, 4, 30), 30),
    ],
)
def test_bounds_and_days(period: Period, first: date, last: date, days: int) -> None:
    assert (period.first_day, period.last_day, period.days) == (first, last, days)
    assert len(list(period.dates())) == days


def test_next_and_previous_cross_years() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert Period(2027, 3).next() == Period(2027, 4)


def test_contains() -> None:
    december = Period(2026, 12)
    assert december.contains(date(2026, 12, 31))
    assert not december.contains(date(2027, 1, 1))
    assert not december.contains(date(2025, 12, 15))


def test_run_day_and_due_date() -> None:
    december = Period(2026, 12)
    assert december.run_day() == date(2026, 12, 15)
    assert december.due_date() == date(2026, 12, 20)
    assert december.due_date(25) == date(2026, 12, 25)
    # a due day past the month's end falls on its last day
    assert Period(2027, 2).due_date(30) == date(2027, 2, 28)
    with pytest.raises(ValueError, match="due day"):
        december.due_date(0)


def test_title_ru_follows_za() -> None:
    assert Period(2026, 12).title_ru == "декабрь 2026 г."
    assert Period(2027, 5).title_ru == "май 2027 г."


def test_of_and_ordering() -> None:
    assert Period.of(date(2027, 2, 16)) == Period(2027, 2)
    assert sorted([Period(2027, 1), Period(2026, 12)]) == [Period(2026, 12), Period(2027, 1)]


@given(periods)
def test_parse_round_trips_str(period: Period) -> None:
    assert Period.parse(str(period)) == period


@given(periods)
def test_next_previous_are_inverse_and_adjacent(period: Period) -> None:
    assert period.next().previous() == period
    assert period.next().first_day == date.fromordinal(period.last_day.toordinal() + 1)
