"""Periodic work: escalate overdue tasks (once per task), wake snoozed ones, daily digests.

Each job takes the moment it runs for (the clock by default), so operators and tests can run
it for a given time over the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared.jobs import run_once
from notifications.adapters import orm
from notifications.domain.model import (
    ACTIVE_STATES,
    MOSCOW,
    MailDraft,
    Recipient,
    Task,
    TaskState,
    is_queue,
)
from notifications.domain.rules import PlanContext
from notifications.domain.workload import daily_digest
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.handlers import raise_escalations
from notifications.service_layer.mail import queue_mail
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

UowFactory = Callable[[], NotificationsUnitOfWork]
DIGEST_JOB = "daily-digest"


async def sweep_overdue(uow_factory: UowFactory, deps: Dependencies,
                        at: datetime | None = None) -> dict[str, int]:
    """Wake snoozed tasks whose time came; escalate open tasks past due, once per task."""
    now = at or deps.now()
    async with uow_factory() as uow:
        woken = sum(task.wake_if_due(now) for task in await uow.snoozed_due(now))
        overdue = await uow.overdue_unescalated(now, deps.head)
        context = PlanContext(now=now, head=deps.head, calendar=deps.calendar)
        raised = await raise_escalations(uow, deps.rules.overdue_escalations(overdue, context),
                                         now)
        await uow.commit()
    return {"woken": woken, "escalated": raised}


def _task_view(task: Task) -> dict[str, Any]:
    return {"title": task.title, "due_at": task.due_at, "priority": str(task.priority),
            "client_id": task.client_id, "kind": task.kind}


async def _people_with_work(uow: NotificationsUnitOfWork) -> list[str]:
    """Everyone holding active tasks, except people the directory says want no digest."""
    t, staff = orm.task, orm.staff_member
    opted_out = sa.select(staff.c.username).where(
        sa.or_(staff.c.digest.is_(False), staff.c.active.is_(False)))
    rows = await uow.session.execute(sa.select(t.c.assignee).distinct().where(
        t.c.state.in_([s.value for s in ACTIVE_STATES]), t.c.assignee.not_in(opted_out))
        .order_by(t.c.assignee))
    return [r.assignee for r in rows if not is_queue(r.assignee)]


async def _digest_for(uow_factory: UowFactory, deps: Dependencies, person: str,
                      now: datetime) -> dict[str, Any]:
    day = now.astimezone(MOSCOW).date()
    previous = deps.calendar.step(day, -1)
    since = datetime.combine(previous, time(0), tzinfo=MOSCOW)
    t = orm.task
    async with uow_factory() as uow:
        tasks = list((await uow.session.execute(sa.select(Task).where(
            t.c.assignee == person,
            sa.or_(t.c.state == TaskState.OPEN,
                   sa.and_(t.c.state == TaskState.DONE, t.c.done_at >= since))))).scalars())
        digest = daily_digest(person, tasks, now, deps.calendar)
        if not (digest.overdue or digest.due_today or digest.later):
            return {"queued": False}
        context = digest.mail_context()
        for name in ("overdue", "due_today", "later"):
            context[name] = [_task_view(task) for task in context[name]]
        draft = MailDraft(template="daily_digest", to=Recipient(username=person),
                          context=context, dedupe_key=f"daily_digest:{person}:{day}")
        queued = await queue_mail(uow, draft, now, None)
        await uow.commit()
    return {"queued": queued is not None, "overdue": len(digest.overdue),
            "due_today": len(digest.due_today)}


async def daily_digests(engine: AsyncEngine, uow_factory: UowFactory, deps: Dependencies,
                        at: datetime | None = None, *, force: bool = False) -> dict[str, Any]:
    """Each person's morning list, once per person per working day (across replicas)."""
    now = at or deps.now()
    local = now.astimezone(MOSCOW)
    day = local.date()
    # a morning list: sent from digest_hour, or up to four hours late after an outage
    morning = deps.digest_hour <= local.hour < deps.digest_hour + 4
    if not force and (not deps.calendar.is_working_day(day) or not morning):
        return {"day": str(day), "people": 0, "queued": 0, "skipped": "not digest time"}
    async with uow_factory() as uow:
        people = await _people_with_work(uow)
    job_run = uow.tables.job_run
    queued = 0
    for person in people:
        async def work(person: str = person) -> dict[str, Any]:
            return await _digest_for(uow_factory, deps, person, now)

        ran, result = await run_once(engine, job_run, DIGEST_JOB, f"{day}:{person}", work)
        if ran and result and result.get("queued"):
            queued += 1
    return {"day": str(day), "people": len(people), "queued": queued}
