"""My day, the payment-reminder call list, acting on tasks — through the real service."""

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

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")


def msk(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK)


async def register(svc: Any, name: str, manager: str | None) -> uuid.UUID:
    client_id = uuid.uuid4()
    await svc.publish(c.ClientRegistered(client_id=client_id, name=name, inn="7707083893",
                                         email=f"{client_id.hex[:6]}@example.ru",
                                         manager=manager))
    return client_id


def overdue(invoice: uuid.UUID, client: uuid.UUID, number: str, on: date, days: int,
            count: int, amount: str) -> b.InvoiceOverdue:
    return b.InvoiceOverdue(invoice_id=invoice, number=number, client_id=client, on=on,
                            days_overdue=days, reminder_count=count, stage="call",
                            outstanding=Decimal(amount))


async def my_day(svc: Any, person: str, at: datetime, role: str = "manager",
                 **params: Any) -> dict[str, Any]:
    r = await svc.http.get("/api/my/tasks", headers=svc.auth(person, role),
                           params={"at": at.isoformat(), **params})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_my_day_orders_overdue_then_today_by_client_with_the_call_list(service: Any
                                                                             ) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(msk(18)) as svc:
        alpha = await register(svc, "АО Альфа", person)
        beta = await register(svc, "ООО Бета", person)
        # Friday: a terminal stands; the cause call was due Friday 12:00
        await svc.publish(fo.DowntimeStarted(incident_id=uuid.uuid4(), client_id=alpha,
                                             started_at=msk(18, 9, 30)))
        # Monday morning: billing's dunning run reminds about two unpaid invoices
        svc.clock.set(msk(21, 7))
        inv_a, inv_b = uuid.uuid4(), uuid.uuid4()
        await svc.publish(overdue(inv_a, alpha, "2026-12-0011", date(2026, 12, 21), 2, 1,
                                  "15250.00"))
        await svc.publish(overdue(inv_b, beta, "2026-12-0012", date(2026, 12, 21), 2, 1,
                                  "9900.50"))
        await svc.publish(c.ContractSigned(
            contract_id=uuid.uuid4(), number="Д-7", client_id=beta, client_name="ООО Бета",
            client_inn="7736207543", manager=person, kind="subscription", status="active",
            signed_on=date(2026, 12, 21), starts_on=date(2027, 1, 1),
            monthly_fee=Decimal("9000.00")))

        day = await my_day(svc, person, msk(21, 10))
        assert day["counts"] == {"overdue": 1, "today": 2, "later": 1, "snoozed": 0}
        assert [(g["client_name"], [t["kind"] for t in g["tasks"]]) for g in day["overdue"]] == [
            ("АО Альфа", ["downtime_cause"])]
        assert sorted((g["client_name"], [t["kind"] for t in g["tasks"]])
                      for g in day["today"]) == [
            ("АО Альфа", ["payment_reminder"]), ("ООО Бета", ["payment_reminder"])]
        calls = {call["number"]: call for call in day["calls"]}
        assert set(calls) == {"2026-12-0011", "2026-12-0012"}
        assert calls["2026-12-0011"]["outstanding"] == "15250.00"
        assert calls["2026-12-0012"]["outstanding"] == "9900.50"
        assert calls["2026-12-0011"]["days_overdue"] == 2
        assert calls["2026-12-0011"]["last_outcome"] is None

        # the manager calls Alpha: promised to pay on Wednesday
        task_a = calls["2026-12-0011"]["task_id"]
        svc.clock.set(msk(21, 11))
        r = await svc.http.post(f"/api/tasks/{task_a}/done", headers=svc.auth(person, "manager"),
                                json={"outcome": "обещали оплатить 23.12"})
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["outcome"]) == ("done", "обещали оплатить 23.12")

        # Tuesday: still unpaid, a new reminder shows the last outcome
        svc.clock.set(msk(22, 7))
        await svc.publish(overdue(inv_a, alpha, "2026-12-0011", date(2026, 12, 22), 3, 2,
                                  "15250.00"))
        await svc.publish(overdue(inv_b, beta, "2026-12-0012", date(2026, 12, 22), 3, 2,
                                  "9900.50"))
        day = await my_day(svc, person, msk(22, 10))
        calls = {call["number"]: call for call in day["calls"]}
        assert calls["2026-12-0011"]["last_outcome"] == "обещали оплатить 23.12"
        assert calls["2026-12-0011"]["task_id"] != task_a
        assert calls["2026-12-0011"]["reminder_count"] == 2
        # Beta's single reminder was refreshed, not stacked
        assert len(await svc.tasks(client_id=str(beta), kind="payment_reminder")) == 1

        # another manager does not see this person's day, the head does
        r = await svc.http.get("/api/my/tasks", headers=svc.auth("petrova", "manager"),
                               params={"assignee": person})
        assert r.status_code == 403
        head_view = await my_day(svc, "head", msk(22, 10), role="head", assignee=person)
        assert head_view["person"] == person and len(head_view["calls"]) == 2


