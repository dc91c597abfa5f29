"""Spreadsheet exports of the desk's reports (openpyxl)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXPIRING_COLUMNS = (
    ("number", "Договор", 12),
    ("client_name", "Клиент", 40),
    ("manager", "Менеджер", 16),
    ("kind", "Вид", 14),
    ("ends_on", "Окончание", 12),
    ("days_left", "Осталось дней", 14),
    ("auto_renew", "Автопролонгация", 16),
    ("action", "Действие", 22),
    ("monthly_fee", "АП, руб.", 14),
    ("last_contact_on", "Последний контакт", 18),
)
ACTIONS = {"auto_renew": "продлится автоматически", "re_sign": "нужно перезаключить"}


def expiring_xlsx(rows: list[dict[str, Any]], on: date, within_days: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Истекающие договоры"
    sheet.append([f"Договоры, истекающие в ближайшие {within_days} дн. на {on:%d.%m.%Y}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append([title for _, title, _ in EXPIRING_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        values: list[Any] = []
        for key, _, _ in EXPIRING_COLUMNS:
            value = row.get(key)
            if key == "auto_renew":
                value = "да" if value else "нет"
            elif key == "action":
                value = ACTIONS.get(str(value), value)
            elif key == "kind":
                value = str(value)
            values.append(value)
        sheet.append(values)
    for index, (key, _, width) in enumerate(EXPIRING_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        if key == "monthly_fee":
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = "#,##0.00"
        elif key in ("ends_on", "last_contact_on"):
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = "DD.MM.YYYY"
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
