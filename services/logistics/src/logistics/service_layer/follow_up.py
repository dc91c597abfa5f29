"""The daily follow-up both the document courier and the closing documents use: whatever is
still outstanding after its anchor date gets a reminder, then an escalation to the head —
each once (``reminded_on`` / ``escalated_on``), and the sweep runs once per date across
replicas (``clientops_shared.jobs.run_once``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from clientops_shared.events import Event
from clientops_shared.jobs import run_once
from logistics.domain.model import FollowUp
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork

Events = Callable[[LogisticsUnitOfWork, sa.RowMapping], Awaitable[tuple[Event, Event]]]
"""(reminder, escalation) events for one outstanding row."""


async def control(logistics: Logistics, *, job: str, on: date, table: sa.Table, status: str,
                  anchor: str, rule: FollowUp, events: Events) -> dict[str, Any]:
    async def work() -> dict[str, int]:
        return await _sweep(logistics, on, table, status, anchor, rule, events)

    ran, result = await run_once(logistics.engine, logistics.job_run, job, on.isoformat(),
                                 work)
    return {"ran": ran, **(result or {"reminded": 0, "escalated": 0})}


async def _sweep(logistics: Logistics, on: date, table: sa.Table, status: str, anchor: str,
                 rule: FollowUp, events: Events) -> dict[str, int]:
    reminded = escalated = 0
    t = table.c
    async with logistics.uow() as uow:
        rows = list((await uow.session.execute(sa.select(table).where(
            t.status == status, t[anchor] < on,
            sa.or_(t.reminded_on.is_(None), t.escalated_on.is_(None))
        ).order_by(t[anchor]).with_for_update(skip_locked=True))).mappings())
        for row in rows:
            remind, escalate = rule.actions(row[anchor], on,
                                            reminded=row["reminded_on"] is not None,
                                            escalated=row["escalated_on"] is not None)
            if not (remind or escalate):
                continue
            reminder, overdue = await events(uow, row)
            values: dict[str, Any] = {}
            if remind:
                uow.emit(reminder)
                values["reminded_on"] = on
                reminded += 1
            if escalate:
                uow.emit(overdue)
                values["escalated_on"] = on
                escalated += 1
            await uow.session.execute(table.update().where(t.id == row["id"]).values(**values))
        await uow.commit()
    return {"reminded": reminded, "escalated": escalated}
