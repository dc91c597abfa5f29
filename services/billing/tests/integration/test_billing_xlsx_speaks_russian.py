"""Issue 13 §5: the spreadsheets billing hands out speak Russian — no raw status or bucket
codes, no English, dates as 01.12.2026 — read back with openpyxl as a person opens them."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.integration

RAW = {"issued", "partially_paid", "paid", "credited", "credit_note", "invoice", "matched",
       "unmatched", "partly", "not_due", "d1_30", "d31_60", "d61_90", "over_90", "cash",
       "cashless", "none", "null", "true", "false", "manual", "bank_statement"}
LATIN_WORD = re.compile(r"[A-Za-z_]{2,}")


def raw_codes(data: bytes) -> list[str]:
    """Every cell a person would read that holds a raw code, and dates not as 01.12.2026."""
    found = []
    for ws in load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    words = {w.lower() for w in LATIN_WORD.findall(value)}
                    if words & RAW or value.strip().lower() in RAW:
                        found.append(f"{cell.coordinate}: {value!r}")
                elif hasattr(value, "year") and cell.number_format != "DD.MM.YYYY":
                    found.append(f"{cell.coordinate}: date as {cell.number_format}")
    return found


async def _xlsx(bt: Any, path: str, **params: Any) -> bytes:
    r = await bt.client.get(path, params={**params, "format": "xlsx"}, headers=bt.auth())
    assert r.status_code == 200, r.text
    return bytes(r.content)


async def test_billing_spreadsheets_have_no_raw_codes(bt: Any) -> None:
    clients = [bt.signed(f"2026-03{n:02d}", inn=inn, name=f"ООО Клиент {n}")
               for n, inn in enumerate(bt.inns[:4])]
    await bt.deliver(*clients)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == 4
    r = await bt.client.get("/api/invoices", params={"period": "2026-12"}, headers=bt.auth())
    invoices = sorted(r.json(), key=lambda i: i["number"])
    bt.billing.rules.today = lambda: date(2027, 2, 1)
    for invoice, amount in ((invoices[0], invoices[0]["total"]), (invoices[1], "100.00")):
        r = await bt.client.post("/api/payments", headers=bt.auth(), json={
            "invoice_id": invoice["id"], "amount": amount, "paid_on": "2026-12-18",
            "reference": f"п/п {uuid.uuid4().hex[:4]}"})
        assert r.status_code == 201, r.text
    r = await bt.client.post(f"/api/invoices/{invoices[2]['id']}/cancellation",
                             headers=bt.auth(), json={"reason": "выставлен по ошибке"})
    assert r.status_code == 201, r.text

    period = await _xlsx(bt, "/api/reports/period", period="2026-12")
    sheet = load_workbook(io.BytesIO(period)).active
    assert sheet is not None
    statuses = {row[8] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert statuses == {"оплачен", "оплачен частично", "выставлен"}, statuses
    assert raw_codes(period) == []
    aging = await _xlsx(bt, "/api/reports/aging", on="2027-02-01")
    assert raw_codes(aging) == []
    headers = [c.value for c in load_workbook(io.BytesIO(aging)).active[1]]  # type: ignore[index]
    assert "Просрочено 31–60 дн." in headers, headers
    assert raw_codes(await _xlsx(bt, "/api/balances")) == []
