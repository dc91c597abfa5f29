"""A client's advance (аванс, переплата): applied by hand to an invoice picked by billing, and
automatically to the next invoice issued for the client unless ``auto_apply_advance`` is off.
Exact kopecks, never more than the advance or the debt, never on a rent contract's invoice
(rent is money we pay the site owner). Through PostgreSQL and RabbitMQ, as billing runs."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def _client_with_two(
    bt: Any, *, fee_a: str = "12500.00", fee_b: str = "10000.00", other: bool = False
) -> dict[str, Any]:
    """One subscriber with two contracts invoiced for December 2026 (15 250,00 and
    12 200,00 ₽ with 22 % VAT on top); ``other``: and another subscriber's contract."""
    client = uuid.uuid4()
    a = bt.signed("2026-0101", inn="7740000076", client_id=client, name='ПАО "МТС"', fee=fee_a)
    b = bt.signed("2026-0102", inn="7740000076", client_id=client, name='ПАО "МТС"', fee=fee_b)
    more = [bt.signed("2026-0201", inn="7707083893", name="ПАО СБЕРБАНК")] if other else []
    await bt.deliver(a, b, *more)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == 2 + len(more), r.text
    bt.billing.rules.today = lambda: date(2026, 12, 18)
    return {"client": client, "a": a, "b": b, **await _invoices(bt, "2026-12")}


async def _invoices(bt: Any, period: str) -> dict[str, dict[str, Any]]:
    r = await bt.client.get("/api/invoices", params={"period": period}, headers=bt.auth())
    return {i["contract_number"]: i for i in r.json()}


async def _balance(bt: Any, client: uuid.UUID) -> tuple[str, str]:
    r = await bt.client.get(f"/api/clients/{client}/balance", headers=bt.auth())
    return r.json()["credit"], r.json()["outstanding"]


async def _overpay(bt: Any, invoice: dict[str, Any], amount: str, ref: str) -> dict[str, Any]:
    """A payment to one invoice, more than it owes: the rest is the client's advance."""
    r = await bt.client.post(
        "/api/payments",
        headers=bt.auth(),
        json={
            "invoice_id": invoice["id"],
            "amount": amount,
            "paid_on": "2026-12-18",
            "reference": ref,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_billing_applies_an_advance_to_the_invoice_it_picks(bt: Any) -> None:
    known = await _client_with_two(bt)
    a, b = known["2026-0101"], known["2026-0102"]
    assert (a["total"], b["total"]) == ("15250.00", "12200.00")
    paid = await _overpay(bt, a, "20000.01", "п/п 11")
    assert (paid["allocated"], paid["unallocated"]) == ("15250.00", "4750.01")
    # debt and advance side by side, until billing applies it
    assert await _balance(bt, known["client"]) == ("4750.01", "12200.00")

    # the payment's record: which invoice it paid and what is left
    r = await bt.client.get(f"/api/payments/{paid['id']}", headers=bt.auth())
    assert r.status_code == 200, r.text
    assert [(x["number"], x["amount"]) for x in r.json()["allocations"]] == [
        (a["number"], "15250.00")
    ]
    assert r.json()["unallocated"] == "4750.01"
    r = await bt.client.get("/api/payments", params={"status": "partly"}, headers=bt.auth())
    assert [p["id"] for p in r.json()] == [paid["id"]]

    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": b["id"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["applied"], r.json()["credit_left"]) == ("4750.01", "0.00")
    assert [(x["number"], x["amount"]) for x in r.json()["allocations"]] == [
        (b["number"], "4750.01")
    ]
    after = (await _invoices(bt, "2026-12"))["2026-0102"]
    assert (after["status"], after["paid"], after["outstanding"]) == (
        "partially_paid",
        "4750.01",
        "7449.99",
    )
    assert await _balance(bt, known["client"]) == ("0.00", "7449.99")
    r = await bt.client.get("/api/payments", params={"status": "matched"}, headers=bt.auth())
    assert [p["id"] for p in r.json()] == [paid["id"]]

    # nothing left: a Russian refusal, nothing written
    before = await bt.scalar("SELECT count(*) FROM payment_allocation")
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": b["id"]},
    )
    assert r.status_code == 409, r.text
    assert "нет аванса" in r.text
    assert await bt.scalar("SELECT count(*) FROM payment_allocation") == before


async def test_an_advance_larger_than_the_debt_pays_it_and_keeps_the_rest(bt: Any) -> None:
    known = await _client_with_two(bt, other=True)
    a, b = known["2026-0101"], known["2026-0102"]
    paid = await _overpay(bt, a, "40000.00", "п/п 12")
    assert paid["unallocated"] == "24750.00"
    # the desk answers only for the client's own open invoice
    other = known["2026-0201"]
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": other["id"]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "invoice_id", r.text
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": a["id"]},
    )  # paid already
    assert r.status_code == 409, r.text
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": b["id"]},
    )
    assert (r.json()["applied"], r.json()["credit_left"]) == ("12200.00", "12550.00")
    after = (await _invoices(bt, "2026-12"))["2026-0102"]
    assert (after["status"], after["paid"]) == ("paid", "12200.00")
    assert await _balance(bt, known["client"]) == ("12550.00", "0.00")
    total = await bt.scalar(
        "SELECT sum(amount) FROM payment_allocation WHERE payment_id = :p", p=uuid.UUID(paid["id"])
    )
    assert total == Decimal("27450.00")  # never more than the payment
    paid_events = await bt.rows(
        "SELECT body->'payload'->>'number' AS n FROM outbox_message "
        "WHERE routing_key = 'billing.invoice.paid'"
    )
    assert sorted(e["n"] for e in paid_events) == sorted([a["number"], b["number"]])
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth("manager1", "manager"),
        json={"invoice_id": b["id"]},
    )
    assert r.status_code == 403


