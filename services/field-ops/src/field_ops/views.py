"""Read side: lists the desks show, straight from the tables (no aggregates loaded)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from clientops_shared.errors import NotFound
from field_ops.adapters import orm
from field_ops.domain.model import (
    EQUIPMENT_LABELS,
    INCIDENT_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    WorkOrderKind,
)

w, s, cl = orm.work_order.c, orm.sites.c, orm.clients.c

ORDER_COLUMNS = (w.id, w.journal_number, w.journal_year, w.journal_seq, w.kind, w.status,
                 w.client_id, cl.name.label("client_name"), w.site_id,
                 s.name.label("site_name"), s.address.label("site_address"), w.contract_id,
                 w.description, w.visit_on, w.window, w.technician,
                 orm.technicians.c.full_name.label("technician_name"), w.contractor_id,
                 orm.contractor.c.name.label("contractor_name"), w.agreed_price,
                 w.contact_name,
                 w.contact_phone, w.due_by, w.due_at, w.sla_breached_at, w.awaiting_goods,
                 w.reschedule_count, w.not_done_reason, w.completed_on, w.origin,
                 w.incident_id, w.created_by, w.created_at, w.approved_by, w.approved_at,
                 w.decision_reason)


def _orders() -> sa.Select[Any]:
    return (sa.select(*ORDER_COLUMNS)
            .select_from(orm.work_order.outerjoin(orm.sites, s.site_id == w.site_id)
                         .outerjoin(orm.clients, cl.client_id == w.client_id)
                         .outerjoin(orm.contractor, orm.contractor.c.id == w.contractor_id)
                         .outerjoin(orm.technicians,
                                    orm.technicians.c.username == w.technician)))


def labelled(row: sa.RowMapping) -> dict[str, Any]:
    out = dict(row)
    out["kind"] = str(out["kind"])
    out["status"] = str(out["status"])
    out["kind_label"] = KIND_LABELS[out["kind"]]
    out["status_label"] = STATUS_LABELS[out["status"]]
    return out


def _their_sites(actor: Principal) -> Any:
    """The sites a technician has (or had) orders at: what they may look up."""
    return sa.select(w.site_id).where(w.technician == actor.username)


def _visible(actor: Principal) -> list[Any]:
    if actor.role == "technician":
        return [w.technician == actor.username]
    if not actor.sees_all_clients:
        return [cl.manager == actor.username]
    return []


async def work_orders(session: AsyncSession, actor: Principal, *, technician: str | None,
                      status: list[str], client_id: uuid.UUID | None,
                      site_id: uuid.UUID | None, kind: WorkOrderKind | None,
                      visit_from: date | None, visit_to: date | None,
                      awaiting_approval: bool | None, limit: int, offset: int,
                      sla: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    where = _visible(actor)
    if sla == "running":   # emergency clocks still ticking: not done, not breached
        where += [w.due_at.is_not(None), w.sla_breached_at.is_(None),
                  w.status.notin_(["done", "cancelled", "rejected"])]
    elif sla == "breached":
        where.append(w.sla_breached_at.is_not(None))
    if technician:
        where.append(w.technician == technician)
    if status:
        where.append(w.status.in_(status))
    if client_id:
        where.append(w.client_id == client_id)
    if site_id:
        where.append(w.site_id == site_id)
    if kind:
        where.append(w.kind == kind.value)
    if visit_from:
        where.append(w.visit_on >= visit_from)
    if visit_to:
        where.append(w.visit_on <= visit_to)
    if awaiting_approval is not None:
        where.append((w.status == "draft") if awaiting_approval else (w.status != "draft"))
    query = _orders().where(*where)
    total = (await session.execute(sa.select(sa.func.count()).select_from(query.subquery()))
             ).scalar_one()
    order = (w.due_at, w.created_at) if sla else (w.visit_on.nulls_last(), w.created_at)
    rows = (await session.execute(query.order_by(*order)
                                  .limit(limit).offset(offset))).mappings().all()
    return int(total), [labelled(r) for r in rows]


async def work_order(session: AsyncSession, actor: Principal, order_id: uuid.UUID
                     ) -> dict[str, Any]:
    row = (await session.execute(_orders().where(w.id == order_id, *_visible(actor)))
           ).mappings().first()
    if row is None:
        raise NotFound(f"Заявка {order_id} не найдена")
    out = labelled(row)
    r, p = orm.work_order_report.c, orm.work_order_problem.c
    out["reports"] = [dict(x) for x in (await session.execute(
        sa.select(r.visit_on, r.outcome, r.reason, r.equipment, r.works, r.reported_by,
                  r.reported_at)
        .where(r.work_order_id == order_id).order_by(r.id))).mappings()]
    out["problems"] = [dict(x) for x in (await session.execute(
        sa.select(orm.work_order_problem).where(p.work_order_id == order_id)
        .order_by(p.reported_at))).mappings()]
    return out


async def journal(session: AsyncSession, year: int) -> list[dict[str, Any]]:
    rows = (await session.execute(_orders().where(w.journal_year == year)
                                  .order_by(w.journal_seq))).mappings().all()
    return [labelled(r) for r in rows]


async def equipment(session: AsyncSession, actor: Principal, *, site_id: uuid.UUID | None,
                    client_id: uuid.UUID | None, in_place: bool | None, limit: int, offset: int
                    ) -> list[dict[str, Any]]:
    e = orm.equipment.c
    query = (sa.select(e.id, e.type, e.serial, e.site_id, s.name.label("site_name"),
                       s.address.label("site_address"), e.client_id, e.contract_id,
                       e.installed_on, e.removed_on, e.installed_by, e.removed_by)
             .select_from(orm.equipment.outerjoin(orm.sites, s.site_id == e.site_id)
                          .outerjoin(orm.clients, cl.client_id == e.client_id)))
    if actor.role == "technician":
        query = query.where(e.site_id.in_(_their_sites(actor)))
    elif not actor.sees_all_clients:
        query = query.where(cl.manager == actor.username)
    if site_id:
        query = query.where(e.site_id == site_id)
    if client_id:
        query = query.where(e.client_id == client_id)
    if in_place is not None:
        query = query.where(e.removed_on.is_(None) if in_place else e.removed_on.is_not(None))
    rows = (await session.execute(query.order_by(e.installed_on, e.serial).limit(limit)
                                  .offset(offset))).mappings().all()
    return [{**dict(r), "type": str(r["type"]), "type_label": EQUIPMENT_LABELS[str(r["type"])]}
            for r in rows]


async def incidents(session: AsyncSession, actor: Principal, *, state: list[str],
                    client_id: uuid.UUID | None, site_id: uuid.UUID | None, limit: int,
                    offset: int, escalated: bool | None = None) -> list[dict[str, Any]]:
    d = orm.downtime_incident.c
    query = (sa.select(orm.downtime_incident, s.name.label("site_name"),
                       s.address.label("site_address"), cl.name.label("client_name"))
             .select_from(orm.downtime_incident.outerjoin(orm.sites, s.site_id == d.site_id)
                          .outerjoin(orm.clients, cl.client_id == d.client_id)))
    if actor.role == "technician":
        query = query.where(d.site_id.in_(_their_sites(actor)))
    elif not actor.sees_all_clients:
        query = query.where(cl.manager == actor.username)
    if state:
        query = query.where(d.state.in_(state))
    if escalated is not None:
        query = query.where(d.escalated_at.is_not(None) if escalated
                            else d.escalated_at.is_(None))
    if client_id:
        query = query.where(d.client_id == client_id)
    if site_id:
        query = query.where(d.site_id == site_id)
    rows = (await session.execute(query.order_by(d.started_at.desc()).limit(limit)
                                  .offset(offset))).mappings().all()
    return [incident_out(r) for r in rows]


def incident_out(row: Any) -> dict[str, Any]:
    out = dict(row) if not isinstance(row, dict) else row
    out["state"] = str(out["state"])
    out["source"] = str(out["source"])
    out["state_label"] = INCIDENT_LABELS[out["state"]]
    return out


async def sla_compliance(session: AsyncSession, *, first: date, last: date,
                         client_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """Emergency orders due in the month per client: on time, breached, still open."""
    on_time = sa.and_(w.completed_at.is_not(None), w.completed_at <= w.due_at)
    query = (sa.select(w.client_id, cl.name.label("client_name"),
                       sa.func.count().label("total"),
                       sa.func.count().filter(on_time).label("on_time"),
                       sa.func.count().filter(w.sla_breached_at.is_not(None)).label("breached"),
                       sa.func.count().filter(sa.not_(on_time), w.sla_breached_at.is_(None))
                       .label("open"))
             .select_from(orm.work_order.outerjoin(orm.clients, cl.client_id == w.client_id))
             .where(w.kind == WorkOrderKind.EMERGENCY.value, w.due_by >= first,
                    w.due_by <= last, w.status.notin_(["cancelled", "rejected"]))
             .group_by(w.client_id, cl.name).order_by(cl.name))
    if client_id:
        query = query.where(w.client_id == client_id)
    out = []
    for r in (await session.execute(query)).mappings():
        decided = r["on_time"] + r["breached"]
        out.append({**dict(r), "compliance_percent":
                    round(100 * r["on_time"] / decided, 1) if decided else None})
    return out


async def technicians(session: AsyncSession, active: bool | None) -> list[dict[str, Any]]:
    t = orm.technicians.c
    query = sa.select(orm.technicians).order_by(t.full_name)
    if active is not None:
        query = query.where(t.active.is_(active))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def sites(session: AsyncSession, actor: Principal, client_id: uuid.UUID | None,
                limit: int, offset: int) -> list[dict[str, Any]]:
    query = (sa.select(orm.sites, cl.name.label("client_name"))
             .select_from(orm.sites.outerjoin(orm.clients, cl.client_id == s.client_id)))
    if actor.role == "technician":
        query = query.where(s.site_id.in_(_their_sites(actor)))
    elif not actor.sees_all_clients:
        query = query.where(cl.manager == actor.username)
    if client_id:
        query = query.where(s.client_id == client_id)
    rows = (await session.execute(query.order_by(s.name).limit(limit).offset(offset))
            ).mappings().all()
    return [dict(r) for r in rows]
