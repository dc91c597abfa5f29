"""Spreadsheets the services hand out, as people read them: staff by full name.

Billing, contracts and field-ops know staff only by login (the web owns the user list), so a
download through the desks replaces every cell that is exactly a staff login with the person's
full name, as every page does."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping

from openpyxl import load_workbook

log = logging.getLogger("clientops.web")


def _named(content: bytes, names: Mapping[str, str]) -> bytes:
    try:
        book = load_workbook(io.BytesIO(content))
    except Exception:  # not a workbook we can read: handed on as it came
        log.warning("a spreadsheet from a service is not readable (%d bytes)", len(content))
        return content
    changed = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value in names:
                    cell.value = names[value]
                    changed = True
    if not changed:
        return content
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def people_by_name(content: bytes, names: Mapping[str, str]) -> bytes:
    """The workbook with staff logins shown as full names (off the event loop: a month's
    payments can be thousands of rows)."""
    if not names or not content:
        return content
    return await asyncio.to_thread(_named, content, dict(names))
