"""Corrections: an issued invoice is never edited — credit note and new invoice, or adjustment."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from clientops_shared.events import contracts as c

pytestmark = pytest.mark.integration


def _ref(s: c.ContractSigned) -> dict[str, Any]:
    return {"contract_id": s.contract_id, "number": s.number, "client_id": s.client_id}


async def _invoices(bt: Any, contract: c.ContractSigned, **params: Any) -> list[dict[str, Any]]:
    r = await bt.client.get("/api/invoices", headers=bt.auth(),
                            params={"contract_id": str(contract.contract_id), **params})
    return sorted(r.json(), key=lambda i: (i["period"], i["revision"], i["kind"] != "invoice"))


async def _lines(bt: Any, invoice_id: str) -> list[tuple[str, str, str, str]]:
    r = await bt.client.get(f"/api/invoices/{invoice_id}", headers=bt.auth())
    return [(x["kind"], x["amount"], x["vat"], x["total"]) for x in r.json()["lines"]]


async def _december(bt: Any, *contracts: c.ContractSigned) -> None:
    await bt.deliver(*contracts)
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == len(contracts)


async def test_fee_change_on_an_unpaid_invoice_gives_a_credit_note_and_a_new_invoice(
        bt: Any) -> None:
    s = bt.signed("2026-0001")
    await _december(bt, s)
    bt.billing.rules.today = lambda: date(2026, 12, 17)
    await bt.deliver(c.ContractAmended(**_ref(s), amendment_id=uuid.uuid4(), kind="fee_change",
                                       effective_on=date(2026, 12, 16), monthly_fee="15000.00"))
    old, credit, new = await _invoices(bt, s)
    assert (credit["kind"], credit["number"], credit["total"], credit["corrects_id"]) == (
        "credit_note", "КН-2026-12-0001", "-15250.00", old["id"])
    assert (old["number"], old["status"], old["total"]) == ("СЧ-2026-12-0001", "credited",
                                                             "15250.00")
    # 15/31 × 12 500 = 6 048.39 (VAT 1 330.65); 16/31 × 15 000 = 7 741.94 (VAT 1 703.23)
    assert (new["number"], new["revision"], new["status"], new["corrects_id"]) == (
        "СЧ-2026-12-0002", 1, "issued", old["id"])
    assert (new["amount"], new["vat"], new["total"]) == ("13790.33", "3033.88", "16824.21")
    assert await _lines(bt, new["id"]) == [("subscription", "6048.39", "1330.65", "7379.04"),
                                           ("subscription", "7741.94", "1703.23", "9445.17")]
    assert new["due_on"] == "2026-12-22"  # five days to pay a correction issued on the 17th
    issued = await bt.rows("SELECT body->'payload' AS p FROM outbox_message WHERE "
                           "routing_key = 'billing.invoice.issued' ORDER BY id")
    assert issued[-1]["p"]["replaces_invoice_id"] == old["id"]
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                           "'billing.credit_note.issued'") == 1
    # the cancelled invoice is no longer dunned; the new one is
    bt.billing.rules.today = lambda: date(2026, 12, 23)
    r = await bt.client.post("/api/dunning-runs", json={"on": "2026-12-23"}, headers=bt.auth())
    assert r.json()["reminded"] == 1
    assert await bt.scalar("SELECT invoice_id::text FROM dunning_reminder") == new["id"]
    # the same amendment delivered again (another event id) changes nothing more
    await bt.deliver(c.ContractAmended(**_ref(s), amendment_id=uuid.uuid4(), kind="fee_change",
                                       effective_on=date(2026, 12, 16), monthly_fee="15000.00"))
    assert len(await _invoices(bt, s)) == 3


async def test_fee_change_on_a_paid_invoice_is_an_adjustment_on_the_next_one(bt: Any) -> None:
    s = bt.signed("2026-0001")
    await _december(bt, s)
    (december,) = await _invoices(bt, s)
    bt.billing.rules.today = lambda: date(2026, 12, 18)  # payments are dated today or earlier
    r = await bt.client.post("/api/payments", headers=bt.auth(), json={
        "invoice_id": december["id"], "amount": "15250.00", "paid_on": "2026-12-18",
        "reference": "п/п 1"})
    assert r.status_code == 201
    await bt.deliver(c.ContractAmended(**_ref(s), amendment_id=uuid.uuid4(), kind="fee_change",
                                       effective_on=date(2026, 12, 16), monthly_fee="15000.00"))
    (still,) = await _invoices(bt, s)
    assert (still["status"], still["total"]) == ("paid", "15250.00")
    pending = await bt.rows("SELECT amount, vat, total FROM invoice_adjustment "
                            "WHERE applied_invoice_id IS NULL")
    assert [(str(p["amount"]), str(p["vat"]), str(p["total"])) for p in pending] == [
        ("1290.33", "283.88", "1574.21")]  # 13 790.33 − 12 500; 3 033.88 − 2 750

    bt.billing.rules.today = lambda: date(2027, 1, 15)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2027-01"}, headers=bt.auth())
    assert r.json()["issued"] == 1
    (january,) = await _invoices(bt, s, period="2027-01")
    assert january["total"] == "19874.21"  # 18 300.00 for January + 1 574.21
    assert await _lines(bt, january["id"]) == [
        ("subscription", "15000.00", "3300.00", "18300.00"),
        ("adjustment", "1290.33", "283.88", "1574.21")]
    assert await bt.scalar("SELECT count(*) FROM invoice_adjustment WHERE "
                           "applied_invoice_id IS NULL") == 0


async def test_termination_after_the_run_reissues_the_month_prorated(bt: Any) -> None:
    s = bt.signed("2026-0001")
    await _december(bt, s)
    await bt.deliver(c.ContractTerminated(**_ref(s), effective_on=date(2026, 12, 21)))
    old, credit, new = await _invoices(bt, s)
    # service 1–20 December: 20/31 × 12 500 = 8 064.52, VAT 1 774.19
    assert (old["status"], credit["total"]) == ("credited", "-15250.00")
    assert (new["amount"], new["vat"], new["total"]) == ("8064.52", "1774.19", "9838.71")


async def test_a_contract_signed_after_the_run_is_billed_for_the_month_at_once(
        bt: Any) -> None:
    await _december(bt, bt.signed("2026-0001"))
    late = bt.signed("2026-0002", starts_on=date(2026, 12, 10))
    await bt.deliver(late)
    (inv,) = await _invoices(bt, late)
    assert (inv["number"], inv["total"]) == ("СЧ-2026-12-0002", "10822.58")


async def test_manual_correction_needs_the_billing_role_and_a_reason_and_is_audited(
        bt: Any) -> None:
    s = bt.signed("2026-0001")
    await _december(bt, s)
    (inv,) = await _invoices(bt, s)
    url = f"/api/invoices/{inv['id']}/corrections"
    r = await bt.client.post(url, json={"reason": "скидка по письму клиента"},
                             headers=bt.auth())
    assert r.status_code == 409  # nothing differs from the terms: give an amount
    r = await bt.client.post(url, json={"reason": "скидка", "amount": "10000.00"},
                             headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403
    r = await bt.client.post(url, json={"amount": "10000.00"}, headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await bt.client.post(url, json={"reason": "скидка", "amount": "-1.00"},
                             headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    assert len(await _invoices(bt, s)) == 1

    r = await bt.client.post(url, json={"reason": "скидка по письму клиента",
                                        "amount": "10000.00"}, headers=bt.auth())
    assert r.status_code == 201, r.text
    assert (r.json()["action"], r.json()["credit_note"], r.json()["new_invoice"]) == (
        "credited_and_reissued", "КН-2026-12-0001", "СЧ-2026-12-0002")
    _, _, new = await _invoices(bt, s)
    assert (new["amount"], new["vat"], new["total"]) == ("10000.00", "2200.00", "12200.00")
    assert new["reason"] == "скидка по письму клиента"
    audit = await bt.rows("SELECT actor, after FROM audit_log WHERE action = "
                          "'invoice.corrected_by_hand'")
    assert audit[0]["actor"] == "buh1"
    assert audit[0]["after"]["reason"] == "скидка по письму клиента"
    r = await bt.client.post(url, json={"reason": "ещё раз", "amount": "9000.00"},
                             headers=bt.auth())
    assert r.status_code == 409  # the old revision is cancelled; correct the new one