async def test_a_client_paying_on_the_22nd_has_no_call_task_on_the_23rd(service: Any) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(msk(20, 7)) as svc:
        payer = await register(svc, "ООО Плательщик", person)
        debtor = await register(svc, "ООО Должник", person)
        inv_p, inv_d = uuid.uuid4(), uuid.uuid4()
        # the 20th is a Sunday: dunning starts Monday the 21st, then daily
        for day, days in ((21, 2), (22, 3)):
            svc.clock.set(msk(day, 7))
            await svc.publish(overdue(inv_p, payer, "2026-12-0021", date(2026, 12, day), days,
                                      day - 20, "12500.00"))
            await svc.publish(overdue(inv_d, debtor, "2026-12-0022", date(2026, 12, day), days,
                                      day - 20, "7000.00"))
        (call,) = await svc.tasks(client_id=str(payer), state="open")
        assert call["kind"] == "payment_reminder"

        # the payer pays on the 22nd: the invoice is paid, the call closes by itself
        svc.clock.set(msk(22, 15))
        await svc.publish(b.PaymentReceived(payment_id=uuid.uuid4(), client_id=payer,
                                            invoice_id=inv_p, amount=Decimal("12500.00"),
                                            paid_on=date(2026, 12, 22), reference="п/п 77"))
        await svc.publish(b.InvoicePaid(invoice_id=inv_p, number="2026-12-0021",
                                        client_id=payer, paid_on=date(2026, 12, 22)))
        assert await svc.tasks(client_id=str(payer), state="open") == []

        # the 23rd: dunning reminds only the debtor; a reminder for the payer delayed in the
        # broker (re-ordered behind the payment) arrives too and must not bring the call back
        svc.clock.set(msk(23, 7))
        await svc.publish(overdue(inv_p, payer, "2026-12-0021", date(2026, 12, 22), 3, 2,
                                  "12500.00"))
        await svc.publish(overdue(inv_d, debtor, "2026-12-0022", date(2026, 12, 23), 4, 3,
                                  "7000.00"))

        wednesday = await my_day(svc, person, msk(23, 10))
        assert [call["client_name"] for call in wednesday["calls"]] == ["ООО Должник"]
        assert await svc.tasks(client_id=str(payer), state="open") == []
        (closed,) = await svc.tasks(client_id=str(payer))
        assert (closed["state"], closed["outcome"]) == ("cancelled", "paid")


async def test_acting_on_tasks_is_own_only_all_or_nothing_audited_and_idempotent(
    service: Any,
) -> None:
    owner, other = f"m-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}"
    async with service(msk(21, 9)) as svc:
        client = await register(svc, "ООО Задачи", owner)
        for _ in range(3):
            await svc.publish(fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=client))
        t1, t2, t3 = [t["id"] for t in await svc.tasks(client_id=str(client))]
        mine = svc.auth(owner, "manager")

        # another manager may not touch them; nothing changes
        r = await svc.http.post(f"/api/tasks/{t1}/done", headers=svc.auth(other, "manager"),
                                json={"outcome": "не мой"})
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        r = await svc.http.post("/api/tasks/bulk", headers=svc.auth(other, "manager"),
                                json={"ids": [t1, t2], "action": "done"})
        assert r.status_code == 403
        assert {t["state"] for t in await svc.tasks(client_id=str(client))} == {"open"}

        # done once, with an Idempotency-Key: the retry gets the same answer, not a 409
        svc.clock.set(msk(21, 11))
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await svc.http.post(f"/api/tasks/{t2}/done", headers={**mine, **key},
                                    json={"outcome": "запись отправлена"})
        again = await svc.http.post(f"/api/tasks/{t2}/done", headers={**mine, **key},
                                    json={"outcome": "запись отправлена"})
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        assert (await svc.http.post(f"/api/tasks/{t2}/done", headers=mine, json={})
                ).status_code == 409

        # bulk is all or nothing: t2 is already done, so t1 is not snoozed either
        r = await svc.http.post("/api/tasks/bulk", headers=mine, json={
            "ids": [t1, t2], "action": "snooze", "until": msk(22, 10).isoformat()})
        assert r.status_code == 409, r.text
        assert [t["id"] for t in r.json()["tasks"]] == [t2]
        assert (await svc.http.get(f"/api/tasks/{t1}", headers=mine)).json()["state"] == "open"

        r = await svc.http.post("/api/tasks/bulk", headers=mine, json={
            "ids": [t1, t3], "action": "snooze", "until": msk(22, 10).isoformat(),
            "outcome": "клиент в отпуске"})
        assert r.status_code == 200 and r.json()["count"] == 2
        # a snooze into the past is refused, naming the field
        r = await svc.http.post(f"/api/tasks/{t1}/snooze", headers=mine,
                                json={"until": msk(20, 10).isoformat()})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "until"
        r = await svc.http.post(f"/api/tasks/{t1}/snooze", headers=mine,
                                json={"until": "2026-12-22T10:00:00"})  # no time zone
        assert r.status_code == 422
        # cancel needs a reason
        r = await svc.http.post(f"/api/tasks/{t3}/cancel", headers=mine, json={})
        assert r.status_code == 422

        # the snooze ends: the sweep wakes them; the head may close anyone's task
        woke = await svc.run_job("overdue-sweep", msk(22, 10, 1))
        assert woke["woken"] >= 2
        assert (await svc.http.get(f"/api/tasks/{t1}", headers=mine)).json()["state"] == "open"
        r = await svc.http.post(f"/api/tasks/{t3}/cancel", headers=svc.head,
                                json={"outcome": "клиент отказался от обучения"})
        assert r.status_code == 200 and r.json()["state"] == "cancelled"

        audit = await svc.rows("SELECT actor, action, after->>'state' AS state FROM audit_log "
                               "WHERE entity = 'task' AND entity_id = ANY(:ids) ORDER BY id",
                               ids=[t1, t2, t3])
        assert [(a["actor"], a["action"], a["state"]) for a in audit] == [
            (owner, "task.done", "done"),
            (owner, "task.snooze", "snoozed"),
            (owner, "task.snooze", "snoozed"),
            ("head", "task.cancel", "cancelled"),
        ]


