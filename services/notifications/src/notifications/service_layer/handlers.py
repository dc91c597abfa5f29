"""Turn any event into the work it creates: tasks, closures, escalations, mail, timeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from clientops_shared import projections
from clientops_shared.events import Envelope
from notifications.adapters import orm
from notifications.domain.assignments import routed
from notifications.domain.model import Escalation
from notifications.domain.rules import PlanContext, apply_plan
from notifications.domain.timeline import summarize
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.mail import (
    MASK,
    carries_secret,
    queue_mail,
    queue_mail_at_commit,
    send_secret_now,
)
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

CLIENT_FACTS = {"contracts.client.registered", "contracts.client.updated"}
DIRECTORY_FACTS = CLIENT_FACTS | {"contracts.client.reassigned", "contracts.contract.signed"}


async def _update_directory(uow: NotificationsUnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    table = orm.clients
    if envelope.type in DIRECTORY_FACTS:  # the row read for the group is stale from here on
        uow.client_rows.pop(uuid.UUID(p["client_id"]), None)
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
        # signing carries a snapshot of the client: the task finds its manager even if this
        # came first, but a missing value in the snapshot never erases what the card says
        known = {k: v for k, v in (("email", p.get("client_email")),
                                   ("manager", p.get("manager"))) if v is not None}
        await projections.upsert_client(uow.session, table, uuid.UUID(p["client_id"]),
                                        name=p["client_name"], inn=p["client_inn"], **known)


def masked(payload: Mapping[str, Any], sensitive: Iterable[str]) -> dict[str, Any]:
    """The payload as it may be stored: one-time secrets replaced by a mask."""
    secret = set(sensitive)
    return {k: (MASK if k in secret and v else v) for k, v in payload.items()}


async def raise_escalations(uow: NotificationsUnitOfWork, escalations: Iterable[Escalation],
                            now: datetime) -> int:
    """A head task and a mail per cause not escalated before; the unique key decides."""
    raised = 0
    for escalation in escalations:
        task = escalation.to_task(uuid.uuid4())
        inserted = (await uow.session.execute(insert(orm.escalation).values(
            key=escalation.key, reason=escalation.reason, head=escalation.head,
            client_id=escalation.client_id, source=escalation.source, task_id=task.id,
            raised_at=escalation.raised_at).on_conflict_do_nothing().returning(
            orm.escalation.c.key))).first()
        if inserted is None:  # each cause escalates once
            continue
        uow.add(task)
        await queue_mail(uow, escalation.mail(), now, escalation.client_id)
        raised += 1
    return raised


def client_of(envelope: Envelope) -> uuid.UUID | None:
    raw = envelope.payload.get("client_id")
    try:
        return None if raw is None else uuid.UUID(str(raw))
    except ValueError:
        return None


async def read_group(uow: NotificationsUnitOfWork, envelopes: Sequence[Envelope]) -> None:
    """Before a group of events is handled in one transaction: their clients' directory rows
    in one query (each handler would otherwise read its own)."""
    await uow.read_clients(cid for cid in map(client_of, envelopes) if cid is not None)


async def handle_event(uow: NotificationsUnitOfWork, envelope: Envelope,
                       deps: Dependencies) -> None:
    now = deps.now()
    rules = deps.rules
    payload = envelope.payload
    stored = masked(payload, rules.sensitive_fields(envelope.type))
    await _update_directory(uow, envelope)
    raw_client = payload.get("client_id")
    client_id = str(raw_client) if raw_client is not None else None
    row = None
    if client_id is not None:
        row = await uow.client_row(uuid.UUID(client_id))
        # nothing reads the timeline while events are handled: it goes in set-wise at the commit
        uow.insert_later(orm.timeline_entry, {
            "event_id": envelope.event_id, "client_id": client_id, "at": envelope.occurred_at,
            "type": envelope.type, "producer": envelope.producer,
            "summary": summarize(envelope.type, stored), "payload": stored})
    manager = row["manager"] if row else None
    context = PlanContext(now=now, head=deps.head, calendar=deps.calendar,
                          client_manager=manager,
                          client_name=row["name"] if row else None,
                          client_email=row["email"] if row else None,
                          event_id=str(envelope.event_id))
    plan = rules.plan(envelope.type, payload, context)
    if plan.is_empty:
        return
    if plan.tasks:
        plan = replace(plan, tasks=tuple(routed(plan.tasks, await uow.routing_rules(),
                                                deps.head)))
    finished = await uow.finished_duties(plan.drafted_duties)
    active = await uow.active_tasks(plan.task_keys, client_id if plan.reassignments else None)
    changes = apply_plan(plan, active, now, finished=finished)
    for task in changes.created:
        uow.add(task)
    await uow.finish_duties(plan.finished_duties, now, envelope.type)
    await raise_escalations(uow, plan.escalations, now)
    for mail in plan.mails:
        if carries_secret(mail):
            await send_secret_now(uow, deps, mail, now, client_id,
                                  manager or payload.get("manager"), deps.calendar)
        else:
            queue_mail_at_commit(uow, mail, now, client_id)
