"""Read side of billing: lists for the desk."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.orm import client_account, subscription
from clientops_shared.auth import Principal


async def subscriptions(session: AsyncSession, actor: Principal, *,
                        contract_id: uuid.UUID | None, client_id: uuid.UUID | None, limit: int,
                        offset: int) -> tuple[int, list[dict[str, Any]]]:
    where: list[sa.ColumnElement[bool]] = []
    if not actor.sees_all_clients:
        where.append(client_account.c.manager == actor.username)
    if contract_id:
        where.append(subscription.c.contract_id == contract_id)
    if client_id:
        where.append(subscription.c.client_id == client_id)
    base = (sa.select(subscription, client_account.c.name.label("client_name"))
            .join(client_account, client_account.c.client_id == subscription.c.client_id,
                  isouter=True).where(*where))
    total = (await session.execute(sa.select(sa.func.count()).select_from(base.subquery()))
             ).scalar_one()
    rows = (await session.execute(base.order_by(subscription.c.opened_at).limit(limit)
                                  .offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]
