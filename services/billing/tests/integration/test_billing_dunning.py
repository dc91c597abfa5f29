"""Dunning across real calendars: working days only, stop on payment, pause on a promise."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from billing.service_layer.dunning import scheduled_dunning
from clientops_shared.events.base import Envelope

pytestmark = pytest.mark.integration


def assert_emitted_envelope(body: dict[str, Any]) -> None:
    """The body parses as its contract and is what wrapping that event gives, key for key."""
    envelope = Envelope.model_validate(body)
    wrapped = Envelope.wrap(envelope.event(), envelope.producer).model_dump(mode="json")
    assert set(body) == set(wrapped), body
    assert body["payload"] == wrapped["payload"], body
    assert body["event_id"] != wrapped["event_id"] and body["producer"] == "billing"
    # a step of its invoice, numbered in the statement after the invoice's "issued" (1)
    assert (body["aggregate"], body["aggregate_id"]) == (wrapped["aggregate"],
                                                         wrapped["aggregate_id"]) != (None, None)
    assert body["aggregate_version"] >= 2, body


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def _setup(bt: Any, period: str, *numbers: str) -> dict[str, dict[str, Any]]:
    starts = date.fromisoformat(f"{period}-01")
    contracts = [bt.signed(n, starts_on=starts) for n in numbers]
    await bt.deliver(*contracts)
    bt.billing.rules.today = lambda: starts + timedelta(days=14)  # the run on the 15th
    r = await bt.client.post("/api/invoice-runs", json={"period": period}, headers=bt.auth())
    assert r.json()["issued"] == len(numbers)
    r = await bt.client.get("/api/invoices", params={"period": period}, headers=bt.auth())
    return {i["contract_number"]: i for i in r.json()}


async def _dun(bt: Any, on: date) -> dict[str, Any]:
    bt.billing.rules.today = lambda: on  # the daily run on its day (never a future date)
    r = await bt.client.post("/api/dunning-runs", json={"on": on.isoformat()},
                             headers=bt.auth())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _reminders(bt: Any, invoice_id: str) -> list[dict[str, Any]]:
    return await bt.rows(  # type: ignore[no-any-return]
        "SELECT body->'payload' AS p FROM outbox_message WHERE routing_key = "
        "'billing.invoice.overdue' AND body->'payload'->>'invoice_id' = :i ORDER BY id",
        i=invoice_id)


async def test_december_reminders_stop_on_payment_and_pause_on_a_promise(bt: Any) -> None:
    inv = await _setup(bt, "2026-12", "2026-0001", "2026-0002", "2026-0003")
    unpaid, paid, promised = inv["2026-0001"], inv["2026-0002"], inv["2026-0003"]
    assert unpaid["due_on"] == "2026-12-20"
    for day in _days(date(2026, 12, 15), date(2027, 1, 31)):
        await _dun(bt, day)
        if day == date(2026, 12, 22):
            bt.billing.rules.today = lambda: date(2026, 12, 22)
            r = await bt.client.post(
                f"/api/invoices/{promised['id']}/dunning-notes",
                json={"outcome": "promised", "promised_on": "2026-12-25",
                      "comment": "бухгалтер обещала оплатить в пятницу"},
                headers=bt.auth("manager1", "manager"))
            assert r.status_code == 201, r.text
        if day == date(2026, 12, 23):
            r = await bt.client.post("/api/payments", headers=bt.auth(), json={
                "invoice_id": paid["id"], "amount": paid["total"], "paid_on": "2026-12-23",
                "reference": "п/п 12"})
            assert r.status_code == 201

    december = ["2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25",
                "2026-12-28", "2026-12-29", "2026-12-30"]
    # 1–8 January are holidays, 9–10 a weekend; 30 reminder days end with the hand-on stage
    january = ["2027-01-11", "2027-01-12", "2027-01-13", "2027-01-14", "2027-01-15",
               "2027-01-18", "2027-01-19", "2027-01-20", "2027-01-21", "2027-01-22",
               "2027-01-25", "2027-01-26", "2027-01-27", "2027-01-28", "2027-01-29"]
    seen = [r["p"] for r in await _reminders(bt, unpaid["id"])]
    assert [p["on"] for p in seen] == december + january
    assert [p["reminder_count"] for p in seen] == list(range(1, 24))
    assert [p["days_overdue"] for p in seen] == list(range(1, 24))
    assert {p["on"]: p["stage"] for p in seen if p["stage_starts"]} == {
        "2026-12-21": "call", "2026-12-25": "letter", "2027-01-12": "head"}
    assert seen[0]["outstanding"] == "15250.00" and seen[0]["manager"] == "manager1"
    # written set-wise in SQL, each body is still the envelope ``uow.emit`` would write
    for row in await bt.rows("SELECT body FROM outbox_message WHERE routing_key = "
                             "'billing.invoice.overdue'"):
        assert_emitted_envelope(row["body"])

    assert [r["p"]["on"] for r in await _reminders(bt, paid["id"])] == december[:3]
    paused = [r["p"] for r in await _reminders(bt, promised["id"])]
    assert [p["on"] for p in paused][:4] == ["2026-12-21", "2026-12-22", "2026-12-28",
                                             "2026-12-29"]
    # the count goes on from where it was; the working-day clock did not stop
    assert [(p["reminder_count"], p["days_overdue"]) for p in paused[:4]] == [
        (1, 1), (2, 2), (3, 6), (4, 7)]

    again = await _dun(bt, date(2026, 12, 28))
    assert (again["reminded"], again["already"]) == (0, 2)
    assert (await _dun(bt, date(2026, 12, 31)))["working_day"] is False
    r = await bt.client.get(f"/api/invoices/{promised['id']}/dunning", headers=bt.auth())
    assert r.json()["notes"][0]["promised_on"] == "2026-12-25"
    assert len(r.json()["reminders"]) == len(paused)


async def test_february_working_saturday_and_transferred_days_off(bt: Any) -> None:
    inv = await _setup(bt, "2027-02", "2027-0001")
    (invoice,) = inv.values()
    for day in _days(date(2027, 2, 15), date(2027, 2, 28)):
        await _dun(bt, day)
    assert [r["p"]["on"] for r in await _reminders(bt, invoice["id"])] == [
        "2027-02-20", "2027-02-24", "2027-02-25", "2027-02-26"]


async def test_the_daily_job_runs_once_a_working_day(bt: Any) -> None:
    await _setup(bt, "2026-12", "2026-0001", "2026-0002")
    assert await scheduled_dunning(bt.billing, date(2026, 12, 20)) is None  # a Sunday
    result = await scheduled_dunning(bt.billing, date(2026, 12, 21))
    assert result is not None and result["reminded"] == 2
    assert await scheduled_dunning(bt.billing, date(2026, 12, 21)) is None  # another replica
    assert await bt.scalar("SELECT count(*) FROM dunning_reminder") == 2


async def test_promises_and_resending_are_checked(bt: Any) -> None:
    inv = await _setup(bt, "2026-12", "2026-0001")
    (invoice,) = inv.values()
    other = bt.signed("2026-0002", manager="manager2")
    await bt.deliver(other)
    bt.billing.rules.today = lambda: date(2026, 12, 22)
    for body, field in [({"outcome": "promised"}, "promised_on"),
                        ({"outcome": "promised", "promised_on": "2026-12-01"}, "promised_on"),
                        ({"outcome": "maybe"}, "outcome")]:
        r = await bt.client.post(f"/api/invoices/{invoice['id']}/dunning-notes", json=body,
                                 headers=bt.auth())
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
    assert await bt.scalar("SELECT count(*) FROM dunning_note") == 0
    r = await bt.client.post(f"/api/invoices/{invoice['id']}/dunning-notes",
                             json={"outcome": "no_answer"},
                             headers=bt.auth("manager2", "manager"))
    assert r.status_code == 403

    r = await bt.client.post(f"/api/invoices/{invoice['id']}/resend", json={},
                             headers=bt.auth("manager1", "manager"))
    assert r.status_code == 202 and r.json()["email"] == "buh@example.ru"
    r = await bt.client.post(f"/api/invoices/{invoice['id']}/resend",
                             json={"email": "director@example.ru"}, headers=bt.auth())
    assert r.json()["email"] == "director@example.ru"
    sent = await bt.rows("SELECT body->'payload' AS p FROM outbox_message WHERE routing_key = "
                         "'billing.invoice.resent' ORDER BY id")
    assert [(s["p"]["number"], s["p"]["email"], s["p"]["requested_by"]) for s in sent] == [
        ("СЧ-2026-12-0001", "buh@example.ru", "manager1"),
        ("СЧ-2026-12-0001", "director@example.ru", "buh1")]
    r = await bt.client.post(f"/api/invoices/{invoice['id']}/resend", json={"email": "nope"},
                             headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
