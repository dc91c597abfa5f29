"""What field-ops does when contracts and logistics report a fact (ARCHITECTURE flows 1, 4)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.events import contracts as c
from field_ops.adapters import orm
from field_ops.domain.maintenance import VisitPeriod
from field_ops.domain.model import WorkOrderKind, WorkOrderStatus
from field_ops.service_layer import maintenance, onboarding, work_orders
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

SYSTEM = "event:contracts"
# contracts whose signing puts our equipment on the client's site
INSTALLED_BY = frozenset({"subscription", "rent", "supply", "pilot"})


async def site_known(uow: FieldOpsUnitOfWork, event: c.SiteRegistered) -> None:
    await uow.upsert(orm.sites, ["site_id"], {
        "site_id": event.site_id, "client_id": event.client_id, "name": event.name,
        "address": event.address, "access_points": event.access_points,
        "server_format": event.server_format, "contact_name": event.contact_name,
        "contact_phone": event.contact_phone})


async def _once(uow: FieldOpsUnitOfWork, origin: str, source_id: uuid.UUID,
                order_id: uuid.UUID) -> bool:
    """Claim (origin, source) for an order made by an event; False if one exists already."""
    s = orm.work_order_source
    claimed = (await uow.session.execute(
        insert(s).values(origin=origin, source_id=source_id, work_order_id=order_id)
        .on_conflict_do_nothing().returning(s.c.work_order_id))).first()
    return claimed is not None


async def contract_signed(uow: FieldOpsUnitOfWork, event: c.ContractSigned, now: datetime
                          ) -> None:
    await uow.upsert(orm.contract_terms, ["contract_id"], {
        "contract_id": event.contract_id, "number": event.number, "client_id": event.client_id,
        "site_id": event.site_id, "kind": event.kind, "status": event.status,
        "emergency_sla_days": event.emergency_sla_days,
        "scheduled_visits": event.scheduled_visits, "visit_period": event.visit_period})
    if (event.site_id is not None and event.scheduled_visits and event.visit_period
            and event.visit_period in {p.value for p in VisitPeriod}):
        await _site_placeholder(uow, event)
        p = orm.maintenance_plan.c
        if await uow.row(orm.maintenance_plan, p.contract_id == event.contract_id) is None:
            await maintenance.open_plan(
                uow, client_id=event.client_id, site_id=event.site_id,
                contract_id=event.contract_id, visits_per_period=event.scheduled_visits,
                period=VisitPeriod(event.visit_period), starts_on=event.starts_on,
                ends_on=event.ends_on, lead_days=maintenance.DEFAULT_LEAD_DAYS, works=None,
                created_by=SYSTEM)
    await onboarding.request_tenant(uow, event)
    if event.site_id is None or event.kind not in INSTALLED_BY or event.replaces_id is not None:
        return  # nothing goes to a site; a successor (paid pilot, renewal) keeps what stands
    await _site_placeholder(uow, event)
    order_id = uuid.uuid4()
    if not await _once(uow, "contract_install", event.contract_id, order_id):
        return
    await work_orders.open_order(
        uow, client_id=event.client_id, site_id=event.site_id, kind=WorkOrderKind.INSTALL,
        description=f"Установка оборудования по договору № {event.number}",
        created_by=SYSTEM, now=now, contract_id=event.contract_id, origin="contract",
        awaiting_goods=True, order_id=order_id)


async def _site_placeholder(uow: FieldOpsUnitOfWork, event: c.ContractSigned) -> None:
    """The site's own event has not come yet: hold its place; that event fills it in."""
    if event.site_id is not None and await uow.row(
            orm.sites, orm.sites.c.site_id == event.site_id) is None:
        await uow.upsert(orm.sites, ["site_id"], {"site_id": event.site_id,
                                                  "client_id": event.client_id,
                                                  "name": "Объект", "address": ""})


async def contract_terminated(uow: FieldOpsUnitOfWork, event: c.ContractTerminated,
                              now: datetime) -> None:
    t = orm.contract_terms.c
    await uow.session.execute(orm.contract_terms.update().where(
        t.contract_id == event.contract_id).values(status="terminated",
                                                   terminated_on=event.effective_on))
    await maintenance.end_plan(uow, event.contract_id, event.effective_on)
    w = orm.work_order.c
    pending = await uow.work_orders(
        w.contract_id == event.contract_id, w.kind == WorkOrderKind.INSTALL.value,
        w.status.notin_([WorkOrderStatus.DONE.value, WorkOrderStatus.CANCELLED.value,
                         WorkOrderStatus.REJECTED.value]), for_update=True)
    for order in pending:
        await work_orders.cancel(uow, order, f"договор № {event.number} расторгнут", now)
    if event.replaced_by_id is not None:
        return  # the successor contract keeps the equipment where it is
    terms = await uow.row(orm.contract_terms, t.contract_id == event.contract_id)
    e = orm.equipment.c
    in_place = (await uow.session.execute(sa.select(e.site_id).where(
        e.removed_on.is_(None),
        (e.contract_id == event.contract_id) | (
            e.site_id == (terms["site_id"] if terms else None))).distinct())).scalars().all()
    for site_id in in_place:
        order_id = uuid.uuid4()
        if not await _once(uow, f"contract_remove:{site_id}", event.contract_id, order_id):
            continue
        await work_orders.open_order(
            uow, client_id=event.client_id, site_id=site_id, kind=WorkOrderKind.REMOVE,
            description=(f"Снятие оборудования: договор № {event.number} расторгнут с "
                         f"{event.effective_on:%d.%m.%Y}"),
            created_by=SYSTEM, now=now, contract_id=event.contract_id, origin="contract",
            order_id=order_id)
