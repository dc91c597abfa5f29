"""The pure helpers behind the field desks: SLA clocks and breaches, long downtimes, the week
board, the month's SLA total, ``tel:`` links, Moscow moments typed in a form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from web.desks.dispatch import moscow_moment, schedule_body
from web.desks.technician import by_day
from web.field_ops import (
    compliance_total,
    long_downtimes,
    parse_moment,
    sla_breaches,
    sla_clock,
    sla_rows,
    span_ru,
    tel,
    week_board,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(minutes=40, seconds=59), "40 мин"),
    (timedelta(hours=5, minutes=10), "5 ч 10 мин"),
    (timedelta(days=2, hours=3, minutes=59), "2 д 3 ч"),
    (-timedelta(hours=1, minutes=1), "1 ч 1 мин"),
])
def test_spans_are_russian_and_rounded_down(delta: timedelta, text: str) -> None:
    assert span_ru(delta) == text


def test_a_bare_due_date_lasts_until_midnight_in_moscow() -> None:
    moment = parse_moment("2026-12-30")
    assert moment == datetime(2026, 12, 30, 21, 0, tzinfo=UTC)  # 00:00 on the 31st, Moscow
    clock = sla_clock({"due_by": "2026-12-30"}, NOW)
    assert clock is not None and clock.text == "осталось 12 ч 0 мин" and not clock.breached
    # due_at (the exact moment) wins over due_by
    exact = sla_clock({"due_by": "2026-12-30", "due_at": "2026-12-30T08:00:00Z"}, NOW)
    assert exact is not None and exact.breached and exact.text == "просрочено на 1 ч 0 мин"
    assert sla_clock({"due_by": None}, NOW) is None


def test_sla_rows_keep_open_orders_the_most_pressing_first() -> None:
    orders = [
        {"id": "soon", "status": "scheduled", "due_at": "2026-12-30T15:00:00Z"},
        {"id": "late", "status": "approved", "due_at": "2026-12-29T21:00:00Z"},
        {"id": "done", "status": "done", "due_at": "2026-12-29T21:00:00Z"},
        {"id": "plain", "status": "scheduled", "due_at": None},
    ]
    rows = sla_rows(orders, NOW)
    assert [r["id"] for r in rows] == ["late", "soon"]
    assert rows[1]["clock"].urgent  # six hours left


def test_breaches_are_recorded_ones_or_open_ones_past_their_moment() -> None:
    orders = [
        {"id": "recorded-done", "status": "done", "due_at": "2026-12-29T21:00:00Z",
         "sla_breached_at": "2026-12-29T21:01:00Z"},
        {"id": "open-late", "status": "scheduled", "due_at": "2026-12-30T08:00:00Z"},
        {"id": "done-late-unrecorded", "status": "done", "due_at": "2026-12-28T21:00:00Z"},
        {"id": "cancelled", "status": "cancelled", "due_at": "2026-12-28T21:00:00Z",
         "sla_breached_at": "2026-12-28T21:01:00Z"},
        {"id": "in-time", "status": "scheduled", "due_at": "2026-12-31T21:00:00Z"},
    ]
    breaches = sla_breaches(orders, NOW)
    assert [r["id"] for r in breaches] == ["open-late", "recorded-done"]  # latest first
    assert breaches[1]["clock"].text == "просрочено на 12 ч 0 мин"


def test_long_downtimes_are_unresolved_over_a_day_or_escalated() -> None:
    incidents = [
        {"id": "a", "state": "open", "started_at": "2026-12-29T08:00:00Z"},
        {"id": "b", "state": "cause_found", "started_at": "2026-12-30T07:00:00Z"},
        {"id": "c", "state": "open", "started_at": "2026-12-30T07:00:00Z",
         "escalated_at": "2026-12-30T08:00:00Z"},
        {"id": "d", "state": "resolved", "started_at": "2026-12-20T08:00:00Z"},
    ]
    rows = long_downtimes(incidents, NOW)
    assert [(r["id"], r["lasted"]) for r in rows] == [("a", "1 д 1 ч"), ("c", "2 ч 0 мин")]


def test_the_week_board_has_a_row_per_technician_and_a_cell_per_day() -> None:
    monday = date(2026, 12, 28)
    orders = [
        {"id": "1", "technician": "tech1", "visit_on": "2026-12-29", "window": "15:00–18:00"},
        {"id": "2", "technician": "tech1", "visit_on": "2026-12-29", "window": "09:00–12:00"},
        {"id": "3", "technician": "tech9", "visit_on": "2027-01-03"},
        {"id": "4", "technician": "tech1", "visit_on": "2027-01-04"},  # next week
        {"id": "5", "technician": None, "visit_on": "2026-12-30"},
    ]
    board = week_board(orders, monday, [{"username": "tech1", "full_name": "Сергей"},
                                        {"username": "tech2", "full_name": "Павел"}])
    assert [(r["technician"], r["name"], r["count"]) for r in board["rows"]] == [
        ("tech1", "Сергей", 2), ("tech2", "Павел", 0), ("tech9", "tech9", 1),
        ("", "без техника", 1)]
    assert [o["id"] for o in board["rows"][0]["days"][1]] == ["2", "1"]  # by window
    assert [o["id"] for o in board["rows"][2]["days"][6]] == ["3"]  # Sunday
    assert [d["weekday"] for d in board["days"]] == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    assert (board["prev"], board["next"]) == (date(2026, 12, 21), date(2027, 1, 4))


def test_the_technicians_days_hold_only_their_visits_of_that_day() -> None:
    orders = [{"id": "a", "visit_on": "2026-12-30", "window": "12:00–15:00"},
              {"id": "b", "visit_on": "2026-12-30", "window": "09:00–12:00"},
              {"id": "c", "visit_on": "2026-12-31"}, {"id": "d", "visit_on": "2027-01-09"}]
    days = by_day(orders, [date(2026, 12, 30), date(2026, 12, 31)])
    assert [[o["id"] for o in d["orders"]] for d in days] == [["b", "a"], ["c"]]


def test_the_months_sla_total_adds_clients_up() -> None:
    total = compliance_total([
        {"total": 4, "on_time": 2, "breached": 1, "open": 1},
        {"total": 2, "on_time": 2, "breached": 0, "open": 0}])
    assert total == {"total": 6, "on_time": 4, "breached": 1, "open": 1, "percent": 80}
    assert compliance_total([])["percent"] is None


def test_phone_links_and_moments() -> None:
    assert tel("+7 (900) 111-22-33") == "+79001112233"
    assert tel("8 495 123 45 67") == "84951234567"
    assert moscow_moment("2026-11-27T08:30") == "2026-11-27T08:30:00+03:00"
    assert moscow_moment("вчера") == "вчера"  # the API says what is wrong


def test_the_schedule_form_sends_the_contact_as_one_object() -> None:
    assert schedule_body({"visit_on": "2026-12-30", "window": "", "technician": "tech1",
                          "site_contact.name": "Иван", "site_contact.phone": "+7900"}) == {
        "visit_on": "2026-12-30", "technician": "tech1",
        "site_contact": {"name": "Иван", "phone": "+7900"}}
