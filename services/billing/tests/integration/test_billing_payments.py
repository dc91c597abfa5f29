"""Payments by hand and from a real-format 1C statement: matching, balances, no-ops, bad input."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SAMPLE = (Path(__file__).parent / "data" / "bank-statement-1c-sample.txt").read_bytes()
END = "КонецФайла".encode("cp1251")
UNKNOWN_PAYER = "\r\n".join([
    "СекцияДокумент=Платежное поручение", "Номер=77", "Дата=22.12.2026", "Сумма=1000.00",
    "ПлательщикСчет=40702810600000005555", "ДатаПоступило=22.12.2026",
    'Плательщик=АО "НЕИЗВЕСТНЫЙ"', "ПлательщикИНН=7712040126",
    "ПолучательСчет=40702810938000012345", 'Получатель=ООО "КЛИЕНТОПС"',
    "ПолучательИНН=7701000001", "НазначениеПлатежа=Оплата за услуги, без НДС",
    "КонецДокумента", ""]).encode("cp1251")
STATEMENT = SAMPLE.replace(END, UNKNOWN_PAYER + END)


def dos(data: bytes) -> bytes:
    return data.decode("cp1251").replace("Кодировка=Windows", "Кодировка=DOS").encode("cp866")


async def _december(bt: Any) -> dict[str, Any]:
    """The four clients of the sample statement, invoiced for December 2026."""
    sber = bt.signed("2026-0001", inn="7707083893", name="ПАО СБЕРБАНК")
    yandex = bt.signed("2026-0002", inn="7736207543", vat_mode="exempt", name='ООО "ЯНДЕКС"')
    mts = uuid.uuid4()
    mts_a = bt.signed("2026-0003", inn="7740000076", client_id=mts, name='ПАО "МТС"')
    mts_b = bt.signed("2026-0004", inn="7740000076", client_id=mts, name='ПАО "МТС"')
    await bt.deliver(sber, yandex, mts_a, mts_b)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == 4
    r = await bt.client.get("/api/invoices", params={"period": "2026-12"}, headers=bt.auth())
    invoices = {i["number"]: i for i in r.json()}
    assert invoices["СЧ-2026-12-0002"]["total"] == "12500.00"
    return {"sber": sber.client_id, "yandex": yandex.client_id, "mts": mts,
            "invoices": invoices}


async def _import(bt: Any, data: bytes, name: str = "statement.txt") -> Any:
    return await bt.client.post("/api/bank-statements", headers=bt.auth(),
                                files={"file": (name, data, "text/plain")})


async def _invoice(bt: Any, number: str) -> dict[str, Any]:
    r = await bt.client.get("/api/invoices", params={"period": number[3:10]}, headers=bt.auth())
    return next(i for i in r.json() if i["number"] == number)


async def _state(bt: Any) -> tuple[int, int, int, int]:
    return (await bt.scalar("SELECT count(*) FROM payment"),
            await bt.scalar("SELECT count(*) FROM payment_allocation"),
            await bt.scalar("SELECT count(*) FROM outbox_message"),
            await bt.scalar("SELECT count(*) FROM bank_statement"))


async def test_statement_matched_partial_over_and_unmatched_then_twice_is_a_no_op(
        bt: Any) -> None:
    known = await _december(bt)
    r = await _import(bt, STATEMENT)
    assert r.status_code == 201, r.text
    summary = r.json()
    assert (summary["documents"], summary["incoming"], summary["outgoing"]) == (5, 4, 1)
    assert (summary["matched"], summary["partial"], summary["overpaid"],
            summary["unmatched"]) == (1, 1, 1, 1)
    by_number = {p["number"]: p for p in summary["payments"]}
    assert by_number["517"]["invoices"] == ["СЧ-2026-12-0001"]
    assert by_number["88"]["method"] == "oldest_first"
    assert by_number["1204"]["invoices"] == ["СЧ-2026-12-0003", "СЧ-2026-12-0004"]
    assert by_number["77"]["outcome"] == "unmatched"
    assert "31" not in by_number  # our own rent payout is not a client payment

    assert (await _invoice(bt, "СЧ-2026-12-0001"))["status"] == "paid"
    yandex = await _invoice(bt, "СЧ-2026-12-0002")
    assert (yandex["status"], yandex["paid"], yandex["outstanding"]) == (
        "partially_paid", "5000.00", "7500.00")
    for number in ("СЧ-2026-12-0003", "СЧ-2026-12-0004"):
        assert (await _invoice(bt, number))["status"] == "paid"
    r = await bt.client.get(f"/api/clients/{known['mts']}/balance", headers=bt.auth())
    mts = r.json()
    assert (mts["invoiced"], mts["outstanding"], mts["credit"], mts["balance"]) == (
        "30500.00", "0.00", "23670.00", "23670.00")  # 54 170 paid for 30 500 owed
    r = await bt.client.get(f"/api/clients/{known['yandex']}/balance", headers=bt.auth())
    assert (r.json()["outstanding"], r.json()["balance"]) == ("7500.00", "-7500.00")

    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                           "'billing.payment.received'") == 4
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                           "'billing.invoice.paid'") == 3
    received = await bt.rows("SELECT body->'payload' AS p FROM outbox_message WHERE "
                             "routing_key = 'billing.payment.received' AND "
                             "body->'payload'->>'amount' = '54170.00'")
    assert received[0]["p"]["unallocated"] == "23670.00"
    assert received[0]["p"]["client_id"] == str(known["mts"])

    before = await _state(bt)
    again = await _import(bt, STATEMENT)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await _state(bt) == before
    # the same payment orders in DOS encoding (another file) are not taken twice either
    as_dos = await _import(bt, dos(STATEMENT), "statement-dos.txt")
    assert as_dos.status_code == 201, as_dos.text
    assert (as_dos.json()["encoding"], as_dos.json()["already_imported"]) == ("cp866", 4)
    assert (await _state(bt))[:3] == before[:3]

    # the unmatched payment waits for a person, who says whose it is
    r = await bt.client.get("/api/payments", params={"status": "unmatched"}, headers=bt.auth())
    (waiting,) = r.json()
    assert (waiting["amount"], waiting["payer_inn"]) == ("1000.00", "7712040126")
    r = await bt.client.post(f"/api/payments/{waiting['id']}/match",
                             json={"invoice_id": yandex["id"]}, headers=bt.auth())
    assert r.status_code == 200, r.text
    assert (r.json()["allocated"], r.json()["client_id"]) == ("1000.00", str(known["yandex"]))
    assert (await _invoice(bt, "СЧ-2026-12-0002"))["outstanding"] == "6500.00"
    r = await bt.client.get("/api/payments", params={"status": "unmatched"}, headers=bt.auth())
    assert r.json() == []
    r = await bt.client.post(f"/api/payments/{waiting['id']}/match",
                             json={"invoice_id": yandex["id"]}, headers=bt.auth())
    assert r.status_code == 409


async def test_a_malformed_statement_is_refused_with_its_line_and_nothing_is_imported(
        bt: Any) -> None:
    await _december(bt)
    before = await _state(bt)
    # the first payment is fine; the third is broken: nothing at all may be imported
    broken = STATEMENT.replace("Сумма=54170.00".encode("cp1251"),
                               "Сумма=54 170,00".encode("cp1251"))
    r = await _import(bt, broken)
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"][0]["field"] == "file"
    line = STATEMENT.decode("cp1251").split("\r\n").index("Сумма=54170.00") + 1
    assert f"line {line}" in problem["detail"] and "Сумма" in problem["detail"]
    truncated = STATEMENT[: STATEMENT.index(END)]
    r = await _import(bt, truncated)
    assert r.status_code == 422 and "truncated" in r.json()["detail"]
    r = await _import(bt, b"")
    assert r.status_code == 422
    r = await _import(bt, "просто текст".encode())
    assert r.status_code == 422
    assert await _state(bt) == before


async def test_payment_by_hand_is_idempotent_and_refuses_bad_input(bt: Any) -> None:
    known = await _december(bt)
    invoice = known["invoices"]["СЧ-2026-12-0001"]
    bt.billing.rules.today = lambda: date(2026, 12, 18)  # payments are dated today or earlier
    body = {"invoice_id": invoice["id"], "amount": "15250.00", "paid_on": "2026-12-18",
            "reference": "п/п 101"}
    headers = {**bt.auth(), "Idempotency-Key": "pay-101"}
    first = await bt.client.post("/api/payments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["allocations"] == [{"invoice_id": invoice["id"],
                                           "number": "СЧ-2026-12-0001", "amount": "15250.00"}]
    retry = await bt.client.post("/api/payments", json=body, headers=headers)
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert await bt.scalar("SELECT count(*) FROM payment") == 1
    other = await bt.client.post("/api/payments", json={**body, "amount": "1.00"},
                                 headers=headers)
    assert other.status_code == 409
    assert (await _invoice(bt, "СЧ-2026-12-0001"))["status"] == "paid"
    paid_event = await bt.rows("SELECT body->'payload' AS p FROM outbox_message WHERE "
                               "routing_key = 'billing.invoice.paid'")
    assert paid_event[0]["p"]["number"] == "СЧ-2026-12-0001"
    assert paid_event[0]["p"]["paid_on"] == "2026-12-18"

    before = await _state(bt)
    for bad, field in [({**body, "amount": "-5.00"}, "amount"),
                       ({**body, "amount": 100.5}, "amount"),
                       ({**body, "amount": "0.00"}, "amount"),
                       ({**body, "invoice_id": str(uuid.uuid4())}, "invoice_id"),
                       ({**body, "paid_on": "2026-13-01"}, "paid_on"),
                       ({**body, "reference": ""}, "reference"),
                       ({**body, "payer_inn": "12345"}, "payer_inn"),
                       ({**body, "payer_inn": "7736207543"}, "payer_inn")]:
        r = await bt.client.post("/api/payments", json=bad, headers=bt.auth())
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, r.json()
    assert await _state(bt) == before
    r = await bt.client.post("/api/payments", json=body, headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403


async def test_payer_inn_partial_and_over_payments_make_the_client_balance(bt: Any) -> None:
    known = await _december(bt)
    bt.billing.rules.today = lambda: date(2026, 12, 21)  # payments are dated today or earlier
    pay = {"payer_inn": "7740000076", "paid_on": "2026-12-21", "reference": "п/п 5"}
    r = await bt.client.post("/api/payments", json={**pay, "amount": "20000.00"},
                             headers=bt.auth())
    assert r.status_code == 201
    # oldest first: all of СЧ-0003, part of СЧ-0004
    assert [(a["number"], a["amount"]) for a in r.json()["allocations"]] == [
        ("СЧ-2026-12-0003", "15250.00"), ("СЧ-2026-12-0004", "4750.00")]
    r = await bt.client.post("/api/payments", json={**pay, "amount": "20000.00",
                                                    "reference": "п/п 6"}, headers=bt.auth())
    assert (r.json()["allocated"], r.json()["unallocated"]) == ("10500.00", "9500.00")
    r = await bt.client.get(f"/api/clients/{known['mts']}/balance", headers=bt.auth())
    assert (r.json()["credit"], r.json()["outstanding"], r.json()["balance"]) == (
        "9500.00", "0.00", "9500.00")

    # next month's invoice is paid from the credit the client holds, as soon as it is issued
    r = await bt.client.post("/api/invoice-runs", json={"period": "2027-01", "confirm": True},
                             headers=bt.auth("head1", "head"))  # ahead: the head confirms
    assert r.json()["issued"] == 4
    r = await bt.client.post(f"/api/clients/{known['mts']}/apply-credit", headers=bt.auth())
    assert r.json()["applied"] == "0.00"  # nothing left to apply
    r = await bt.client.get(f"/api/clients/{known['mts']}/balance", headers=bt.auth())
    assert (r.json()["credit"], r.json()["outstanding"], r.json()["balance"]) == (
        "0.00", "21000.00", "-21000.00")

    r = await bt.client.post("/api/payments", json={"amount": "300.00", "paid_on": "2026-12-21",
                                                    "reference": "наличные"}, headers=bt.auth())
    assert (r.json()["status"], r.json()["client_id"]) == ("unmatched", None)
    r = await bt.client.get("/api/payments", params={"status": "unmatched"}, headers=bt.auth())
    assert [p["reference"] for p in r.json()] == ["наличные"]
