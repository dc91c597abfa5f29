"""Maintenance plans (000 §11): visits generated as orders ahead of time; parts requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import field_ops as ev
from field_ops.adapters import orm
from field_ops.domain.maintenance import PERIOD_LABELS, VisitPeriod, visits
from field_ops.domain.model import WorkOrderKind, WorkOrderStatus, illegal
from field_ops.service_layer import work_orders
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

DEFAULT_LEAD_DAYS = 14


async def open_plan(uow: FieldOpsUnitOfWork, *, client_id: uuid.UUID, site_id: uuid.UUID,
                    contract_id: uuid.UUID | None, visits_per_period: int,
                    period: VisitPeriod, starts_on: date, ends_on: date | None,
                    lead_days: int, works: str | None, created_by: str) -> dict[str, Any]:
    """No commit. One plan per contract (a repeated event changes nothing)."""
    values = {"id": uuid.uuid4(), "contract_id": contract_id, "client_id": client_id,
              "site_id": site_id, "visits": visits_per_period, "period": period.value,
              "starts_on": starts_on, "ends_on": ends_on, "lead_days": lead_days,
              "works": works, "created_by": created_by}
    p = orm.maintenance_plan
    stmt = insert(p).values(**values)
    if contract_id is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[p.c.contract_id])
    created = (await uow.session.execute(stmt.returning(p.c.id))).first()
    if created is None:
        raise Conflict("У договора уже есть план обслуживания", current_state="exists")
    uow.audit("maintenance_plan.opened", "maintenance_plan", values["id"], after=values)
    return values


async def create_plan(uow: FieldOpsUnitOfWork, actor: Principal, *, contract_id: uuid.UUID,
                      site_id: uuid.UUID | None, visits_per_period: int, period: VisitPeriod,
                      starts_on: date, ends_on: date | None, lead_days: int,
                      works: str | None) -> dict[str, Any]:
    terms = await uow.row(orm.contract_terms, orm.contract_terms.c.contract_id == contract_id)
    if terms is None or terms["status"] == "terminated":
        raise InvalidInput("contract_id", "действующий договор не найден")
    site_id = site_id or terms["site_id"]
    if site_id is None:
        raise InvalidInput("site_id", "укажите объект")
    site = await uow.row(orm.sites, orm.sites.c.site_id == site_id)
    if site is None or site["client_id"] != terms["client_id"]:
        raise InvalidInput("site_id", "объект клиента не найден")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on", "план не может закончиться раньше начала")
    plan = await open_plan(uow, client_id=terms["client_id"], site_id=site_id,
                           contract_id=contract_id, visits_per_period=visits_per_period,
                           period=period, starts_on=starts_on, ends_on=ends_on,
                           lead_days=lead_days, works=works, created_by=actor.username)
    await uow.commit()
    return plan


async def end_plan(uow: FieldOpsUnitOfWork, contract_id: uuid.UUID, on: date) -> None:
    p = orm.maintenance_plan.c
    await uow.session.execute(orm.maintenance_plan.update().where(
        p.contract_id == contract_id, (p.ends_on.is_(None)) | (p.ends_on > on)).values(
        ends_on=on))


async def generate(uow: FieldOpsUnitOfWork, today: date, now: datetime) -> int:
    """Drafts for every planned visit due within its plan's lead time, once per visit."""
    made = 0
    for plan in await uow.rows(orm.maintenance_plan):
        until = today + timedelta(days=plan["lead_days"])
        for visit in visits(starts_on=plan["starts_on"], ends_on=plan["ends_on"],
                            per_period=plan["visits"], period=VisitPeriod(plan["period"]),
                            until=until):
            if visit.on < today:
                continue  # a plan opened late does not invent visits in the past
            order_id = uuid.uuid4()
            v = orm.maintenance_visit
            claimed = (await uow.session.execute(
                insert(v).values(plan_id=plan["id"], planned_on=visit.on,
                                 work_order_id=order_id)
                .on_conflict_do_nothing().returning(v.c.work_order_id))).first()
            if claimed is None:
                continue
            label = PERIOD_LABELS[plan["period"]]
            text = (f"Плановое обслуживание {visit.on:%d.%m.%Y}: визит {visit.number} из "
                    f"{visit.of} за {label}")
            if plan["works"]:
                text += f". Работы: {plan['works']}"
            await work_orders.open_order(
                uow, client_id=plan["client_id"], site_id=plan["site_id"],
                kind=WorkOrderKind.MAINTENANCE, description=text, created_by="system:plan",
                now=now, contract_id=plan["contract_id"], origin="plan", order_id=order_id)
            made += 1
    return made


async def request_parts(uow: FieldOpsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                        lines: list[dict[str, Any]], needed_by: date | None,
                        now: datetime) -> dict[str, Any]:
    """Parts the visit needs and we lack: logistics gets ``field_ops.parts.requested``."""
    order = await uow.work_order(order_id, for_update=True)
    work_orders.ensure_visible(actor, order)
    if order.status in (WorkOrderStatus.DONE, WorkOrderStatus.CANCELLED,
                        WorkOrderStatus.REJECTED):
        raise illegal(order, "заказать детали")
    if needed_by is not None and needed_by < now.date():
        raise InvalidInput("needed_by", "дата уже прошла")
    request_id = uuid.uuid4()
    await uow.session.execute(orm.parts_request.insert().values(
        id=request_id, work_order_id=order.id, lines=lines, needed_by=needed_by,
        requested_by=actor.username, requested_at=now))
    uow.emit(ev.PartsRequested(request_id=request_id, work_order_id=order.id,
                               client_id=order.client_id, site_id=order.site_id, lines=lines,
                               needed_by=needed_by))
    uow.audit("work_order.parts_requested", "work_order", order.id,
              after={"request_id": request_id, "lines": lines})
    await uow.commit()
    return {"id": request_id, "work_order_id": order.id, "lines": lines, "needed_by": needed_by}


async def plan_or_404(uow: FieldOpsUnitOfWork, plan_id: uuid.UUID) -> dict[str, Any]:
    row = await uow.row(orm.maintenance_plan, orm.maintenance_plan.c.id == plan_id)
    if row is None:
        raise NotFound(f"План {plan_id} не найден")
    return dict(row)
