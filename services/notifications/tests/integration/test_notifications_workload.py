"""Workload for a seeded month against a hand-computed table, and the head's bulk moves —
through the real service (events on the broker, actions over the API, a clock set by hand)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clientops_shared.events import billing as b
from clientops_shared.events import contracts as c
from clientops_shared.events import field_ops as fo
from clientops_shared.events import logistics as lg

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")


def msk(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK)


async def register(svc: Any, name: str, manager: str) -> uuid.UUID:
    client_id = uuid.uuid4()
    await svc.publish(c.ClientRegistered(client_id=client_id, name=name, inn="7707083893",
                                         email="office@example.ru", manager=manager))
    return client_id


def overdue(invoice: uuid.UUID, client: uuid.UUID, on: int) -> b.InvoiceOverdue:
    return b.InvoiceOverdue(invoice_id=invoice, number=f"И-{invoice.hex[:4]}", client_id=client,
                            on=date(2026, 12, on), days_overdue=2, reminder_count=1,
                            stage="call", outstanding=Decimal("1000.00"))


def signed(client: uuid.UUID, manager: str) -> c.ContractSigned:
    return c.ContractSigned(
        contract_id=uuid.uuid4(), number="Д-1", client_id=client, client_name="ООО",
        client_inn="7707083893", manager=manager, kind="subscription", status="active",
        signed_on=date(2026, 12, 1), starts_on=date(2027, 1, 1),
        monthly_fee=Decimal("1000.00"))


class Month:
    """Publishes at a moment, completes a task at a moment."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc

    async def at(self, moment: datetime, event: Any) -> dict[str, Any]:
        self.svc.clock.set(moment)
        envelope = await self.svc.publish(event)
        (task,) = await self.svc.rows(
            "SELECT id::text AS id, assignee FROM task WHERE source_event_id = :e",
            e=str(envelope.event_id))
        return task

    async def done(self, moment: datetime, task: dict[str, Any]) -> None:
        self.svc.clock.set(moment)
        r = await self.svc.http.post(f"/api/tasks/{task['id']}/done",
                                     headers=self.svc.auth(task["assignee"], "manager"),
                                     json={"outcome": "сделано"})
        assert r.status_code == 200, r.text


async def test_workload_of_a_seeded_month_matches_the_hand_computed_table(
    service: Any, fresh_database: str
) -> None:
    async with service(msk(1, 9), database=fresh_database) as svc:
        m = Month(svc)
        a = await register(svc, "Клиент А", "ivanova")
        bb = await register(svc, "Клиент Б", "ivanova")
        cc = await register(svc, "Клиент В", "petrova")
        d = await register(svc, "Клиент Г", "senior")

        # ivanova: seven tasks across four functions
        t6 = await m.at(msk(10, 9), fo.DowntimeStarted(incident_id=uuid.uuid4(), client_id=bb,
                                                       started_at=msk(10, 9)))
        await m.done(msk(10, 15), t6)                                        # 6 h
        t4 = await m.at(msk(14, 10), signed(bb, "ivanova"))
        await m.done(msk(14, 12), t4)                                        # 2 h
        t1 = await m.at(msk(21, 7), overdue(uuid.uuid4(), a, 21))
        await m.done(msk(21, 11), t1)                                        # 4 h
        inv4 = uuid.uuid4()
        await m.at(msk(22, 7), overdue(inv4, bb, 22))
        svc.clock.set(msk(23, 12))
        await svc.publish(b.InvoicePaid(invoice_id=inv4, number="И-4", client_id=bb,
                                        paid_on=date(2026, 12, 23)))      # cancelled, not done
        t2 = await m.at(msk(28, 7), overdue(uuid.uuid4(), bb, 28))
        await m.done(msk(29, 10), t2)                                        # 27 h, this week
        await m.at(msk(29, 10), lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=a,
                                                     delivered_on=date(2026, 12, 29)))
        await m.at(msk(30, 7), overdue(uuid.uuid4(), a, 30))            # open, overdue
        # petrova: one billing call done (26 h), one support task overdue
        t8 = await m.at(msk(21, 7), overdue(uuid.uuid4(), cc, 21))
        await m.done(msk(22, 9), t8)
        await m.at(msk(28, 10), fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=cc))
        # senior: one welcome call, not yet due
        await m.at(msk(30, 9), signed(d, "senior"))

        svc.clock.set(msk(31, 12))
        r = await svc.http.get("/api/workload", headers=svc.head,
                               params={"since": "2026-12-01", "targets": "senior"})
        assert r.status_code == 200, r.text
        report = r.json()

    # hand-computed: (open, overdue, done this week, done in window, median hours to done)
    people = {p["person"]: (p["open"], p["overdue"], p["done_this_week"], p["done_in_window"],
                            p["median_time_to_done_hours"]) for p in report["people"]}
    assert people == {
        "ivanova": (2, 1, 1, 4, 5.0),    # durations 2, 4, 6, 27 h -> (4 + 6) / 2
        "petrova": (1, 1, 0, 1, 26.0),
        "senior": (1, 0, 0, 0, None),
    }
    functions = {f["function"]: (f["open"], f["overdue"], f["done_this_week"],
                                 f["done_in_window"], f["median_time_to_done_hours"])
                 for f in report["functions"]}
    assert functions == {
        "billing": (1, 1, 1, 3, 26.0),   # 4, 26, 27 h
        "contracts": (1, 0, 0, 1, 2.0),
        "field_ops": (0, 0, 0, 1, 6.0),
        "logistics": (1, 0, 0, 0, None),
        "support": (1, 1, 0, 0, None),
        "claims": (0, 0, 0, 0, None),
    }
    matrix = {(p["person"], p["function"]): (p["open"], p["done_in_window"],
                                             p["median_time_to_done_hours"])
              for p in report["people_by_function"]}
    assert matrix[("ivanova", "billing")] == (1, 2, 15.5)
    assert matrix[("petrova", "support")] == (1, 0, None)
    bus = {f["function"]: f["carriers"] for f in report["bus_factor"]}
    assert bus == {"billing": ["ivanova", "petrova"], "contracts": ["ivanova"],
                   "field_ops": ["ivanova"], "logistics": [], "support": [], "claims": []}
    assert {f["function"] for f in report["bus_factor"] if f["single_carrier"]} == {
        "contracts", "field_ops"}
    regrouping = report["regrouping"]
    assert regrouping["loads"] == {"ivanova": 6, "petrova": 2, "senior": 1}
    assert regrouping["team_median"] == 2.0 and regrouping["overloaded"] == ["ivanova"]
    assert [(mv["function"], mv["from"], mv["to"], mv["from_load_after"], mv["to_load_after"])
            for mv in regrouping["moves"]] == [
        ("contracts", "ivanova", "senior", 5, 2),
        ("field_ops", "ivanova", "senior", 4, 3),
    ]


