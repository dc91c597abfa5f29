from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request

from clientops_shared.auth import CurrentUser
from clientops_shared.runtime import runtime_of
from logistics.adapters import orm

router = APIRouter(prefix="/api")


@router.get("/clients")
async def clients(request: Request, actor: CurrentUser,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  offset: Annotated[int, Query(ge=0)] = 0) -> list[dict[str, Any]]:
    """This service's own directory of clients (from contracts events), as it sees them."""
    t = orm.clients
    query = sa.select(t.c.client_id, t.c.name, t.c.inn, t.c.manager).order_by(t.c.name)
    if not actor.sees_all_clients:
        query = query.where(t.c.manager == actor.username)
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
    return [dict(r) for r in rows]
