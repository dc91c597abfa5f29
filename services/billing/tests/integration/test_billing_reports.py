"""Who paid and who did not, balances and aging, as JSON and XLSX."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.integration

NOVEMBER = date(2026, 11, 1)


async def _setup(bt: Any) -> dict[str, dict[str, Any]]:
    paid = bt.signed("2026-0001", name="ООО Альфа", manager="manager1",
                     starts_on=NOVEMBER)
    part = bt.signed("2026-0002", name="ООО Бета", manager="manager2",
                     starts_on=NOVEMBER)
    none = bt.signed("2026-0003", name="ООО Гамма", manager="manager1",
                     starts_on=NOVEMBER)
    await bt.deliver(paid, part, none)
    bt.billing.rules.today = lambda: date(2026, 11, 15)
    await bt.client.post("/api/invoice-runs", json={"period": "2026-11"}, headers=bt.auth())
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    r = await bt.client.get("/api/invoices", params={"period": "2026-12"}, headers=bt.auth())
    december = {i["contract_number"]: i for i in r.json()}
    bt.billing.rules.today = lambda: date(2026, 12, 19)  # payments are dated today or earlier
    await bt.client.post("/api/payments", headers=bt.auth(), json={
        "invoice_id": december["2026-0001"]["id"], "amount": "15250.00",
        "paid_on": "2026-12-19", "reference": "п/п 1"})
    await bt.client.post("/api/payments", headers=bt.auth(), json={
        "invoice_id": december["2026-0002"]["id"], "amount": "5250.00",
        "paid_on": "2026-12-19", "reference": "п/п 2"})
    return december


async def test_who_paid_and_who_did_not_for_a_period(bt: Any) -> None:
    await _setup(bt)
    r = await bt.client.get("/api/reports/period", params={"period": "2026-12"},
                            headers=bt.auth())
    rows = {x["client_name"]: (x["status"], x["paid"], x["outstanding"]) for x in r.json()}
    assert rows == {"ООО Альфа": ("paid", "15250.00", "0.00"),
                    "ООО Бета": ("partially_paid", "5250.00", "10000.00"),
                    "ООО Гамма": ("issued", "0.00", "15250.00")}
    r = await bt.client.get("/api/reports/period", params={"period": "2026-12"},
                            headers=bt.auth("manager1", "manager"))
    assert {x["client_name"] for x in r.json()} == {"ООО Альфа", "ООО Гамма"}

    r = await bt.client.get("/api/reports/period", params={"period": "2026-12",
                                                           "format": "xlsx"}, headers=bt.auth())
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("Счёт", "Клиент")
    by_client = {v[1]: v for v in values[1:]}
    assert Decimal(str(by_client["ООО Бета"][7])) == Decimal("10000.00")
    assert by_client["ООО Гамма"][8] == "выставлен"  # people read the file: no raw codes
    r = await bt.client.get("/api/reports/period", params={"period": "2026-14"},
                            headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"


async def test_balances_and_aging(bt: Any) -> None:
    await _setup(bt)
    r = await bt.client.get("/api/balances", headers=bt.auth())
    balances = {b["client_name"]: (b["invoiced"], b["paid"], b["outstanding"], b["balance"])
                for b in r.json()}
    assert balances == {
        "ООО Альфа": ("30500.00", "15250.00", "15250.00", "-15250.00"),
        "ООО Бета": ("30500.00", "5250.00", "25250.00", "-25250.00"),
        "ООО Гамма": ("30500.00", "0.00", "30500.00", "-30500.00")}
    # on 1 February: November's invoices (due 20 Nov) are 73 days late, December's 43
    r = await bt.client.get("/api/reports/aging", params={"on": "2027-02-01"},
                            headers=bt.auth())
    report = r.json()
    assert report["totals"] == {"not_due": "0.00", "d1_30": "0.00", "d31_60": "25250.00",
                                "d61_90": "45750.00", "over_90": "0.00", "total": "71000.00"}
    assert report["clients"][0]["client_name"] == "ООО Гамма"
    r = await bt.client.get("/api/reports/aging", params={"on": "2026-12-16"},
                            headers=bt.auth())
    assert r.json()["totals"]["not_due"] == "25250.00"  # December: issued, not yet due
    r = await bt.client.get("/api/reports/aging", params={"on": "2027-02-01", "format": "xlsx"},
                            headers=bt.auth())
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Клиент", "Менеджер", "Срок не наступил", "Просрочено 1–30 дн.",
                       "Просрочено 31–60 дн.", "Просрочено 61–90 дн.",
                       "Просрочено более 90 дн.", "Итого")  # people read it: no raw codes
    assert len(rows) == 4
