"""Downtime incidents (seed 004 §7): reported, cause found by a call, resolved, escalated."""

from __future__ import annotations

import uuid
from datetime import datetime

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput
from clientops_shared.events import field_ops as ev
from field_ops.adapters import orm
from field_ops.domain.model import (
    DowntimeIncident,
    IncidentSource,
    IncidentState,
    WorkOrder,
    WorkOrderKind,
)
from field_ops.domain.sla import DOWNTIME_ESCALATION
from field_ops.service_layer import work_orders
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

REPAIR_KINDS = frozenset({WorkOrderKind.REPAIR, WorkOrderKind.REPLACE, WorkOrderKind.REPAINT,
                          WorkOrderKind.REINFORCE, WorkOrderKind.EMERGENCY})


def snapshot(incident: DowntimeIncident) -> dict[str, object]:
    return {k: v for k, v in vars(incident).items() if not k.startswith("_")}


async def report(uow: FieldOpsUnitOfWork, actor: Principal, *, site_id: uuid.UUID,
                 serial: str | None, started_at: datetime, source: IncidentSource,
                 description: str | None, now: datetime) -> DowntimeIncident:
    site = await uow.row(orm.sites, orm.sites.c.site_id == site_id)
    client = site and await uow.row(orm.clients, orm.clients.c.client_id == site["client_id"])
    if site is None or (actor.role == "manager" and not actor.may_see_client_of(
            client["manager"] if client else None)):
        raise InvalidInput("site_id", "объект не найден")
    if started_at > now:
        raise InvalidInput("started_at", "простой не может начаться в будущем")
    if serial is not None:
        e = orm.equipment.c
        row = await uow.row(orm.equipment, e.serial == serial, e.removed_on.is_(None))
        if row is None or row["site_id"] != site_id:
            raise InvalidInput("serial", "на объекте нет оборудования с таким номером")
    incident = DowntimeIncident(client_id=site["client_id"], site_id=site_id,
                                started_at=started_at, source=source,
                                reported_by=actor.username, serial=serial,
                                description=description, created_at=now)
    uow.add(incident)
    uow.emit(ev.DowntimeStarted(incident_id=incident.id, client_id=incident.client_id,
                                site_id=site_id, started_at=started_at))
    uow.audit("downtime.reported", "downtime", incident.id, after=snapshot(incident))
    await uow.commit()
    return incident


async def record_cause(uow: FieldOpsUnitOfWork, incident_id: uuid.UUID, cause: str
                       ) -> DowntimeIncident:
    incident = await uow.incident(incident_id, for_update=True)
    before = snapshot(incident)
    incident.record_cause(cause)
    uow.audit("downtime.cause", "downtime", incident.id, before=before, after=snapshot(incident))
    await uow.commit()
    return incident


async def resolve(uow: FieldOpsUnitOfWork, incident_id: uuid.UUID, *, at: datetime,
                  cause: str | None, now: datetime) -> DowntimeIncident:
    if at > now:
        raise InvalidInput("resolved_at", "время устранения ещё не наступило")
    incident = await uow.incident(incident_id, for_update=True)
    before = snapshot(incident)
    incident.resolve(at, cause)
    uow.emit(ev.DowntimeResolved(incident_id=incident.id, client_id=incident.client_id,
                                 cause=incident.cause))
    uow.audit("downtime.resolved", "downtime", incident.id, before=before,
              after=snapshot(incident))
    await uow.commit()
    return incident


async def start_order(uow: FieldOpsUnitOfWork, actor: Principal, incident_id: uuid.UUID, *,
                      kind: WorkOrderKind, description: str, now: datetime) -> WorkOrder:
    """004 §7.4: a repair / replacement / repaint / reinforcement from the incident."""
    if kind not in REPAIR_KINDS:
        raise InvalidInput("kind", "из простоя открывается ремонт, замена, покраска, "
                                   "укрепление или аварийный выезд")
    incident = await uow.incident(incident_id, for_update=True)
    if incident.state is IncidentState.RESOLVED:
        raise Conflict("Простой уже устранён", current_state=incident.state.value)
    order = await work_orders.open_order(
        uow, client_id=incident.client_id, site_id=incident.site_id, kind=kind,
        description=description, created_by=actor.username, now=now, origin="downtime",
        incident_id=incident.id)
    await uow.commit()
    return order


async def escalate_overdue(uow: FieldOpsUnitOfWork, now: datetime) -> int:
    """Open longer than 24 h → the head hears of it, exactly once per incident."""
    d = orm.downtime_incident.c
    stmt = (orm.downtime_incident.select()
            .where(d.state != IncidentState.RESOLVED.value, d.escalated_at.is_(None),
                   d.started_at <= now - DOWNTIME_ESCALATION)
            .with_for_update(skip_locked=True))
    rows = (await uow.session.execute(stmt)).mappings().all()
    for r in rows:
        await uow.session.execute(orm.downtime_incident.update().where(d.id == r["id"])
                                  .values(escalated_at=now))
        uow.emit(ev.DowntimeEscalated(incident_id=r["id"], client_id=r["client_id"],
                                      site_id=r["site_id"], started_at=r["started_at"]))
        uow.audit("downtime.escalated", "downtime", r["id"], after={"escalated_at": now})
    return len(rows)
