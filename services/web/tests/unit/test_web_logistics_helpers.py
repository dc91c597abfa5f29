"""The pure helpers behind the logistics desk: the journal's overdue-first order, stock
grouped by location, price history with its change in %, serials as typed, the shipment
form's rows, and the logistics API's messages as the pages say them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from web.adapters.services import ServiceError
from web.desks.logistics import (
    _renumber,
    field_errors,
    journal_order,
    po_overdue,
    price_history,
    receipt_field,
    refusal,
    serial_list,
    shipment_body,
    stock_by_location,
)

pytestmark = pytest.mark.unit
DAY = date(2026, 12, 15)


def row(number: str, due: str | None, status: str = "delivered", **extra: Any
        ) -> dict[str, Any]:
    return {"journal_number": number, "originals_due_on": due, "status": status, **extra}


def test_overdue_originals_lead_and_each_part_keeps_the_given_order() -> None:
    rows = [row("ДД-2026/0003", "2026-12-20"), row("ДД-2026/0002", "2026-12-01"),
            row("ДД-2026/0001", "2026-12-10"),
            row("ДД-2026/0004", "2026-12-01", status="returned"),  # back: not late
            row("ДД-2026/0005", None, status="registered")]
    ordered = journal_order(rows, DAY)
    assert [r["journal_number"] for r in ordered] == [
        "ДД-2026/0002", "ДД-2026/0001", "ДД-2026/0003", "ДД-2026/0004", "ДД-2026/0005"]
    assert [r["is_overdue"] for r in ordered] == [True, True, False, False, False]
    # the service's own flag wins over the date (it knows business days and returns)
    flagged = journal_order([row("ДД-1", "2026-12-20", overdue=True),
                             row("ДД-2", "2026-12-01", overdue=False)], DAY)
    assert [r["journal_number"] for r in flagged] == ["ДД-1", "ДД-2"]


def test_outstanding_documents_are_the_originals_not_yet_back() -> None:
    docs = [{"id": "a", "title": "Договор", "original_required": True, "returned_on": None},
            {"id": "b", "title": "Акт", "original_required": True,
             "returned_on": "2026-12-10"},
            {"id": "c", "title": "Письмо", "original_required": False, "returned_on": None}]
    (only,) = journal_order([row("ДД-1", "2026-12-20", documents=docs)], DAY)
    assert [d["id"] for d in only["outstanding"]] == ["a"]


def test_stock_groups_follow_the_locations_order_with_their_names() -> None:
    rows = [{"item": "A", "location": "client_site"}, {"item": "B", "location": "warehouse"},
            {"item": "C", "location": "warehouse"}, {"item": "D", "location": "elsewhere"}]
    places = {"warehouse": "Склад (БП Румянцево)", "office": "Офис",
              "client_site": "На объекте клиента"}
    groups = stock_by_location(rows, places)
    assert [(g["location"], g["name"], [r["item"] for r in g["rows"]]) for g in groups] == [
        ("warehouse", "Склад (БП Румянцево)", ["B", "C"]),
        ("client_site", "На объекте клиента", ["A"]),
        ("elsewhere", "elsewhere", ["D"])]


def test_price_history_says_how_much_each_price_changed() -> None:
    prices = [{"item": "BAR", "valid_from": "2026-06-01", "price": "56000.00"},
              {"item": "BAR", "valid_from": "2026-01-01", "price": "50000.00"},
              {"item": "CTL", "valid_from": "2026-02-01", "price": "9000.00"},
              {"item": "CTL", "valid_from": "2026-09-01", "price": "8100.00"}]
    history = price_history(prices)
    assert [(p["item"], p["valid_from"], p.get("change_percent")) for p in history] == [
        ("BAR", "2026-01-01", None), ("BAR", "2026-06-01", Decimal("12.0")),
        ("CTL", "2026-02-01", None), ("CTL", "2026-09-01", Decimal("-10.0"))]


def test_a_purchase_order_is_overdue_when_not_shipped_by_its_date() -> None:
    assert po_overdue({"expected_ship_on": "2026-12-14", "status": "ordered"}, DAY)
    assert not po_overdue({"expected_ship_on": "2026-12-15", "status": "ordered"}, DAY)
    assert not po_overdue({"expected_ship_on": "2026-12-01", "status": "received"}, DAY)
    assert not po_overdue({"expected_ship_on": "2026-12-01", "overdue": False}, DAY)


def test_goods_received_errors_go_to_the_line_the_file_input_or_above_the_form() -> None:
    assert receipt_field("serials.BAR-DH.0") == "serials.BAR-DH"
    assert receipt_field("remote") == "file"
    assert receipt_field("received_on") == "received_on"
    assert receipt_field("serials") == ""


def test_serials_as_typed_and_the_shipment_rows_sent() -> None:
    assert serial_list(" DH-1\nDH-2, DH-3;DH-4  \n\n") == ["DH-1", "DH-2", "DH-3", "DH-4"]
    values = {"client_id": "c", "site_id": "s", "carrier": "cdek", "ships_on": "",
              "lines.0.item": "", "lines.0.quantity": "",
              "lines.1.item": "BAR", "lines.1.quantity": "1 0",
              "lines.2.item": "CTL", "lines.2.quantity": "два"}
    assert shipment_body(values) == {
        "client_id": "c", "site_id": "s", "carrier": "cdek",
        "lines": [{"item": "BAR", "quantity": 10}, {"item": "CTL", "quantity": "два"}]}
    # the API's line 1 is the form's row 2 (row 0 was blank)
    assert _renumber({"lines.1.quantity": "x", "lines.0": "y", "carrier": "z"}, values) == {
        "lines.2.quantity": "x", "lines.1.item": "y", "carrier": "z"}


def test_the_logistics_messages_as_the_pages_say_them() -> None:
    exc = ServiceError("logistics", 422, "", [
        {"field": "serials", "message": "серийный номер уже на складе: DH-1", "type": ""},
        {"field": "quantity", "message": "Input should be greater than 0",
         "type": "greater_than"},
        {"field": "received_by", "message": "Field required", "type": "missing"}])
    assert field_errors(exc) == {"serials": "Серийный номер уже на складе: DH-1.",
                                 "quantity": "Количество должно быть больше нуля.",
                                 "received_by": "Обязательное поле."}
    conflict = ServiceError("logistics", 409, "недостаточно товара «Шлагбаум» (BAR) на месте "
                                              "«Склад»: доступно 0, нужно 1")
    assert refusal(conflict) == ("Недостаточно товара «Шлагбаум» (BAR) на месте «Склад»: "
                                 "доступно 0, нужно 1.")
    assert refusal(ServiceError("logistics", 409, "conflict")) == "Сейчас это сделать нельзя."
    assert refusal(ServiceError("logistics", 503, "")) == \
        "Сервис «Логистика» сейчас недоступен, попробуйте позже."
