"""Bad input: 422 problem+json naming the field, and nothing written anywhere."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

GOOD_CLIENT = {"name": "ООО «Проверка»", "inn": "7707083893", "email": "a@example.ru"}
GOOD_CONTRACT = {"kind": "subscription", "starts_on": "2026-12-01", "ends_on": "2027-11-30",
                 "monthly_fee": "12500.00", "auto_renew": False, "standard": True}

CLIENT_CASES = [
    ("invalid INN checksum", {"inn": "7707083894"}, "inn"),
    ("INN of 11 digits", {"inn": "77070838931"}, "inn"),
    ("INN with letters", {"inn": "77O7083893"}, "inn"),
    ("invalid KPP", {"kpp": "77070100"}, "kpp"),
    ("not a phone", {"phone": "12"}, "phone"),
    ("not an e-mail", {"email": "buh-at-example"}, "email"),
    ("contact phone", {"contacts": [{"name": "Ольга", "phone": "abc"}]}, "contacts.0.phone"),
    ("contact role", {"contacts": [{"name": "Ольга", "role": "boss"}]}, "contacts.0.role"),
    ("account does not match BIK", {"bank": {"bank_name": "Банк", "bik": "044525974",
                                             "account": "40702810600000004568",
                                             "corr_account": "30101810145250000974"}}, "bank"),
    ("unknown field", {"favourite_colour": "green"}, "favourite_colour"),
    ("sole trader with a KPP", {"inn": "772012345670", "kpp": "770101001"}, "kpp"),
]

CONTRACT_CASES = [
    ("end before start", {"ends_on": "2026-11-30"}, "ends_on"),
    ("negative fee", {"monthly_fee": "-1.00"}, "monthly_fee"),
    ("fee with 3 decimals", {"monthly_fee": "12500.001"}, "monthly_fee"),
    ("fee as a float", {"monthly_fee": 12500.5}, "monthly_fee"),
    ("fee not a number", {"monthly_fee": "много"}, "monthly_fee"),
    # issue 13 §4: a free subscription, an absurd fee, more digits than the column holds
    ("zero fee on a subscription", {"monthly_fee": "0.00"}, "monthly_fee"),
    ("fee above 100 000 000", {"monthly_fee": "100000000.01"}, "monthly_fee"),
    ("14-digit fee", {"monthly_fee": "12345678901234"}, "monthly_fee"),
    ("unknown kind", {"kind": "lease"}, "kind"),
    ("unknown VAT mode", {"vat_mode": "half"}, "vat_mode"),
    ("cash for a subscription", {"payment_form": "cash"}, "payment_form"),
    ("pilot without an end", {"kind": "pilot", "ends_on": None, "monthly_fee": "0"}, "ends_on"),
    ("visits without a period", {"scheduled_visits": 4}, "visit_period"),
    ("start date not a date", {"starts_on": "01.12.2026"}, "starts_on"),
    ("missing start date", {"starts_on": None}, "starts_on"),
]


def assert_names(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]], problem
    assert field in problem["detail"]


@pytest.mark.parametrize(("case", "change", "field"), CLIENT_CASES,
                         ids=[c[0] for c in CLIENT_CASES])
async def test_bad_client_input(desk: Any, db: Any, case: str, change: dict[str, Any],
                                field: str) -> None:
    before = await db.counts()
    r = await desk.post("/api/clients", {**GOOD_CLIENT, **change})
    assert_names(r, field)
    assert await db.counts() == before


@pytest.mark.parametrize(("case", "change", "field"), CONTRACT_CASES,
                         ids=[c[0] for c in CONTRACT_CASES])
async def test_bad_contract_input(desk: Any, db: Any, case: str, change: dict[str, Any],
                                  field: str) -> None:
    client = await desk.client()
    before = await db.counts()
    body = {**GOOD_CONTRACT, "client_id": client["id"], **change}
    r = await desk.post("/api/contracts", {k: v for k, v in body.items() if v is not None})
    assert_names(r, field)
    assert await db.counts() == before
    # the refused contract did not consume a number either
    created = await desk.contract(client["id"])
    assert created["number"] == "2026-0001"


async def test_oversized_upload_is_refused_naming_the_field(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    before = await db.counts()
    big = b"%PDF-1.4\n" + b"0" * (64 * 1024)
    r = await desk.post(f"/api/contracts/{contract['id']}/scans",
                        files={"file": ("big.pdf", big, "application/pdf")})
    assert_names(r, "file")
    assert "larger than 65536 bytes" in r.json()["detail"]
    assert await db.counts() == before
    assert not [p for p in desk.storage_dir.rglob("*") if p.is_file()]
    r = await desk.post(f"/api/contracts/{contract['id']}/scans", files={})
    assert_names(r, "file")


async def test_bad_amendment_and_query_input(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    before = await db.counts()
    cases = [
        ("fee-change", {"new_fee": "-5.00"}, "new_fee"),
        ("fee-change", {"new_fee": "1.005"}, "new_fee"),
        ("suspend", {"effective_on": "2027-01-10", "resume_on": "2027-01-05"}, "resume_on"),
        ("terminate", {"effective_on": "2026-11-01"}, "effective_on"),
        ("terminate", {"effective_on": "2028-01-01"}, "effective_on"),
        ("extension", {"new_ends_on": "2027-06-01"}, "new_ends_on"),
    ]
    for path, body, field in cases:
        assert_names(await desk.post(f"/api/contracts/{contract['id']}/{path}", body), field)
    assert_names(await desk.get("/api/contracts", params={"status": "paused"}, expect=None),
                 "status")
    assert_names(await desk.get("/api/clients", params={"limit": 0}, expect=None), "limit")
    assert await db.counts() == before
