"""Maintenance plans and parts requests (000 §11), contractors (000 §18)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from clientops_shared.auth import CurrentUser
from clientops_shared.runtime import runtime_of
from field_ops.adapters import orm
from field_ops.domain.maintenance import PERIOD_LABELS
from field_ops.entrypoints.api import schemas
from field_ops.entrypoints.api.deps import Dispatch, Field, Limit, Now, Offset, UoW
from field_ops.service_layer import contractors, maintenance

router = APIRouter(prefix="/api", tags=["maintenance", "contractors"])


def _plan(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "period_label": PERIOD_LABELS[row["period"]]}


@router.post("/maintenance-plans", status_code=201)
async def create_plan(body: schemas.PlanIn, actor: Dispatch, uow: UoW) -> dict[str, Any]:
    """N visits per month / quarter / year on a contract; orders come ``lead_days`` ahead."""
    async with uow:
        return _plan(await maintenance.create_plan(
            uow, actor, contract_id=body.contract_id, site_id=body.site_id,
            visits_per_period=body.visits, period=body.period, starts_on=body.starts_on,
            ends_on=body.ends_on, lead_days=body.lead_days, works=body.works))


@router.get("/maintenance-plans")
async def list_plans(request: Request, actor: CurrentUser, client_id: uuid.UUID | None = None,
                     contract_id: uuid.UUID | None = None, limit: Limit = 100,
                     offset: Offset = 0) -> list[dict[str, Any]]:
    p = orm.maintenance_plan.c
    query = sa.select(orm.maintenance_plan).order_by(p.created_at)
    if client_id:
        query = query.where(p.client_id == client_id)
    if contract_id:
        query = query.where(p.contract_id == contract_id)
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
    return [_plan(dict(r)) for r in rows]


@router.post("/work-orders/{order_id}/parts", status_code=201)
async def request_parts(order_id: uuid.UUID, body: schemas.PartsIn, actor: Field, uow: UoW,
                        now: Now) -> dict[str, Any]:
    """Missing parts for the visit: a purchase request to logistics (``parts.requested``)."""
    async with uow:
        return await maintenance.request_parts(
            uow, actor, order_id, lines=[line.model_dump() for line in body.lines],
            needed_by=body.needed_by, now=now)


# --- contractors ------------------------------------------------------------------------------
@router.post("/contractors", status_code=201)
async def create_contractor(body: schemas.ContractorIn, actor: Dispatch, uow: UoW
                            ) -> dict[str, Any]:
    async with uow:
        return await contractors.create(uow, body.model_dump())


@router.put("/contractors/{contractor_id}")
async def update_contractor(contractor_id: uuid.UUID, body: schemas.ContractorIn,
                            actor: Dispatch, uow: UoW) -> dict[str, Any]:
    async with uow:
        return await contractors.update(uow, contractor_id, body.model_dump())


@router.get("/contractors")
async def list_contractors(request: Request, actor: CurrentUser, active: bool | None = None
                           ) -> list[dict[str, Any]]:
    query = sa.select(orm.contractor).order_by(orm.contractor.c.name)
    if active is not None:
        query = query.where(orm.contractor.c.active.is_(active))
    async with runtime_of(request).sessions() as session:
        rows = [dict(r) for r in (await session.execute(query)).mappings()]
        for row in rows:
            row["prices"] = await contractors.prices(session, row["id"])
    return rows


@router.post("/contractors/{contractor_id}/prices", status_code=201)
async def set_price(contractor_id: uuid.UUID, body: schemas.PriceIn, actor: Dispatch,
                    uow: UoW) -> dict[str, Any]:
    """A service's price from a date (older prices stay: the price history is watched)."""
    async with uow:
        return await contractors.set_price(uow, contractor_id, service=body.service,
                                           price=body.price, effective_from=body.effective_from,
                                           note=body.note)
