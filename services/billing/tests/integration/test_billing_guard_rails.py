"""Issue 13 §4 at the service: each bad input is a 422 naming the field, in Russian where the
rule is billing's own, and nothing is written."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 18)
RENT = {"number": "А-1", "owner_name": "ИП Петров", "owner_inn": "772012345670",
        "site_name": "Магазин", "address": "Москва", "starts_on": "2026-12-01",
        "terminals": 1, "amount_per_terminal": "3000.00", "payment_form": "cash"}
PAYABLE = {"supplier_name": "ООО Поставщик", "supplier_inn": "7707083893", "number": "17",
           "issued_on": "2026-12-10", "amount": "1200.00", "vat": "200.00",
           "category": "equipment", "description": "кабель"}

CASES = [
    # (case, method path, body, field, words in the message)
    ("run two months ahead", "/api/invoice-runs", {"period": "2027-02"}, "period",
     "подтверждением руководителя"),
    ("run before the first contract", "/api/invoice-runs", {"period": "2026-10"}, "period",
     "от 12.2026 до 01.2027"),
    ("billing cannot confirm a far run", "/api/invoice-runs",
     {"period": "2027-02", "confirm_out_of_range": True}, "confirm_out_of_range",
     "только руководитель"),
    ("payment in the future", "/api/payments",
     {"amount": "100.00", "paid_on": "2026-12-19", "reference": "п/п 1"}, "paid_on",
     "в будущем"),
    ("payment before 2000", "/api/payments",
     {"amount": "100.00", "paid_on": "1999-12-31", "reference": "п/п 1"}, "paid_on",
     "01.01.2000"),
    ("payment of 14 digits", "/api/payments",
     {"amount": "12345678901234", "paid_on": "2026-12-18", "reference": "п/п 1"}, "amount",
     "Слишком большая сумма"),
    ("dunning on a future day", "/api/dunning-runs", {"on": "2026-12-21"}, "on", "будущую"),
    ("rent owner INN checksum", "/api/rent/agreements", {**RENT, "owner_inn": "772012345671"},
     "owner_inn", "checksum"),
    ("rent agreement without terminals", "/api/rent/agreements", {**RENT, "terminals": 0},
     "terminals", ""),
    ("supplier INN checksum", "/api/payables", {**PAYABLE, "supplier_inn": "7707083894"},
     "supplier_inn", "checksum"),
]

TABLES = ("invoice_run", "invoice", "payment", "dunning_reminder", "rent_agreement",
          "supplier_invoice")


async def _counts(bt: Any) -> dict[str, int]:
    return {t: await bt.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}


@pytest.fixture
async def december(bt: Any) -> Any:
    await bt.deliver(bt.signed("2026-0001"))
    bt.billing.rules.today = lambda: TODAY
    return bt


async def test_bad_input_is_refused_at_the_field_and_nothing_is_written(december: Any) -> None:
    bt = december  # one database for the whole table: each case must leave it unchanged
    before = await _counts(bt)
    for case, path, body, field, words in CASES:
        r = await bt.client.post(path, json=body, headers={
            **bt.auth("acc1", "accountant"), "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 422, (case, r.text)
        errors = r.json()["errors"]
        assert field in [e["field"] for e in errors], (case, errors)
        assert words in " ".join(e["message"] for e in errors), (case, errors)
        assert await _counts(bt) == before, case


async def test_the_head_confirms_a_run_outside_the_usual_months(december: Any) -> None:
    bt = december
    r = await bt.client.post("/api/invoice-runs", json={"period": "2027-02",
                                                        "confirm_out_of_range": True},
                             headers=bt.auth("head", "head"))
    assert r.status_code == 200, r.text
    assert r.json()["issued"] == 1
    # next month needs no confirmation
    r = await bt.client.post("/api/invoice-runs", json={"period": "2027-01"}, headers=bt.auth())
    assert r.status_code == 200, r.text
