"""The field-ops clock: SLA breaches and long downtimes, checked at a given moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clientops_shared.events import field_ops as ev
from field_ops.adapters import orm
from field_ops.domain.model import WorkOrderKind, WorkOrderStatus
from field_ops.service_layer import downtime, onboarding
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

JOB = "field-ops-clock"
KEEP_RUNS = timedelta(days=2)


async def breach_overdue_visits(uow: FieldOpsUnitOfWork, now: datetime) -> int:
    """Emergency orders whose window closed with no completed visit: one event each, ever."""
    w = orm.work_order.c
    stmt = (orm.work_order.select()
            .where(w.kind == WorkOrderKind.EMERGENCY.value, w.due_at <= now,
                   w.sla_breached_at.is_(None),
                   w.status.notin_([WorkOrderStatus.CANCELLED.value,
                                    WorkOrderStatus.REJECTED.value]),
                   (w.completed_at.is_(None)) | (w.completed_at > w.due_at))
            .with_for_update(skip_locked=True))
    rows = (await uow.session.execute(stmt)).mappings().all()
    for r in rows:
        await uow.session.execute(orm.work_order.update().where(w.id == r["id"])
                                  .values(sla_breached_at=now))
        uow.emit(ev.VisitSlaBreached(work_order_id=r["id"], client_id=r["client_id"],
                                     due_by=r["due_by"], due_at=r["due_at"],
                                     journal_no=r["journal_number"]))
        uow.audit("work_order.sla_breached", "work_order", r["id"],
                  after={"sla_breached_at": now})
    return len(rows)


async def tick(uow: FieldOpsUnitOfWork, now: datetime) -> dict[str, Any]:
    breached = await breach_overdue_visits(uow, now)
    escalated = await downtime.escalate_overdue(uow, now)
    scrubbed = await onboarding.scrub_sent_credentials(uow)
    # a minute's run record matters only while a replica could still start that minute
    j = uow.tables.job_run
    await uow.session.execute(j.delete().where(j.c.job == JOB,
                                               j.c.started_at < sa.func.now() - KEEP_RUNS))
    await uow.commit()
    return {"at": now.isoformat(), "sla_breached": breached, "downtime_escalated": escalated,
            "credentials_scrubbed": scrubbed}
