"""How the pages write dates, money and periods, and the small pure helpers of the desks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from web.adapters.services import ServiceError, Services
from web.desks.billing import paid_split, run_progress
from web.desks.contracts import money_input
from web.desks.head import aging_bars, bars, overdue_tasks
from web.desks.my_day import next_morning
from web.domain.model import User, WebSession
from web.entrypoints.pages.framework import route_missing
from web.formatting import MOSCOW, money, ru_date, ru_datetime, ru_period

pytestmark = pytest.mark.unit
NB = "\u00a0"


def test_dates_are_written_day_month_year_in_moscow_time() -> None:
    assert ru_date(date(2026, 12, 15)) == "15.12.2026"
    assert ru_date("2026-12-15") == "15.12.2026"
    # 22:30 UTC on the 14th is already the 15th in Moscow
    assert ru_date("2026-12-14T22:30:00Z") == "15.12.2026"
    assert ru_datetime(datetime(2026, 12, 14, 22, 30, tzinfo=UTC)) == "15.12.2026 01:30"
    assert ru_date(None) == "—"
    assert ru_date("not a date") == "not a date"


def test_amounts_have_spaces_between_thousands_a_comma_and_the_rouble_sign() -> None:
    assert money("12345.67") == f"12{NB}345,67{NB}₽"
    assert money(Decimal("1234567.8")) == f"1{NB}234{NB}567,80{NB}₽"
    assert money("0") == f"0,00{NB}₽"
    assert money("-500.5") == f"-500,50{NB}₽"
    assert money("999.999") == f"1{NB}000,00{NB}₽"
    assert money(None) == "—"
    assert money("12500.00", currency=False) == f"12{NB}500,00"


def test_periods_are_month_names() -> None:
    assert ru_period("2026-12") == "декабрь 2026"
    assert ru_period("2027-01") == "январь 2027"
    assert ru_period("garbage") == "garbage"


def test_a_typed_amount_becomes_the_apis_decimal_string() -> None:
    assert money_input("12 500,00") == "12500.00"
    assert money_input(f"1{NB}000,5") == "1000.5"
    assert money_input("7000.00") == "7000.00"


def test_run_progress_counts_issued_skipped_and_failed_contracts() -> None:
    running = {"status": "running", "total": 200, "done": 50, "issued": 40, "skipped": 5,
               "failed": 5, "finished_at": None}
    assert run_progress(running) == {"total": 200, "processed": 50, "failed": 5,
                                     "percent": 25, "finished": False}
    # a running run never shows a full bar, a finished one always does
    almost = {**running, "done": 200, "issued": 195}
    assert run_progress(almost)["percent"] == 99
    empty = {"status": "finished", "total": 0, "done": 0, "issued": 0, "skipped": 0,
             "failed": 0, "finished_at": "2026-12-15T06:00:00Z"}
    assert run_progress(empty) == {"total": 0, "processed": 0, "failed": 0, "percent": 100,
                                   "finished": True}


def test_who_paid_and_who_did_not() -> None:
    rows = [{"number": "1", "outstanding": "0.00", "total": "100.00"},
            {"number": "2", "outstanding": "40.50", "total": "100.00"},
            {"number": "3", "outstanding": "100.00", "total": "100.00"}]
    split = paid_split(rows)
    assert [r["number"] for r in split["paid"]] == ["1"]
    assert [r["number"] for r in split["unpaid"]] == ["2", "3"]
    assert split["owed"] == Decimal("140.50")


def test_bar_widths_are_relative_to_the_largest() -> None:
    rows = bars([{"p": "a", "n": 2}, {"p": "b", "n": 8}, {"p": "c", "n": 0}], "n")
    assert [r["width"] for r in rows] == [25, 100, 0]
    assert [r["width"] for r in bars([{"n": 0}], "n")] == [0]
    aging = aging_bars({"buckets": ["not_due", "d1_30"],
                        "totals": {"not_due": "100.00", "d1_30": "300.00", "total": "400.00"}})
    assert [(r["title"], r["width"]) for r in aging] == [("срок не наступил", 33),
                                                          ("1–30 дней", 100)]


def test_overdue_tasks_are_the_open_ones_past_due_oldest_first() -> None:
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    tasks = [{"id": "late", "state": "open", "due_at": "2026-12-14T15:00:00Z"},
             {"id": "later", "state": "open", "due_at": "2026-12-15T15:00:00Z"},
             {"id": "older", "state": "open", "due_at": "2026-12-10T15:00:00+00:00"},
             {"id": "done", "state": "done", "due_at": "2026-12-01T15:00:00Z"}]
    assert [t["id"] for t in overdue_tasks(tasks, now)] == ["older", "late"]


def test_a_call_nobody_answered_comes_back_next_morning_in_moscow() -> None:
    # 23:30 Moscow on the 14th is 20:30 UTC: next morning is the 15th, 10:00 Moscow
    evening = datetime(2026, 12, 14, 20, 30, tzinfo=UTC)
    assert next_morning(evening) == datetime(2026, 12, 15, 10, tzinfo=MOSCOW)
    # 01:00 Moscow on the 15th (22:00 UTC on the 14th) is already the 15th there
    assert next_morning(datetime(2026, 12, 14, 22, tzinfo=UTC)) == datetime(
        2026, 12, 16, 10, tzinfo=MOSCOW)


def test_service_errors_say_what_happened() -> None:
    down = ServiceError("billing", 0, "ConnectError")
    assert down.message == "Сервис «Биллинг» сейчас недоступен, попробуйте позже."
    invalid = ServiceError("contracts", 422, "invalid fields: inn",
                           [{"field": "inn", "message": "bad check digit"},
                            {"field": "inn", "message": "second"},
                            {"field": "bank.bik", "message": "9 digits"}])
    assert invalid.field_errors() == {"inn": "bad check digit", "bank.bik": "9 digits"}
    assert route_missing(ServiceError("billing", 404, "Not Found"))
    assert route_missing(ServiceError("billing", 405, "Method Not Allowed"))
    assert not route_missing(ServiceError("billing", 404, "no invoice 42"))


def test_a_refused_form_shows_the_refusal_and_anything_else_is_raised_on() -> None:
    invalid = ServiceError("contracts", 422, "invalid fields: inn",
                           [{"field": "inn", "message": "bad check digit"}])
    assert invalid.form_errors() == {"inn": "bad check digit"}
    conflict = ServiceError("contracts", 409, "Сделка уже закрыта.")
    assert conflict.form_errors("stage") == {"stage": "Сделка уже закрыта."}
    forbidden = ServiceError("notifications", 403, "Ответ даёт только исполнитель.")
    assert forbidden.form_errors(refusals=(403,)) == {"": "Ответ даёт только исполнитель."}
    for status in (0, 403, 404, 500):  # not a refusal the form expects: the page handles it
        with pytest.raises(ServiceError) as raised:
            ServiceError("billing", status, "boom").form_errors()
        assert raised.value.status == status
    with pytest.raises(ServiceError):
        conflict.form_errors(refusals=(422,))


def test_sessions_expire_and_an_enabled_account_is_unlocked() -> None:
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    session = WebSession(id_hash="h", username="u", role="manager", access_token="t",
                         csrf_token="c", expires_at=now + timedelta(minutes=1))
    assert not session.expired(now)
    assert session.expired(now + timedelta(minutes=1))
    user = User(username="u", role="manager", password_hash="x")
    for _ in range(3):
        user.login_failed(now, lockout_after=3, lockout=timedelta(minutes=15))
    assert user.is_locked(now)
    user.change(active=True)
    assert not user.is_locked(now)
    with pytest.raises(ValueError):
        user.change(role="pope")


@pytest.mark.parametrize(("typed", "sent"), [
    ("12 500,50 ₽", "12500.50"), ("12.500,00", "12500.00"), ("12,500.00", "12500.00"),
    ("1 000 руб.", "1000"), ("12.345.678,9", "12345678.9"), ("0,5", "0.5"),
    ("много", "много"), ("-5", "-5"),  # passed on: the service refuses them at the field
])
def test_amounts_typed_the_russian_way(typed: str, sent: str) -> None:
    assert money_input(typed) == sent


def test_phones_are_shown_formatted() -> None:
    from web.formatting import phone
    assert phone("+74951234567") == f"+7{NB}(495){NB}123-45-67"
    assert phone(None) == "" and phone("+375291234567") == "+375291234567"


async def test_a_rendered_document_waits_longer_than_a_page_call() -> None:
    seen: dict[str, float] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.extensions["timeout"]["read"]
        return httpx.Response(200, content=b"%PDF")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer),
                                 timeout=httpx.Timeout(10.0, connect=3.0)) as http:
        services = Services(http, {"billing": "http://billing"}, "token", document_timeout=45)
        await services.request("billing", "GET", "/api/invoices")
        pdf = await services.document("billing", "/api/invoices/1/pdf")
    assert pdf.content == b"%PDF"
    assert seen == {"/api/invoices": 10.0, "/api/invoices/1/pdf": 45.0}