async def test_head_moves_a_clients_and_a_functions_tasks_in_bulk_with_history(service: Any
                                                                             ) -> None:
    suffix = uuid.uuid4().hex[:6]
    busy, helper, senior = f"busy-{suffix}", f"helper-{suffix}", f"senior-{suffix}"
    async with service(msk(21, 7)) as svc:
        x = await register(svc, "Клиент Х", busy)
        y = await register(svc, "Клиент У", busy)
        invoice = uuid.uuid4()
        await svc.publish(overdue(invoice, x, 21))
        await svc.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=x,
                                               delivered_on=date(2026, 12, 21)))
        await svc.publish(fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=x))
        await svc.publish(overdue(uuid.uuid4(), y, 21))
        await svc.publish(c.ContractSubmittedForApproval(contract_id=uuid.uuid4(), number="Д-9",
                                                         client_id=x, manager=busy))

        body = {"client_id": str(x), "to_assignee": helper, "note": "отпуск"}
        r = await svc.http.post("/api/assignments", headers=svc.auth(busy, "manager"), json=body)
        assert r.status_code == 403
        key = {"Idempotency-Key": uuid.uuid4().hex}
        r = await svc.http.post("/api/assignments", headers={**svc.head, **key}, json=body)
        assert r.status_code == 201, r.text
        assert r.json()["moved"] == 3 and r.json()["by"] == "head"
        again = await svc.http.post("/api/assignments", headers={**svc.head, **key}, json=body)
        assert again.status_code == 201 and again.json() == r.json()
        assert {t["kind"]: t["assignee"] for t in await svc.tasks(client_id=str(x))} == {
            "payment_reminder": helper, "closing_docs": helper, "training_feedback": helper,
            "contract_approval": "head"}  # the head's decision stays with the head
        assert {t["assignee"] for t in await svc.tasks(client_id=str(y))} == {busy}

        # the next day's reminder refreshes the moved task and leaves it with the helper
        svc.clock.set(msk(22, 7))
        await svc.publish(overdue(invoice, x, 22))
        (reminder,) = await svc.tasks(client_id=str(x), kind="payment_reminder")
        assert reminder["assignee"] == helper and reminder["due_at"] == "2026-12-22T15:00:00Z"

        # a standing move: the busy manager's billing goes to the senior manager, new tasks too
        r = await svc.http.post("/api/assignments", headers=svc.head, json={
            "function": "billing", "from_assignee": busy, "to_assignee": senior,
            "standing": True})
        assert r.status_code == 201 and r.json()["moved"] == 1  # Y's reminder
        z = await register(svc, "Клиент Z", busy)
        await svc.publish(overdue(uuid.uuid4(), z, 22))
        await svc.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=z,
                                               delivered_on=date(2026, 12, 22)))
        owners = {t["kind"]: t["assignee"] for t in await svc.tasks(client_id=str(z))}
        assert owners == {"payment_reminder": senior, "closing_docs": busy}
        r = await svc.http.get("/api/assignments/routing", headers=svc.head)
        assert {"function": "billing", "from_assignee": busy, "to_assignee": senior} in [
            {k: row[k] for k in ("function", "from_assignee", "to_assignee")} for row in r.json()]

        # the history, newest first; ending the standing move routes new work back
        r = await svc.http.get("/api/assignments", headers=svc.head,
                               params={"client_id": str(x)})
        (record,) = r.json()
        assert (record["to_assignee"], record["moved"], record["note"]) == (helper, 3, "отпуск")
        assert len(record["task_ids"]) == 3
        r = await svc.http.delete("/api/assignments/routing/billing", headers=svc.head,
                                  params={"from_assignee": busy})
        assert r.status_code == 204
        w = await register(svc, "Клиент W", busy)
        await svc.publish(overdue(uuid.uuid4(), w, 22))
        (task,) = await svc.tasks(client_id=str(w))
        assert task["assignee"] == busy

        # a standing move is for a function, never for one client
        r = await svc.http.post("/api/assignments", headers=svc.head, json={
            "client_id": str(w), "to_assignee": senior, "standing": True})
        assert r.status_code == 422


