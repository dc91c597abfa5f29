"""Contractors (000 §18): who they are, their contract, their prices over time."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.errors import InvalidInput, NotFound
from field_ops.adapters import orm
from field_ops.domain.model import KIND_LABELS, WorkOrderKind
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork


async def create(uow: FieldOpsUnitOfWork, values: dict[str, Any]) -> dict[str, Any]:
    row = {"id": uuid.uuid4(), **values}
    await uow.session.execute(orm.contractor.insert().values(**row))
    uow.audit("contractor.created", "contractor", row["id"], after=row)
    await uow.commit()
    return row


async def update(uow: FieldOpsUnitOfWork, contractor_id: uuid.UUID, values: dict[str, Any]
                 ) -> dict[str, Any]:
    before = await get(uow, contractor_id)
    await uow.session.execute(orm.contractor.update().where(
        orm.contractor.c.id == contractor_id).values(**values))
    uow.audit("contractor.updated", "contractor", contractor_id, before=before,
              after={**before, **values})
    await uow.commit()
    return {**before, **values}


async def get(uow: FieldOpsUnitOfWork, contractor_id: uuid.UUID) -> dict[str, Any]:
    row = await uow.row(orm.contractor, orm.contractor.c.id == contractor_id)
    if row is None:
        raise NotFound(f"Подрядчик {contractor_id} не найден")
    return dict(row)


async def set_price(uow: FieldOpsUnitOfWork, contractor_id: uuid.UUID, *,
                    service: WorkOrderKind, price: Decimal, effective_from: date,
                    note: str | None) -> dict[str, Any]:
    """A price from a date on (000 §18: prices are watched, so old ones stay)."""
    await get(uow, contractor_id)
    p = orm.contractor_price
    values = {"contractor_id": contractor_id, "service": service, "price": price,
              "effective_from": effective_from, "note": note}
    stmt = insert(p).values(**values)
    await uow.session.execute(stmt.on_conflict_do_update(
        index_elements=[p.c.contractor_id, p.c.service, p.c.effective_from],
        set_={"price": stmt.excluded.price, "note": stmt.excluded.note}))
    uow.audit("contractor.price", "contractor", contractor_id, after=values)
    await uow.commit()
    return {**values, "service": service.value, "service_label": KIND_LABELS[service.value]}


async def prices(session: Any, contractor_id: uuid.UUID) -> list[dict[str, Any]]:
    p = orm.contractor_price.c
    rows = (await session.execute(sa.select(orm.contractor_price).where(
        p.contractor_id == contractor_id).order_by(p.service, p.effective_from))).mappings()
    return [{**dict(r), "service": str(r["service"]),
             "service_label": KIND_LABELS[str(r["service"])]} for r in rows]


async def assignable(uow: FieldOpsUnitOfWork, contractor_id: uuid.UUID, kind: WorkOrderKind,
                     on: date) -> tuple[str, Decimal]:
    """An active contractor with a contract and a price for this kind of work on that day."""
    row = await uow.row(orm.contractor, orm.contractor.c.id == contractor_id)
    if row is None or not row["active"]:
        raise InvalidInput("contractor_id", "подрядчик не найден или не работает с нами")
    if not row["contract_number"]:
        raise InvalidInput("contractor_id", "с подрядчиком не заключён договор")
    p = orm.contractor_price.c
    price = (await uow.session.execute(sa.select(p.price).where(
        p.contractor_id == contractor_id, p.service == kind.value, p.effective_from <= on)
        .order_by(p.effective_from.desc()).limit(1))).scalar()
    if price is None:
        raise InvalidInput("contractor_id",
                           f"у подрядчика нет цены на «{KIND_LABELS[kind.value]}»")
    return str(row["name"]), Decimal(price)