async def test_a_queue_task_is_taken_by_the_functions_roles_only(service: Any) -> None:
    async with service(msk(21, 9)) as svc:
        orphan = await register(svc, "ООО Без менеджера", None)
        await svc.publish(overdue(uuid.uuid4(), orphan, "2026-12-0031", date(2026, 12, 21), 2,
                                  1, "5000.00"))
        (task,) = await svc.tasks(client_id=str(orphan))
        assert task["assignee"] == "queue:billing"
        r = await svc.http.post(f"/api/tasks/{task['id']}/done",
                                headers=svc.auth("yurist", "lawyer"), json={})
        assert r.status_code == 403
        r = await svc.http.post(f"/api/tasks/{task['id']}/done",
                                headers=svc.auth("buh1", "billing"),
                                json={"outcome": "оплату подтвердили"})
        assert r.status_code == 200 and r.json()["state"] == "done"


async def test_task_list_filters_pages_and_shows_a_manager_only_their_clients(service: Any
                                                                             ) -> None:
    owner, other = f"m-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}"
    async with service(msk(21, 7)) as svc:
        mine = await register(svc, "ООО Моё", owner)
        theirs = await register(svc, "ООО Чужое", other)
        for n in range(3):
            await svc.publish(overdue(uuid.uuid4(), mine, f"2026-12-00{n + 40}",
                                      date(2026, 12, 21), 2, 1, f"{n + 1}000.00"))
        await svc.publish(fo.DowntimeStarted(incident_id=uuid.uuid4(), client_id=mine,
                                             started_at=msk(21, 7)))
        await svc.publish(overdue(uuid.uuid4(), theirs, "2026-12-0050", date(2026, 12, 21), 2,
                                  1, "500.00"))
        headers = svc.auth(owner, "manager")

        r = await svc.http.get("/api/tasks", headers=headers, params={"assignee": owner,
                                                                      "limit": 2})
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "4"
        first = r.json()
        r = await svc.http.get("/api/tasks", headers=headers, params={"assignee": owner,
                                                                      "limit": 2, "offset": 2})
        assert len(first) == len(r.json()) == 2
        assert not {t["id"] for t in first} & {t["id"] for t in r.json()}
        # the downtime call is due 11:00 (two working hours from the 09:00 start): first
        assert first[0]["kind"] == "downtime_cause"
        assert first[0]["client_name"] == "ООО Моё"

        r = await svc.http.get("/api/tasks", headers=headers,
                               params={"client_id": str(mine), "function": "billing"})
        assert [t["kind"] for t in r.json()] == ["payment_reminder"] * 3
        r = await svc.http.get("/api/tasks", headers=headers,
                               params={"client_id": str(mine), "sort": "priority"})
        assert r.json()[0]["priority"] == "high"
        svc.clock.set(msk(21, 12))
        r = await svc.http.get("/api/tasks", headers=headers,
                               params={"client_id": str(mine), "overdue": "true"})
        assert [t["kind"] for t in r.json()] == ["downtime_cause"]
        r = await svc.http.get("/api/tasks", headers=headers, params={"q": "выяснить причину",
                                                                      "client_id": str(mine)})
        assert len(r.json()) == 1

        # a manager sees nothing of another manager's client; a bad filter is a 422
        r = await svc.http.get("/api/tasks", headers=headers, params={"client_id": str(theirs)})
        assert r.status_code == 200 and r.json() == []
        r = await svc.http.get(f"/api/clients/{theirs}/timeline", headers=headers)
        assert r.status_code == 403
        r = await svc.http.get("/api/tasks", headers=headers, params={"state": "lost"})
        assert r.status_code == 422
