"""Turn any event into the work it creates: tasks, closures, escalations, mail, timeline."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert

from clientops_shared import projections
from clientops_shared.events import Envelope
from notifications.adapters import orm
from notifications.domain.model import MailDelivery, MailDraft
from notifications.domain.rules import PlanContext, RuleSet, apply_plan
from notifications.domain.timeline import summarize
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

CLIENT_FACTS = {"contracts.client.registered", "contracts.client.updated"}


async def _update_directory(uow: NotificationsUnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    table = orm.clients
    if envelope.type in CLIENT_FACTS:
        await projections.upsert_client(uow.session, table, uuid.UUID(p["client_id"]),
                                        name=p["name"], inn=p["inn"], email=p.get("email"),
                                        manager=p.get("manager"))
    elif envelope.type == "contracts.client.reassigned":
        row = await projections.client_row(uow.session, table, uuid.UUID(p["client_id"]))
        await projections.upsert_client(uow.session, table, uuid.UUID(p["client_id"]),
                                        name=p["name"], inn=row["inn"] if row else "",
                                        email=row["email"] if row else None,
                                        manager=p.get("manager"))
    elif envelope.type == "contracts.contract.signed":
        # signing carries the client: the task finds its manager even if this came first
        await projections.upsert_client(uow.session, table, uuid.UUID(p["client_id"]),
                                        name=p["client_name"], inn=p["client_inn"],
                                        email=p.get("client_email"), manager=p.get("manager"))


async def _queue_mail(uow: NotificationsUnitOfWork, draft: MailDraft, now: datetime,
                      client_id: str | None) -> None:
    to = draft.to.email if draft.to.email is not None else f"user:{draft.to.username}"
    delivery = MailDelivery(id=uuid.uuid4(), template=draft.template, to=to, created_at=now,
                            dedupe_key=draft.dedupe_key)
    await uow.session.execute(insert(orm.mail_delivery).values(
        id=delivery.id, template=delivery.template, to=delivery.to,
        created_at=delivery.created_at, dedupe_key=delivery.dedupe_key,
        state=delivery.state.value, attempts=0, next_attempt_at=delivery.next_attempt_at,
        max_attempts=delivery.max_attempts, context=_jsonable(draft.stored_context()),
        attachments=list(draft.attachments), client_id=client_id,
    ).on_conflict_do_nothing(index_elements=[orm.mail_delivery.c.dedupe_key]))


def _jsonable(value: object) -> object:
    import json

    return json.loads(json.dumps(value, default=str))


async def handle_event(uow: NotificationsUnitOfWork, envelope: Envelope, rules: RuleSet, *,
                       head: str, now: datetime) -> None:
    await _update_directory(uow, envelope)
    raw_client = envelope.payload.get("client_id")
    client_id = str(raw_client) if raw_client is not None else None
    row = None
    if client_id is not None:
        row = await projections.client_row(uow.session, orm.clients, uuid.UUID(client_id))
        await uow.session.execute(insert(orm.timeline_entry).values(
            event_id=envelope.event_id, client_id=client_id, at=envelope.occurred_at,
            type=envelope.type, producer=envelope.producer,
            summary=summarize(envelope.type, envelope.payload), payload=envelope.payload,
        ).on_conflict_do_nothing())
    context = PlanContext(now=now, head=head,
                          client_manager=row["manager"] if row else None,
                          client_name=row["name"] if row else None,
                          client_email=row["email"] if row else None,
                          event_id=str(envelope.event_id))
    plan = rules.plan(envelope.type, envelope.payload, context)
    if plan.is_empty:
        return
    active = await uow.active_tasks(plan.task_keys,
                                    client_id if plan.reassignments else None)
    changes = apply_plan(plan, active, now)
    for task in changes.created:
        uow.add(task)
    for escalation in plan.escalations:
        task = escalation.to_task(uuid.uuid4())
        inserted = (await uow.session.execute(insert(orm.escalation).values(
            key=escalation.key, reason=escalation.reason, head=escalation.head,
            client_id=escalation.client_id, source=escalation.source, task_id=task.id,
            raised_at=escalation.raised_at).on_conflict_do_nothing().returning(
            orm.escalation.c.key))).first()
        if inserted is not None:  # each cause escalates once
            uow.add(task)
            await _queue_mail(uow, escalation.mail(), now, escalation.client_id)
    for mail in plan.mails:
        await _queue_mail(uow, mail, now, client_id)
