"""Staff logins in a service's spreadsheet come out as full names; nothing else changes."""

from __future__ import annotations

import asyncio
import io

import pytest
from openpyxl import Workbook, load_workbook

from web.adapters.spreadsheets import people_by_name

pytestmark = pytest.mark.unit


def _book(*rows: tuple[object, ...]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cells(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_logins_become_full_names_and_the_rest_stays() -> None:
    content = _book(("Клиент", "Менеджер", "Сумма"), ("manager1 и партнёры", "manager1", 15250.5),
                    ("ООО «Ромашка»", "manager2", 100), ("ООО «Лютик»", "ghost", 1))
    named = asyncio.run(people_by_name(content, {"manager1": "Иванова Мария",
                                                 "manager2": "Петров Пётр"}))
    assert _cells(named) == [["Клиент", "Менеджер", "Сумма"],
                             ["manager1 и партнёры", "Иванова Мария", 15250.5],
                             ["ООО «Ромашка»", "Петров Пётр", 100],
                             ["ООО «Лютик»", "ghost", 1]]


def test_a_book_without_logins_is_handed_on_as_it_came() -> None:
    content = _book(("Клиент",), ("ООО «Ромашка»",))
    assert asyncio.run(people_by_name(content, {"manager1": "Иванова Мария"})) == content


def test_what_is_not_a_workbook_is_handed_on_as_it_came() -> None:
    assert asyncio.run(people_by_name(b"PK-xlsx", {"manager1": "Иванова Мария"})) == b"PK-xlsx"
