"""Escalation exactly once per cause, and the daily digest once per person per day — through
the real service on a database of its own (the sweep and the digest look at every task)."""

from __future__ import annotations

import asyncio
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


async def register(svc: Any, manager: str) -> uuid.UUID:
    client_id = uuid.uuid4()
    await svc.publish(c.ClientRegistered(client_id=client_id, name=f"ООО {manager}",
                                         inn="7707083893", email="office@example.ru",
                                         manager=manager))
    return client_id


async def escalations(svc: Any) -> list[dict[str, Any]]:
    return await svc.rows("SELECT e.key, e.source, t.assignee, t.kind, t.priority FROM "
                          "escalation e JOIN task t ON t.id = e.task_id ORDER BY e.raised_at")


async def head_mails(svc: Any) -> int:
    return int(await svc.scalar("SELECT count(*) FROM mail_delivery WHERE template = "
                                "'escalation' AND \"to\" = 'user:head'"))


async def test_each_cause_escalates_exactly_once(service: Any, fresh_database: str) -> None:
    async with service(msk(21, 9), database=fresh_database) as svc:
        client = await register(svc, "ivanova")
        await svc.publish(fo.DowntimeStarted(incident_id=uuid.uuid4(), client_id=client,
                                             started_at=msk(21, 8, 45)))
        await svc.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=client,
                                               delivered_on=date(2026, 12, 21)))
        (downtime,) = await svc.tasks(kind="downtime_cause")
        (docs,) = await svc.tasks(kind="closing_docs")

        assert await svc.run_job("overdue-sweep", msk(21, 10)) == {"woken": 0, "escalated": 0}
        # the cause call was due 11:00; at 11:30 it escalates, once
        assert (await svc.run_job("overdue-sweep", msk(21, 11, 30)))["escalated"] == 1
        for later in (msk(21, 12), msk(21, 17), msk(22, 10)):
            assert (await svc.run_job("overdue-sweep", later))["escalated"] == 0
        (raised,) = await escalations(svc)
        assert raised == {"key": f"escalation:overdue:{downtime['id']}", "source": "task.overdue",
                          "assignee": "head", "kind": "escalation", "priority": "urgent"}
        assert await head_mails(svc) == 1

        # two replicas sweep at the same moment: still one escalation for the documents task
        a, b_ = await asyncio.gather(svc.run_job("overdue-sweep", msk(28, 10)),
                                     svc.run_job("overdue-sweep", msk(28, 10)))
        assert a["escalated"] + b_["escalated"] == 1
        keys = [e["key"] for e in await escalations(svc)]
        assert keys.count(f"escalation:overdue:{docs['id']}") == 1
        # the head's own escalation tasks are overdue by now but never escalate to the head
        assert len(keys) == 2 and await head_mails(svc) == 2

        # a snoozed overdue task waits for its snooze; when it wakes, it escalates once
        await svc.publish(fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=client))
        (feedback,) = await svc.tasks(kind="training_feedback")
        svc.clock.set(msk(28, 10))
        r = await svc.http.post(f"/api/tasks/{feedback['id']}/snooze", headers=svc.head,
                                json={"until": msk(30, 12).isoformat(),
                                      "outcome": "клиент в отъезде"})
        assert r.status_code == 200, r.text
        assert (await svc.run_job("overdue-sweep", msk(29, 10)))["escalated"] == 0
        result = await svc.run_job("overdue-sweep", msk(30, 12, 5))
        assert result == {"woken": 1, "escalated": 1}

        # events marked for escalation: repeated causes raise one head task each
        work_order, invoice = uuid.uuid4(), uuid.uuid4()
        for _ in range(2):
            await svc.publish(fo.VisitSlaBreached(work_order_id=work_order, client_id=client,
                                                  due_by=date(2026, 12, 29)))
        for day, stage in ((21, "call"), (22, "head"), (23, "head"), (24, "suspension")):
            await svc.publish(b.InvoiceOverdue(
                invoice_id=invoice, number="2026-12-0501", client_id=client,
                on=date(2026, 12, day), days_overdue=day - 10, reminder_count=day - 20,
                stage=stage, outstanding=Decimal("15250.00")))
        keys = [e["key"] for e in await escalations(svc)]
        assert keys.count(f"escalation:sla_breach:{work_order}") == 1
        assert keys.count(f"escalation:unpaid:{invoice}") == 1
        assert len(keys) == 5 and await head_mails(svc) == 5

        r = await svc.http.get("/api/escalations", headers=svc.head)
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "5"
        r = await svc.http.get("/api/escalations", headers=svc.auth("ivanova", "manager"))
        assert r.status_code == 403

        # the payment settles the head's escalation about the invoice, not only the call
        assert [t for t in await svc.tasks(kind="escalation", state="open")
                if "2026-12-0501" in t["title"]]
        await svc.publish(b.InvoicePaid(invoice_id=invoice, number="2026-12-0501",
                                        client_id=client, paid_on=date(2026, 12, 25)))
        tasks = await svc.tasks(kind="escalation")
        assert [t for t in tasks if t["state"] == "open"
                and "2026-12-0501" in t["title"]] == [], tasks
        assert any(t["state"] == "cancelled" and "2026-12-0501" in t["title"] for t in tasks)


