"""Work-order use cases (seed 004 §2): one transaction each, events through the outbox."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import field_ops as ev
from clientops_shared.jobs import MOSCOW, business_today
from field_ops.adapters import orm
from field_ops.domain import sla
from field_ops.domain.model import (
    INSTALLS,
    KIND_LABELS,
    REMOVES,
    Contact,
    EquipmentType,
    Outcome,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)
from field_ops.service_layer import contractors
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

WINDOW = re.compile(r"^(\d{2}):(\d{2})\s*[-–]\s*(\d{2}):(\d{2})$")
DEFAULT_VISIT_TIME = time(9, 0)


def snapshot(order: WorkOrder) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if not k.startswith("_")}


def ensure_visible(actor: Principal, order: WorkOrder) -> None:
    """A technician (or a contractor's login) sees only the orders given to them."""
    if actor.role == "technician" and order.technician != actor.username:
        raise NotFound(f"Заявка {order.id} не найдена")


async def _site(uow: FieldOpsUnitOfWork, actor: Principal, client_id: uuid.UUID,
                site_id: uuid.UUID) -> sa.RowMapping:
    client = await uow.row(orm.clients, orm.clients.c.client_id == client_id)
    if client is None or not actor.may_see_client_of(client["manager"]):
        raise InvalidInput("client_id", "клиент не найден")
    site = await uow.row(orm.sites, orm.sites.c.site_id == site_id)
    if site is None:
        raise InvalidInput("site_id", "объект не найден")
    if site["client_id"] != client_id:
        raise InvalidInput("site_id", "объект принадлежит другому клиенту")
    return site


async def _contract(uow: FieldOpsUnitOfWork, client_id: uuid.UUID,
                    contract_id: uuid.UUID | None) -> sa.RowMapping | None:
    if contract_id is None:
        return None
    row = await uow.row(orm.contract_terms, orm.contract_terms.c.contract_id == contract_id)
    if row is None or row["client_id"] != client_id:
        raise InvalidInput("contract_id", "договор клиента не найден")
    return row


async def _contract_for_site(uow: FieldOpsUnitOfWork, site_id: uuid.UUID
                             ) -> sa.RowMapping | None:
    t = orm.contract_terms.c
    rows = await uow.rows(orm.contract_terms, t.site_id == site_id, t.status != "terminated",
                          order_by=t.updated_at.desc())
    return rows[0] if rows else None


def created_event(order: WorkOrder) -> ev.WorkOrderCreated:
    return ev.WorkOrderCreated(
        work_order_id=order.id, journal_no=order.journal_number or "", client_id=order.client_id,
        site_id=order.site_id, kind=order.kind.value, needs_approval=True, due_by=order.due_by,
        kind_label=KIND_LABELS[order.kind.value], contract_id=order.contract_id,
        description=order.description, due_at=order.due_at)


async def open_order(uow: FieldOpsUnitOfWork, *, client_id: uuid.UUID, site_id: uuid.UUID,
                     kind: WorkOrderKind, description: str, created_by: str, now: datetime,
                     contract_id: uuid.UUID | None = None, origin: str = "manual",
                     awaiting_goods: bool = False, incident_id: uuid.UUID | None = None,
                     order_id: uuid.UUID | None = None) -> WorkOrder:
    """A draft with an open date (004 §2.1), sent to the head for signing. No commit."""
    terms = await _contract(uow, client_id, contract_id) if contract_id else None
    order = WorkOrder(client_id=client_id, site_id=site_id, kind=kind, description=description,
                      created_by=created_by, contract_id=contract_id, origin=origin,
                      awaiting_goods=awaiting_goods, incident_id=incident_id,
                      created_at=now, updated_at=now)
    if order_id is not None:
        order.id = order_id
    if kind is WorkOrderKind.EMERGENCY:
        terms = terms or await _contract_for_site(uow, site_id)
        deadline = sla.deadline(now, terms["emergency_sla_days"] if terms else None)
        order.due_by, order.due_at = deadline.due_by, deadline.due_at
        if order.contract_id is None and terms is not None:
            order.contract_id = terms["contract_id"]
    uow.add(order)
    uow.emit(created_event(order))
    uow.audit("work_order.created", "work_order", order.id, after=snapshot(order))
    return order


async def create(uow: FieldOpsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                 site_id: uuid.UUID, kind: WorkOrderKind, description: str,
                 contract_id: uuid.UUID | None, awaiting_goods: bool, now: datetime
                 ) -> WorkOrder:
    await _site(uow, actor, client_id, site_id)
    await _contract(uow, client_id, contract_id)
    order = await open_order(uow, client_id=client_id, site_id=site_id, kind=kind,
                             description=description, created_by=actor.username, now=now,
                             contract_id=contract_id, awaiting_goods=awaiting_goods)
    await uow.commit()
    return order


async def approve(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID,
                  now: datetime) -> WorkOrder:
    """004 §2.2–2.3: signed by the head and registered in the journal in one transaction."""
    order = await uow.work_order(order_id, for_update=True)
    before = snapshot(order)
    order.check_approvable()
    year = business_today(now).year
    seq = await uow.next_journal_seq(year)
    order.approve(by=actor.username, year=year, seq=seq, at=now)
    assert order.journal_number is not None
    uow.emit(ev.WorkOrderApproved(work_order_id=order.id, journal_no=order.journal_number,
                                  client_id=order.client_id, site_id=order.site_id,
                                  kind=order.kind.value, approved_by=actor.username))
    uow.audit("work_order.approved", "work_order", order.id, before=before,
              after=snapshot(order))
    await uow.commit()
    return order


async def reject(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID, reason: str,
                 now: datetime) -> WorkOrder:
    order = await uow.work_order(order_id, for_update=True)
    before = snapshot(order)
    order.reject(by=actor.username, reason=reason, at=now)
    uow.emit(ev.WorkOrderRejected(work_order_id=order.id, client_id=order.client_id,
                                  decided_by=actor.username, reason=reason))
    uow.audit("work_order.rejected", "work_order", order.id, before=before,
              after=snapshot(order))
    await uow.commit()
    return order


async def cancel(uow: FieldOpsUnitOfWork, order: WorkOrder, reason: str, now: datetime) -> None:
    """No commit: also used by the event handlers."""
    before = snapshot(order)
    order.cancel(reason=reason, at=now)
    uow.emit(ev.WorkOrderCancelled(work_order_id=order.id, client_id=order.client_id,
                                   reason=reason))
    uow.audit("work_order.cancelled", "work_order", order.id, before=before,
              after=snapshot(order))


async def cancel_by_hand(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID,
                         reason: str, now: datetime) -> WorkOrder:
    order = await uow.work_order(order_id, for_update=True)
    await cancel(uow, order, reason, now)
    await uow.commit()
    return order


def visit_start(visit_on: date, window: str | None) -> datetime:
    start = DEFAULT_VISIT_TIME
    if window:
        m = WINDOW.match(window.strip())
        if m is None:
            raise InvalidInput("window", "окно выезда в виде 09:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60) or (h1, m1) >= (h2, m2):
            raise InvalidInput("window", "окно выезда в виде 09:00-12:00, начало раньше конца")
        start = time(h1, m1)
    return datetime.combine(visit_on, start, tzinfo=MOSCOW)


async def technician(uow: FieldOpsUnitOfWork, username: str) -> sa.RowMapping:
    row = await uow.row(orm.technicians, orm.technicians.c.username == username)
    if row is None or not row["active"]:
        raise InvalidInput("technician", "такого техника нет (или он не работает)")
    return row


async def schedule(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                   visit_on: date, window: str | None, contact: Contact,
                   technician_name: str | None, now: datetime,
                   contractor_id: uuid.UUID | None = None) -> WorkOrder:
    """004 §2.4 (and 2.11 when it is moved): date, window, site contact, and our technician
    or a contractor (000 §18) at the contractor's price for that kind of work on that day."""
    scheduled_for = visit_start(visit_on, window)
    if technician_name is not None:
        await technician(uow, technician_name)
    order = await uow.work_order(order_id, for_update=True)
    contractor_name, price = None, None
    if contractor_id is not None:
        contractor_name, price = await contractors.assignable(uow, contractor_id, order.kind,
                                                              visit_on)
    before = snapshot(order)
    again = order.schedule(visit_on=visit_on, window=window, contact=contact,
                           technician=technician_name, today=business_today(now), at=now,
                           contractor_id=contractor_id, agreed_price=price)
    uow.emit(ev.WorkOrderScheduled(
        work_order_id=order.id, client_id=order.client_id, scheduled_for=scheduled_for,
        journal_no=order.journal_number, kind=order.kind.value,
        kind_label=KIND_LABELS[order.kind.value], site_id=order.site_id, visit_on=visit_on,
        window=window, technician=technician_name, contact_name=contact.name,
        contact_phone=contact.phone, reschedule_count=order.reschedule_count,
        contractor_id=contractor_id, contractor_name=contractor_name))
    uow.audit("work_order.rescheduled" if again else "work_order.scheduled", "work_order",
              order.id, before=before, after=snapshot(order))
    await uow.commit()
    return order


async def report(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                 outcome: Outcome, reason: str | None, equipment: list[dict[str, Any]],
                 now: datetime, works: list[str] | None = None) -> WorkOrder:
    """004 §2.10: the end-of-day report, marked in the journal; equipment register follows."""
    order = await uow.work_order(order_id, for_update=True)
    ensure_visible(actor, order)
    before = snapshot(order)
    today = business_today(now)
    visit_on = order.visit_on
    order.report(outcome=outcome, reason=reason, on=today, at=now)
    await uow.session.execute(orm.work_order_report.insert().values(
        work_order_id=order.id, visit_on=visit_on, outcome=outcome.value, reason=reason,
        equipment=equipment, works=works or [], reported_by=actor.username, reported_at=now))
    if outcome is Outcome.DONE:
        await _register_equipment(uow, order, equipment, today)
        uow.emit(ev.WorkOrderCompleted(work_order_id=order.id, client_id=order.client_id,
                                       completed_on=today, site_id=order.site_id,
                                       kind=order.kind.value, journal_no=order.journal_number))
    else:
        assert reason is not None
        uow.emit(ev.WorkOrderFailed(work_order_id=order.id, client_id=order.client_id,
                                    reason=reason, journal_no=order.journal_number,
                                    reschedule_count=order.reschedule_count))
    uow.audit("work_order.reported", "work_order", order.id, before=before,
              after=snapshot(order))
    await uow.commit()
    return order


async def _register_equipment(uow: FieldOpsUnitOfWork, order: WorkOrder,
                              items: list[dict[str, Any]], on: date) -> None:
    """Installs put the reported serials on the site; removals take them (or all) off."""
    e = orm.equipment.c
    installs = [i for i in items if i.get("action", _default_action(order.kind)) == "install"]
    removals = [i for i in items if i.get("action", _default_action(order.kind)) == "remove"]
    if order.kind in INSTALLS and not installs:
        raise InvalidInput("equipment", "укажите установленное оборудование и серийные номера")
    if order.kind in REMOVES and not removals:
        removals = [dict(r) for r in await uow.rows(
            orm.equipment, e.site_id == order.site_id, e.removed_on.is_(None))]
    for item in removals:
        row = await uow.row(orm.equipment, e.serial == item["serial"], e.removed_on.is_(None))
        if row is None or row["site_id"] != order.site_id:
            raise InvalidInput("equipment", f"на объекте нет оборудования № {item['serial']}")
        await uow.session.execute(orm.equipment.update().where(e.id == row["id"]).values(
            removed_on=on, removed_by=order.id))
        uow.emit(ev.EquipmentRemoved(
            equipment_id=row["id"], client_id=row["client_id"], site_id=row["site_id"],
            contract_id=row["contract_id"], installed_on=on, type=row["type"],
            serial=row["serial"], work_order_id=order.id))
    for item in installs:
        if await uow.row(orm.equipment, e.serial == item["serial"], e.removed_on.is_(None)):
            raise InvalidInput("equipment", f"оборудование № {item['serial']} уже установлено")
        equipment_id = uuid.uuid4()
        await uow.session.execute(orm.equipment.insert().values(
            id=equipment_id, client_id=order.client_id, site_id=order.site_id,
            contract_id=order.contract_id, type=EquipmentType(item["type"]),
            serial=item["serial"], installed_on=on, installed_by=order.id))
        uow.emit(ev.EquipmentInstalled(
            equipment_id=equipment_id, client_id=order.client_id, site_id=order.site_id,
            contract_id=order.contract_id, installed_on=on, type=item["type"],
            serial=item["serial"], work_order_id=order.id))


def _default_action(kind: WorkOrderKind) -> str:
    return "remove" if kind in REMOVES else "install"


async def report_problem(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID,
                         description: str, now: datetime) -> dict[str, Any]:
    """004 §2.9: a problem on site goes to the head for a decision."""
    order = await uow.work_order(order_id, for_update=True)
    ensure_visible(actor, order)
    if order.status not in (WorkOrderStatus.APPROVED, WorkOrderStatus.SCHEDULED):
        raise Conflict("Сообщить о проблеме можно по назначенной заявке",
                       current_state=order.status.value)
    problem_id = uuid.uuid4()
    await uow.session.execute(orm.work_order_problem.insert().values(
        id=problem_id, work_order_id=order.id, description=description,
        reported_by=actor.username, reported_at=now))
    uow.emit(ev.WorkOrderProblemReported(
        problem_id=problem_id, work_order_id=order.id, client_id=order.client_id,
        journal_no=order.journal_number, description=description, reported_by=actor.username))
    uow.audit("work_order.problem_reported", "work_order", order.id,
              after={"problem_id": problem_id, "description": description})
    await uow.commit()
    return {"id": problem_id, "work_order_id": order.id, "description": description,
            "reported_by": actor.username, "reported_at": now, "decision": None,
            "decided_by": None, "decided_at": None}


async def decide_problem(uow: FieldOpsUnitOfWork, actor: Principal, problem_id: uuid.UUID,
                         decision: str, now: datetime) -> dict[str, Any]:
    p = orm.work_order_problem
    row = (await uow.session.execute(sa.select(p).where(p.c.id == problem_id).with_for_update())
           ).mappings().first()
    if row is None:
        raise NotFound(f"Проблема {problem_id} не найдена")
    if row["decision"] is not None:
        raise Conflict("Решение по проблеме уже принято", current_state="decided")
    order = await uow.work_order(row["work_order_id"])
    await uow.session.execute(p.update().where(p.c.id == problem_id).values(
        decision=decision, decided_by=actor.username, decided_at=now))
    uow.emit(ev.WorkOrderProblemDecided(problem_id=problem_id, work_order_id=order.id,
                                        client_id=order.client_id, decision=decision,
                                        decided_by=actor.username))
    uow.audit("work_order.problem_decided", "work_order", order.id,
              after={"problem_id": problem_id, "decision": decision})
    await uow.commit()
    return {**dict(row), "decision": decision, "decided_by": actor.username, "decided_at": now}


async def goods_delivered(uow: FieldOpsUnitOfWork, client_id: uuid.UUID,
                          site_id: uuid.UUID | None, now: datetime,
                          work_order_id: uuid.UUID | None = None) -> list[WorkOrder]:
    """A delivered shipment makes the installs waiting for goods schedulable: the order it was
    made for, else the site's (or, without a site, the client's) waiting orders."""
    w = orm.work_order.c
    where = [w.awaiting_goods.is_(True), w.client_id == client_id,
             w.status.notin_([s.value for s in (WorkOrderStatus.DONE, WorkOrderStatus.CANCELLED,
                                                WorkOrderStatus.REJECTED)])]
    if work_order_id is not None:
        where.append(w.id == work_order_id)
    elif site_id is not None:
        where.append(w.site_id == site_id)
    orders = await uow.work_orders(*where, for_update=True)
    for order in orders:
        order.goods_delivered(now)
        uow.audit("work_order.goods_delivered", "work_order", order.id,
                  after={"awaiting_goods": False})
    return orders