async def test_tasks_done_per_week_per_person_matches_the_hand_computed_table(
    service: Any, fresh_database: str
) -> None:
    """Weeks run Monday 00:00 to Monday 00:00 Moscow time; only "done" counts (a task closed
    by an event was not work done), open work does not, and nothing before the first week."""
    async with service(datetime(2026, 11, 30, 9, tzinfo=MSK), database=fresh_database) as svc:
        m = Month(svc)
        a = await register(svc, "Клиент А", "ivanova")
        p = await register(svc, "Клиент П", "petrova")

        def on(month: int, day: int, hour: int, minute: int = 0) -> datetime:
            return datetime(2026, month, day, hour, minute, tzinfo=MSK)

        async def done_task(client: uuid.UUID, created: datetime, done: datetime) -> None:
            task = await m.at(created, overdue(uuid.uuid4(), client, created.day))
            await m.done(done, task)

        await done_task(a, on(12, 1, 7), on(12, 1, 10))     # week of 30.11: before the window
        await done_task(a, on(12, 8, 7), on(12, 8, 12))     # week of 07.12
        await done_task(a, on(12, 10, 7), on(12, 11, 9))    # week of 07.12
        await done_task(a, on(12, 22, 7), on(12, 22, 8))    # week of 21.12
        await done_task(a, on(12, 29, 7), on(12, 31, 11))   # this week
        # petrova either side of the midnight that starts the week of 21.12 (Moscow time;
        # in UTC both are on Sunday the 20th)
        await done_task(p, on(12, 20, 7), on(12, 20, 23, 30))  # week of 14.12
        await done_task(p, on(12, 20, 8), on(12, 21, 0, 30))   # week of 21.12
        # cancelled by the payment (not work done) and still open: neither counts
        paid = uuid.uuid4()
        await m.at(on(12, 23, 7), overdue(paid, p, 23))
        svc.clock.set(on(12, 23, 12))
        await svc.publish(b.InvoicePaid(invoice_id=paid, number="И-П", client_id=p,
                                        paid_on=date(2026, 12, 23)))
        await m.at(on(12, 30, 7), overdue(uuid.uuid4(), a, 30))

        svc.clock.set(on(12, 31, 12))
        r = await svc.http.get("/api/workload/history", headers=svc.head, params={"weeks": 4})
        assert r.status_code == 200, r.text
        history = r.json()
        r = await svc.http.get("/api/workload/history", headers=svc.head, params={"weeks": 1})
        this_week = r.json()
        r = await svc.http.get("/api/workload/history", headers=svc.head)
        default = r.json()
        assert (await svc.http.get("/api/workload/history", headers=svc.head,
                                   params={"weeks": 0})).status_code == 422
        assert (await svc.http.get("/api/workload/history",
                                   headers=svc.auth("ivanova", "manager"))).status_code == 403

    assert [(w["start"], w["end"]) for w in history["weeks"]] == [
        ("2026-12-07", "2026-12-13"), ("2026-12-14", "2026-12-20"),
        ("2026-12-21", "2026-12-27"), ("2026-12-28", "2027-01-03")]
    assert [(row["person"], row["done"], row["total"]) for row in history["people"]] == [
        ("ivanova", [2, 0, 1, 1], 4),
        ("petrova", [0, 1, 1, 0], 2)]
    assert history["totals"] == [2, 1, 2, 1]
    assert [(row["person"], row["done"]) for row in this_week["people"]] == [("ivanova", [1])]
    # eight weeks by default: from 09.11, so the task done on 01.12 is in it too
    assert default["weeks"][0]["start"] == "2026-11-09" and len(default["weeks"]) == 8
    assert [(row["person"], row["done"]) for row in default["people"]] == [
        ("ivanova", [0, 0, 0, 1, 2, 0, 1, 1]), ("petrova", [0, 0, 0, 0, 0, 1, 1, 0])]