async def test_daily_digest_once_per_person_per_working_day(
    service: Any, fresh_database: str, smtp: Any, billing_stand_in: Any
) -> None:
    async with service(msk(18, 9), database=fresh_database, smtp_port=smtp.port,
                       billing_url=billing_stand_in.url) as svc:
        first = await register(svc, "ivanova")
        second = await register(svc, "petrova")
        # Friday: a task done by ivanova (counted as "yesterday" on Monday)
        await svc.publish(fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=first))
        (done,) = await svc.tasks(kind="training_feedback")
        svc.clock.set(msk(18, 15))
        await svc.http.post(f"/api/tasks/{done['id']}/done", headers=svc.head, json={})
        # Monday 07:00: an overdue-from-Friday call, one for today, one for later
        svc.clock.set(msk(18, 16))
        await svc.publish(fo.DowntimeStarted(incident_id=uuid.uuid4(), client_id=first,
                                             started_at=msk(18, 16)))
        svc.clock.set(msk(21, 7))
        await svc.publish(b.InvoiceOverdue(
            invoice_id=uuid.uuid4(), number="2026-12-0601", client_id=first,
            on=date(2026, 12, 21), days_overdue=2, reminder_count=1, stage="call",
            outstanding=Decimal("15250.00")))
        await svc.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=first,
                                               delivered_on=date(2026, 12, 21)))
        await svc.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=second,
                                               delivered_on=date(2026, 12, 21)))
        for person in ("ivanova", "petrova"):
            r = await svc.http.put(f"/api/staff/{person}", headers=svc.head,
                                   json={"email": f"{person}@clientops.example"})
            assert r.status_code == 200

        assert (await svc.run_job("daily-digest", msk(21, 7, 30)))["queued"] == 0  # too early
        result = await svc.run_job("daily-digest", msk(21, 8, 30))
        assert result == {"day": "2026-12-21", "people": 2, "queued": 2}
        assert (await svc.run_job("daily-digest", msk(21, 9)))["queued"] == 0  # once a day
        assert (await svc.run_job("daily-digest", msk(26, 9)))["queued"] == 0  # Saturday
        await svc.run_job("mail-sender", msk(21, 8, 31))

        (mail,) = smtp.inbox.to("ivanova@clientops.example")
        assert mail["Subject"] == "Задачи на 21.12.2026: просрочено 1, на сегодня 1"
        body = mail.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Простой оборудования" in text and "Напомнить об оплате счёта № 2026-12-0601" in text
        assert "Дальше в очереди: 1." in text and "Вчера выполнено: 1." in text
        (other,) = smtp.inbox.to("petrova@clientops.example")
        assert other["Subject"] == "Задачи на 21.12.2026: просрочено 0, на сегодня 0"

        # the next working day is a new digest; someone who opted out gets none
        r = await svc.http.put("/api/staff/petrova", headers=svc.head,
                               json={"email": "petrova@clientops.example", "digest": False})
        assert r.status_code == 200
        assert await svc.run_job("daily-digest", msk(22, 8, 5)) == {
            "day": "2026-12-22", "people": 1, "queued": 1}
        assert await svc.scalar("SELECT count(*) FROM job_run WHERE job = 'daily-digest'") == 3
