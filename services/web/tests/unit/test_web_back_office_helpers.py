"""The pure helpers behind the rent, payables, chart and client-edit pages, and the
services' English field messages as the pages say them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from starlette.datastructures import FormData

from web.adapters.services import ServiceError
from web.desks.clients import client_changes, client_values
from web.desks.head import week_chart
from web.desks.payables import due_sum
from web.desks.rent import next_period, owner_groups, route_stops
from web.formatting import field_message

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("kind", "message", "russian"), [
    ("missing", "Field required", "Обязательное поле."),
    ("string_too_short", "String should have at least 1 character", "Заполните поле."),
    ("string_too_short", "String should have at least 3 characters",
     "Не короче 3 символов."),
    ("string_too_long", "String should have at most 50 characters",
     "Не длиннее 50 символов."),
    ("string_pattern_mismatch", "String should match pattern '^\\d{20}$'", "Нужно 20 цифр."),
    ("string_pattern_mismatch", "String should match pattern '^(\\d{10}|\\d{12})$'",
     "Нужно 10 или 12 цифр."),
    ("greater_than_equal", "Input should be greater than or equal to 0",
     "Значение должно быть не меньше 0."),
    ("value_error", "Value error, INN 1234567890: invalid checksum",
     "Неверный ИНН: не сходится контрольная цифра."),
    ("value_error", "Value error, BIK must be 9 digits, got '12'", "Нужно 9 цифр."),
    ("value_error", "Value error, OGRN must be 13 or 15 digits, got '1'",
     "Нужно 13 или 15 цифр."),
    ("value_error", "Value error, correspondent account 301 does not match BIK 044525225",
     "Корреспондентский счёт не соответствует БИК."),
    ("value_error", "Value error, not a decimal amount", "Введите сумму, например 12 500,00."),
    ("", "the agreement starts on 2026-12-01", "Договор начинается 01.12.2026 — изменение "
                                               "не может быть раньше."),
    ("", "VAT cannot exceed the invoice amount", "НДС не может быть больше суммы счёта."),
    ("", "something nobody translated", "something nobody translated"),
])
def test_the_services_field_messages_in_russian(kind: str, message: str, russian: str) -> None:
    assert field_message(kind, message) == russian


def test_a_422_becomes_russian_messages_by_field_and_a_409_keeps_its_state() -> None:
    exc = ServiceError("billing", 422, "invalid", [
        {"field": "owner_account", "message": "cashless rent needs the owner's account and BIC",
         "type": ""},
        {"field": "terminals", "message": "Input should be a valid integer", "type":
         "int_parsing"}])
    assert exc.field_errors() == {
        "owner_account": "Для безнала нужны расчётный счёт и БИК владельца.",
        "terminals": "Введите целое число."}


def test_the_registry_is_for_the_next_month() -> None:
    assert next_period(date(2026, 11, 23)) == "2026-12"
    assert next_period(date(2026, 12, 31)) == "2027-01"


def test_agreements_grouped_by_owner_with_their_terminals_and_monthly_rent() -> None:
    def row(number: str, owner: str, terminals: int, monthly: str, form: str,
            ended: bool = False) -> dict[str, object]:
        return {"number": number, "owner_name": owner, "owner_inn": owner[-1] * 10,
                "terminals": terminals, "monthly_amount": monthly, "payment_form": form,
                "ended": ended}

    groups = owner_groups([row("1", "ИП А", 2, "6000.00", "cashless"),
                           row("2", "ИП А", 1, "2500.00", "cash"),
                           row("3", "ИП А", 4, "4000.00", "cash", ended=True),
                           row("4", "ИП Б", 1, "1000.00", "cash")])
    assert [(g["owner_name"], len(g["rows"]), g["terminals"], g["cash"], g["cashless"])
            for g in groups] == [("ИП А", 3, 3, Decimal("2500.00"), Decimal("6000.00")),
                                 ("ИП Б", 1, 1, Decimal("1000.00"), Decimal(0))]


def test_route_stops_in_the_couriers_order() -> None:
    form = FormData([("name", "Юг"), ("pos_a", "2"), ("pos_b", ""), ("pos_c", "1")])
    assert route_stops(form) == (["c", "a"], {"a": "2", "c": "1"}, None)
    assert route_stops(FormData([("pos_a", "1"), ("pos_c", "1")]))[2] == (
        "У двух объектов один и тот же номер в порядке объезда.")
    assert route_stops(FormData([("pos_a", "первый")]))[2] == (
        "Порядок объезда — целое число от 1.")


def test_what_is_left_to_pay_suppliers() -> None:
    rows = [{"status": s, "amount": a} for s, a in (
        ("received", "100.00"), ("approved", "20.50"), ("payment_requested", "3.00"),
        ("paid", "1000.00"), ("rejected", "500.00"))]
    assert due_sum(rows) == Decimal("123.50")


def test_the_week_chart_scales_to_the_busiest_week_of_anyone() -> None:
    chart = week_chart({
        "weeks": [{"start": "2026-12-21", "end": "2026-12-27"},
                  {"start": "2026-12-28", "end": "2027-01-03"}],
        "people": [{"person": "a", "done": [1, 3], "total": 4},
                   {"person": "b", "done": [6, 0], "total": 6}],
        "totals": [7, 3]}, {"b": "Борис"})
    assert [w["label"] for w in chart["weeks"]] == ["21.12", "28.12"]
    assert [(r["name"], [(c["count"], c["height"]) for c in r["cells"]])
            for r in chart["rows"]] == [("Борис", [(6, 100), (0, 0)]),
                                        ("a", [(1, 17), (3, 50)])]
    empty = week_chart({"weeks": [], "people": [], "totals": []}, {})
    assert (empty["rows"], empty["top"]) == ([], 0)


CLIENT = {"name": "ООО «Ромашка»", "email": "a@example.ru", "kpp": None, "phone": None,
          "ogrn": None, "legal_address": "Москва", "postal_address": None,
          "signatory": None,
          "bank": {"bank_name": "ПАО СБЕРБАНК", "bik": "044525225",
                   "account": "40702810938000012345", "corr_account": "30101810400000000225"}}


def test_the_client_form_sends_what_changed_and_clears_what_was_emptied() -> None:
    values = client_values(CLIENT)
    assert client_changes(CLIENT, values) == {}
    assert client_changes(CLIENT, {**values, "legal_address": "", "phone": "+7 495 1"}) == {
        "legal_address": None, "phone": "+7 495 1"}
    assert client_changes(CLIENT, {**values, "name": ""}) == {"name": ""}  # the API says why
    emptied = {**values, **{f"bank.{k}": "" for k in ("bank_name", "bik", "account",
                                                        "corr_account")}}
    assert client_changes(CLIENT, emptied) == {"bank": None}
    assert client_changes(CLIENT, {**values, "signatory.position": "Директор",
                                   "signatory.full_name": "Иванова Анна",
                                   "signatory.female": "on"}) == {
        "signatory": {"position": "Директор", "full_name": "Иванова Анна", "basis": "Устава",
                      "female": True, "in_person_of": None}}
