"""XLSX exports of the desk's reports (openpyxl): money stays exact, two places."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD.MM.YYYY"
"""Dates as people here write them (01.12.2026), not Excel's default ISO."""


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
             money_columns: Iterable[int] = ()) -> bytes:
    """One sheet: a bold header row, then rows; money columns formatted to kopecks."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    money = set(money_columns)
    for row in rows:
        ws.append([_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
    for col in range(1, len(headers) + 1):
        letter = get_column_letter(col)
        if col - 1 in money:
            for cell in ws[letter][1:]:
                cell.number_format = MONEY_FORMAT
        ws.column_dimensions[letter].width = max(12, min(48, len(str(headers[col - 1])) + 4))
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Decimals and dates go in as they are (numbers and dates in Excel); others as text."""
    if value is None or isinstance(value, Decimal | date | int | float | str):
        return value
    return str(value)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