async def _january(bt: Any) -> dict[str, dict[str, Any]]:
    r = await bt.client.post(
        "/api/invoice-runs",
        json={"period": "2027-01", "confirm": True},
        headers=bt.auth("head1", "head"),
    )
    assert r.status_code in (200, 201), r.text
    return await _invoices(bt, "2027-01")


async def test_the_next_invoice_is_paid_from_the_advance_automatically(bt: Any) -> None:
    known = await _client_with_two(bt)
    await _overpay(bt, known["2026-0101"], "15250.00", "п/п 13")
    await _overpay(bt, known["2026-0102"], "30000.00", "п/п 14")  # 17 800,00 ₽ left over
    assert await _balance(bt, known["client"]) == ("17800.00", "0.00")
    # a rent contract's invoice left from before rent was paid to site owners: never paid
    # from the subscriber's advance, though it is the oldest open one
    rent = bt.signed(
        "2026-0103",
        inn="7740000076",
        client_id=known["client"],
        name='ПАО "МТС"',
        kind="rent",
        fee="5000.00",
    )
    await bt.deliver(rent)
    await bt.execute(
        "INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id, period,"
        " revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on) VALUES"
        " (gen_random_uuid(), 'СЧ-2026-11-0999', 'invoice', :c, '2026-0103', :cl, '2026-11', 0,"
        " 'on_top', 5000, 1100, 6100, 0, 'issued', '2026-11-15', '2026-11-20')",
        c=rent.contract_id,
        cl=known["client"],
    )

    january = await _january(bt)
    a, b = january["2026-0101"], january["2026-0102"]
    # oldest first by number: all of the first (15 250,00), 2 550,00 of the second
    assert (a["status"], a["paid"]) == ("paid", "15250.00")
    assert (b["status"], b["paid"], b["outstanding"]) == ("partially_paid", "2550.00", "9650.00")
    assert await _balance(bt, known["client"]) == ("0.00", "15750.00")  # 9 650 + rent 6 100
    # the client's mail asks only for what is left: the issue event says what the advance
    # paid, and it is published before the "paid" event of the same invoice
    events = await bt.rows(
        "SELECT routing_key, body->'payload' AS p, body->'aggregate_version' AS v"
        " FROM outbox_message WHERE body->'payload'->>'number' IN (:a, :b) ORDER BY id",
        a=a["number"], b=b["number"])
    # the run numbers "issued" in its SQL, the commit numbers "paid" after it: steps 1 and 2
    # of the invoice, so a consumer applies them in that order whatever order they arrive in
    assert {(e["routing_key"], e["p"]["number"]): e["v"] for e in events} == {
        ("billing.invoice.issued", a["number"]): 1, ("billing.invoice.paid", a["number"]): 2,
        ("billing.invoice.issued", b["number"]): 1}
    issued = {e["p"]["number"]: e["p"]["paid_from_advance"] for e in events
              if e["routing_key"] == "billing.invoice.issued"}
    assert issued == {a["number"]: "15250.00", b["number"]: "2550.00"}
    keys = [(e["routing_key"], e["p"]["number"]) for e in events]
    paid_a = keys.index(("billing.invoice.paid", a["number"]))
    assert keys.index(("billing.invoice.issued", a["number"])) < paid_a
    wrong = await bt.rows("SELECT status, paid FROM invoice WHERE number = 'СЧ-2026-11-0999'")
    assert (wrong[0]["status"], wrong[0]["paid"]) == ("issued", Decimal("0.00"))
    audit = await bt.rows("SELECT after FROM audit_log WHERE action = 'client.credit_applied'")
    assert [x["after"]["automatic"] for x in audit] == [True]

    # by hand, the rent invoice cannot be picked either
    await _overpay(bt, b, "10000.00", "п/п 15")  # 350,00 ₽ left over
    rent_id = await bt.scalar("SELECT id FROM invoice WHERE number = 'СЧ-2026-11-0999'")
    r = await bt.client.post(
        f"/api/clients/{known['client']}/apply-credit",
        headers=bt.auth(),
        json={"invoice_id": str(rent_id)},
    )
    assert r.status_code == 409 and "аренды" in r.text, r.text
    r = await bt.client.post(f"/api/clients/{known['client']}/apply-credit", headers=bt.auth())
    assert r.json()["applied"] == "0.00"  # every open invoice, oldest first: the rent one is not
    assert await _balance(bt, known["client"]) == ("350.00", "6100.00")


