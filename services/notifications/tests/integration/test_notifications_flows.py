"""ARCHITECTURE §2 flows through the real service: each event type creates the expected task
for the expected person, closing events close them, and replaying everything changes nothing."""

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
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)  # Monday, dunning week
MANAGER = "ivanova"
Notifications = Any  # the harness in conftest.py


def ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


async def register(svc: Notifications, manager: str | None, email: str | None = None
                   ) -> uuid.UUID:
    client_id = uuid.uuid4()
    await svc.publish(c.ClientRegistered(client_id=client_id, name=f"ООО Тест {client_id.hex[:4]}",
                                         inn="7707083893", email=email, manager=manager))
    return client_id


def one(tasks: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [t for t in tasks if t["kind"] == kind]
    assert len(found) == 1, (kind, tasks)
    return found[0]


async def snapshot(svc: Notifications, without: uuid.UUID | None = None) -> dict[str, Any]:
    other = str(without or uuid.UUID(int=0))
    return {
        "tasks": await svc.rows("SELECT id, kind, dedupe_key, assignee, state, outcome, due_at, "
                                "priority, title, updated_at, source_event_id FROM task "
                                "ORDER BY id"),
        "escalations": await svc.rows("SELECT key, task_id FROM escalation ORDER BY key"),
        "mail": await svc.rows("SELECT id, template, \"to\", dedupe_key, state FROM "
                               "mail_delivery ORDER BY id"),
        "timeline": await svc.scalar("SELECT count(*) FROM timeline_entry WHERE client_id <> :o",
                                     o=other),
        "finished": await svc.scalar("SELECT count(*) FROM finished_duty"),
        "clients": await svc.rows("SELECT client_id, manager, email FROM client_directory "
                                  "WHERE client_id::text <> :o ORDER BY client_id", o=other),
    }


async def test_every_flow_event_makes_the_expected_work_and_replaying_all_changes_nothing(
    service: Any,
) -> None:
    async with service(NOW) as svc:
        client = await register(svc, MANAGER, email="buh@romashka.ru")
        mine = {"client_id": str(client)}

        async def client_tasks(**params: Any) -> list[dict[str, Any]]:
            return await svc.tasks(**mine, **params)

        # 1. new client: signing -> welcome call; delivery -> closing documents; install
        contract, shipment, equipment = ids(3)
        await svc.publish(c.ContractSigned(
            contract_id=contract, number="Д-101", client_id=client, client_name="ООО Ромашка",
            client_inn="7707083893", manager=MANAGER, kind="subscription", status="active",
            signed_on=date(2026, 12, 21), starts_on=date(2027, 1, 1),
            monthly_fee=Decimal("12500.00")))
        welcome = one(await client_tasks(), "welcome_call")
        assert (welcome["assignee"], welcome["action"], welcome["function"]) == (
            MANAGER, "call", "contracts")
        assert welcome["due_at"] == "2026-12-22T15:00:00Z"  # next working day 18:00 Moscow
        await svc.publish(lg.ShipmentDelivered(shipment_id=shipment, client_id=client,
                                               delivered_on=date(2026, 12, 21)))
        assert one(await client_tasks(), "closing_docs")["assignee"] == MANAGER
        await svc.publish(fo.EquipmentInstalled(equipment_id=equipment, client_id=client,
                                                installed_on=date(2026, 12, 21)))
        booking = one(await client_tasks(kind="training_booking"), "training_booking")
        assert (booking["assignee"], booking["function"]) == (MANAGER, "support")
        await svc.publish(fo.TrainingScheduled(session_id=uuid.uuid4(), client_id=client,
                                               starts_at=datetime(2026, 12, 24, 11, 0,
                                                                  tzinfo=MSK)))
        booking = one(await client_tasks(kind="training_booking"), "training_booking")
        assert (booking["state"], booking["outcome"]) == (
            "done", "training scheduled for 24.12.2026 11:00")
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE client_id = :c AND "
                                "template = 'training_invitation'", c=str(client)) == 1

        # 2. month: the invoice is mailed; overdue -> a call; paid -> the call closes itself
        invoice = uuid.uuid4()
        await svc.publish(b.InvoiceIssued(
            invoice_id=invoice, number="2026-12-0101", client_id=client, contract_id=contract,
            period="2026-12", amount=Decimal("12500.00"), vat=Decimal("2750.00"),
            total=Decimal("15250.00"), due_on=date(2026, 12, 19), email="buh@romashka.ru"))
        (mail,) = await svc.rows("SELECT template, \"to\", attachments, state FROM "
                                 "mail_delivery WHERE client_id = :c AND template = "
                                 "'invoice_issued'", c=str(client))
        assert mail == {"template": "invoice_issued", "to": "buh@romashka.ru",
                        "attachments": ["invoice_pdf"], "state": "pending"}
        await svc.publish(b.InvoiceOverdue(
            invoice_id=invoice, number="2026-12-0101", client_id=client, on=date(2026, 12, 21),
            days_overdue=2, reminder_count=1, stage="call", outstanding=Decimal("15250.00")))
        reminder = one(await client_tasks(kind="payment_reminder"), "payment_reminder")
        assert (reminder["assignee"], reminder["state"]) == (MANAGER, "open")
        await svc.publish(b.InvoicePaid(invoice_id=invoice, number="2026-12-0101",
                                        client_id=client, paid_on=date(2026, 12, 21)))
        reminder = one(await client_tasks(kind="payment_reminder"), "payment_reminder")
        assert (reminder["state"], reminder["outcome"]) == ("cancelled", "paid")

        # 3./4. amendment and suspension need nobody; termination closes the renewal call
        renewal_contract = uuid.uuid4()
        await svc.publish(c.ContractExpiring(
            contract_id=renewal_contract, number="Д-102", client_id=client,
            ends_on=date(2027, 2, 19), threshold_days=60, auto_renew=False, manager=MANAGER))
        renewal = one(await client_tasks(kind="renewal_call"), "renewal_call")
        assert (renewal["assignee"], renewal["priority"]) == (MANAGER, "normal")
        await svc.publish(c.ContractExpiring(
            contract_id=renewal_contract, number="Д-102", client_id=client,
            ends_on=date(2027, 2, 19), threshold_days=30, auto_renew=False, manager=MANAGER))
        renewal = one(await client_tasks(kind="renewal_call"), "renewal_call")
        assert renewal["priority"] == "high"  # the same task, more pressing
        before = len(await client_tasks())
        await svc.publish(c.ContractAmended(
            contract_id=contract, number="Д-101", client_id=client, amendment_id=uuid.uuid4(),
            kind="fee_change", effective_on=date(2027, 2, 1), monthly_fee=Decimal("14000.00")))
        await svc.publish(c.ContractSuspended(contract_id=contract, number="Д-101",
                                              client_id=client, effective_on=date(2027, 1, 1)))
        assert len(await client_tasks()) == before
        await svc.publish(c.ContractTerminated(contract_id=renewal_contract, number="Д-102",
                                               client_id=client, effective_on=date(2027, 2, 19)))
        renewal = one(await client_tasks(kind="renewal_call"), "renewal_call")
        assert (renewal["state"], renewal["outcome"]) == ("cancelled", "terminated")

        # 5. emergency visit late: an escalation task for the head (and a mail to the head)
        emergency = uuid.uuid4()
        await svc.publish(fo.VisitSlaBreached(work_order_id=emergency, client_id=client,
                                              due_by=date(2026, 12, 18)))
        breach = one(await client_tasks(kind="escalation"), "escalation")
        assert (breach["assignee"], breach["priority"]) == ("head", "urgent")
        assert "аварийного выезда" in breach["title"]
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE \"to\" = 'user:head' "
                                "AND client_id = :c", c=str(client)) == 1

        # 6. downtime: a call to find the cause; over 24 h the head; resolved closes the call
        incident = uuid.uuid4()
        started = datetime(2026, 12, 21, 6, 30, tzinfo=ZoneInfo("UTC"))
        await svc.publish(fo.DowntimeStarted(incident_id=incident, client_id=client,
                                             started_at=started))
        cause = one(await client_tasks(kind="downtime_cause"), "downtime_cause")
        assert (cause["assignee"], cause["priority"]) == (MANAGER, "high")
        await svc.publish(fo.DowntimeEscalated(incident_id=incident, client_id=client,
                                               started_at=started))
        assert len(await client_tasks(kind="escalation")) == 2
        await svc.publish(fo.DowntimeResolved(incident_id=incident, client_id=client))
        assert one(await client_tasks(kind="downtime_cause"), "downtime_cause")["state"] == \
            "cancelled"

        # 6. unreturned originals: a call for the manager and an escalation for the head
        await svc.publish(lg.OriginalsOverdue(delivery_id=uuid.uuid4(), client_id=client,
                                              due_on=date(2026, 12, 14)))
        assert one(await client_tasks(kind="originals_reminder"), "originals_reminder")[
            "assignee"] == MANAGER
        assert len(await client_tasks(kind="escalation")) == 3

        # approvals go to the head and close when decided
        draft = uuid.uuid4()
        await svc.publish(c.ContractSubmittedForApproval(contract_id=draft, number="Д-103",
                                                         client_id=client, manager=MANAGER))
        assert one(await client_tasks(kind="contract_approval"), "contract_approval")[
            "assignee"] == "head"
        await svc.publish(c.ContractApproved(contract_id=draft, number="Д-103", client_id=client,
                                             decided_by="head"))
        approval = one(await client_tasks(kind="contract_approval"), "contract_approval")
        assert (approval["state"], approval["outcome"]) == ("done", "approved")

        # work orders: approval for the head, control call before the visit, both close
        work_order = uuid.uuid4()
        await svc.publish(fo.WorkOrderCreated(work_order_id=work_order, journal_no="118",
                                              client_id=client, kind="install",
                                              needs_approval=True, kind_label="Установка"))
        assert one(await client_tasks(kind="work_order_approval"), "work_order_approval")[
            "assignee"] == "head"
        await svc.publish(fo.WorkOrderScheduled(
            work_order_id=work_order, client_id=client,
            scheduled_for=datetime(2026, 12, 24, 10, 0, tzinfo=MSK)))
        control = one(await client_tasks(kind="control_call"), "control_call")
        # due the morning of the visit, an hour before the technician is there
        assert (control["assignee"], control["due_at"]) == (MANAGER, "2026-12-24T06:00:00Z")
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE client_id = :c AND "
                                "template = 'visit_confirmation'", c=str(client)) == 1
        await svc.publish(fo.WorkOrderCompleted(work_order_id=work_order, client_id=client,
                                                completed_on=date(2026, 12, 24)))
        states = {t["kind"]: t["state"] for t in await client_tasks()
                  if t["kind"] in ("control_call", "work_order_approval")}
        assert states == {"control_call": "cancelled", "work_order_approval": "cancelled"}

        # claims: the lawyer answers, the manager tries to keep the client
        claim = uuid.uuid4()
        await svc.publish(c.ClaimOpened(claim_id=claim, client_id=client, subject="шлагбаум",
                                        answer_due_on=date(2026, 12, 25), lawyer="petrova",
                                        churn_risk=True))
        assert one(await client_tasks(kind="claim_answer"), "claim_answer")["assignee"] == \
            "petrova"
        assert one(await client_tasks(kind="retention_call"), "retention_call")["assignee"] == \
            MANAGER

        # onboarding feedback after training
        await svc.publish(fo.TrainingCompleted(session_id=uuid.uuid4(), client_id=client))
        assert one(await client_tasks(kind="training_feedback"), "training_feedback")[
            "function"] == "support"

        # a client without a manager: the function's queue holds the call
        orphan = await register(svc, None)
        await svc.publish(b.InvoiceOverdue(
            invoice_id=uuid.uuid4(), number="2026-12-0102", client_id=orphan,
            on=date(2026, 12, 21), days_overdue=2, reminder_count=1, stage="call",
            outstanding=Decimal("9900.00")))
        (queued,) = await svc.tasks(client_id=str(orphan))
        assert queued["assignee"] == "queue:billing"

        # the timeline shows every event about the client, in order, from every service
        r = await svc.http.get(f"/api/clients/{client}/timeline", headers=svc.head)
        producers = {e["producer"] for e in r.json()}
        assert {"contracts", "billing", "field_ops", "logistics"} <= producers
        assert len(r.json()) == await svc.scalar(
            "SELECT count(*) FROM timeline_entry WHERE client_id = :c", c=str(client))

        # replaying every event twice (redelivery, DLQ replay) changes nothing
        before_replay = await snapshot(svc)
        for _ in range(2):
            for envelope in svc.published:
                await svc.publish_envelope(envelope, wait=False)
        # a marker published last: the queue is in order, so everything before it is done
        marker = await register(svc, MANAGER)
        published = [str(e.event_id) for e in svc.published]
        assert await svc.scalar("SELECT count(*) FROM inbox_message WHERE event_id::text = "
                                "ANY(:ids)", ids=published) == len(published)
        assert await svc.scalar("SELECT count(*) FROM outbox_message") == 0  # consumes only
        after_replay = await snapshot(svc, without=marker)
        assert after_replay["tasks"] == before_replay["tasks"]
        assert after_replay["escalations"] == before_replay["escalations"]
        assert after_replay["mail"] == before_replay["mail"]
        assert after_replay["timeline"] == before_replay["timeline"]
        assert after_replay["finished"] == before_replay["finished"]
        assert after_replay["clients"] == before_replay["clients"]