async def test_the_automatic_application_can_be_switched_off(
    open_billing: Any, billing_db: str
) -> None:
    async with open_billing(billing_db, auto_apply_advance=False) as bt:
        known = await _client_with_two(bt)
        await _overpay(bt, known["2026-0101"], "20000.00", "п/п 16")  # 4 750,00 ₽ over
        await _overpay(bt, known["2026-0102"], "12200.00", "п/п 17")
        january = await _january(bt)
        assert {i["status"] for i in january.values()} == {"issued"}
        assert await _balance(bt, known["client"]) == ("4750.00", "27450.00")
        assert (
            await bt.scalar("SELECT count(*) FROM audit_log WHERE action = 'client.credit_applied'")
            == 0
        )
        # billing applies it by hand when it decides to
        r = await bt.client.post(
            f"/api/clients/{known['client']}/apply-credit",
            headers=bt.auth(),
            json={"invoice_id": january["2026-0102"]["id"]},
        )
        assert r.json()["applied"] == "4750.00", r.text
        assert await _balance(bt, known["client"]) == ("0.00", "22700.00")


async def test_the_payments_list_filters_and_pages_by_keyset(bt: Any) -> None:
    known = await _client_with_two(bt)
    bt.billing.rules.today = lambda: date(2026, 12, 31)
    made = []
    for n in range(5):
        r = await bt.client.post("/api/payments", headers=bt.auth(), json={
            "payer_inn": "7740000076", "amount": f"{100 + n}.00",
            "paid_on": f"2026-12-{20 + n}", "reference": f"п/п {n}"})
        made.append(r.json()["id"])
    r = await bt.client.post("/api/payments", headers=bt.auth(), json={
        "amount": "7.00", "paid_on": "2026-11-30", "reference": "наличные"})
    stray = r.json()["id"]
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        r = await bt.client.get("/api/payments", params=params, headers=bt.auth())
        assert r.status_code == 200, r.text
        seen += [p["id"] for p in r.json()]
        after = r.headers.get("x-next-cursor")
        if not after:
            break
    assert seen == [*reversed(made), stray]  # newest first, each once
    assert r.headers["x-total-count"] == "6"

    async def ids(**params: Any) -> list[str]:
        r = await bt.client.get("/api/payments", params=params, headers=bt.auth())
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()]

    assert await ids(period="2026-11") == [stray]
    assert await ids(date_from="2026-12-21", date_to="2026-12-22") == [made[2], made[1]]
    assert await ids(amount="103.00") == [made[3]]
    assert await ids(q="наличн") == [stray]
    assert await ids(status="unmatched") == [stray]
    assert await ids(client_id=str(known["client"]), status="matched") == [*reversed(made)]
    for bad, field in [({"date_from": "2026-12-22", "date_to": "2026-12-21"}, "date_to"),
                       ({"period": "2026-13"}, "period"), ({"amount": "1e3"}, "amount"),
                       ({"amount": "12345678901"}, "amount"), ({"after": "zz"}, "after"),
                       ({"status": "paid"}, "status"), ({"date_from": "1999-12-31"},
                                                        "date_from")]:
        r = await bt.client.get("/api/payments", params=bad, headers=bt.auth())
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.json())


async def test_two_applications_at_once_never_spend_more_than_is_there(bt: Any) -> None:
    import asyncio

    known = await _client_with_two(bt)
    a, b = known["2026-0101"], known["2026-0102"]
    paid = await _overpay(bt, a, "35250.00", "п/п 18")  # 20 000,00 ₽ over, b owes 12 200,00
    assert paid["unallocated"] == "20000.00"
    url = f"/api/clients/{known['client']}/apply-credit"
    answers = await asyncio.gather(*(bt.client.post(url, headers=bt.auth(),
                                                    json={"invoice_id": b["id"]})
                                     for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409], [r.text for r in answers]
    assert await _balance(bt, known["client"]) == ("7800.00", "0.00")
    total = await bt.scalar("SELECT sum(amount) FROM payment_allocation WHERE payment_id = :p",
                            p=uuid.UUID(paid["id"]))
    assert total == Decimal("27450.00")
