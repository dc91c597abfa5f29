"""Read side: lists for the desks (plain SQL over the contracts tables)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from contracts.adapters.orm import client, contract


def _visible(actor: Principal) -> sa.ColumnElement[bool]:
    return sa.true() if actor.sees_all_clients else client.c.manager == actor.username


async def clients(session: AsyncSession, actor: Principal, *, q: str | None, manager: str | None,
                  unassigned: bool, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = [_visible(actor)]
    if q:
        like = f"%{q.lower()}%"
        where.append(sa.or_(sa.func.lower(client.c.name).like(like), client.c.inn.like(f"{q}%")))
    if manager:
        where.append(client.c.manager == manager)
    if unassigned:
        where.append(client.c.manager.is_(None))
    total = (await session.execute(sa.select(sa.func.count()).select_from(client)
                                   .where(*where))).scalar_one()
    rows = (await session.execute(sa.select(client).where(*where).order_by(client.c.name)
                                  .limit(limit).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


async def contracts(session: AsyncSession, actor: Principal, *, client_id: uuid.UUID | None,
                    status: str | None, limit: int, offset: int
                    ) -> tuple[int, list[dict[str, Any]]]:
    where = [_visible(actor)]
    if client_id:
        where.append(contract.c.client_id == client_id)
    if status:
        where.append(contract.c.status == status)
    base = sa.select(contract).join(client, client.c.id == contract.c.client_id).where(*where)
    total = (await session.execute(sa.select(sa.func.count()).select_from(base.subquery())
                                   )).scalar_one()
    rows = (await session.execute(base.order_by(contract.c.number).limit(limit).offset(offset))
            ).mappings().all()
    return total, [dict(r) for r in rows]


async def expiring(session: AsyncSession, actor: Principal, today: date, within_days: int
                   ) -> list[dict[str, Any]]:
    horizon = date.fromordinal(today.toordinal() + within_days)
    rows = (await session.execute(
        sa.select(contract.c.id, contract.c.number, contract.c.client_id, contract.c.ends_on,
                  contract.c.auto_renew, client.c.name.label("client_name"), client.c.manager)
        .join(client, client.c.id == contract.c.client_id)
        .where(_visible(actor), contract.c.status.in_(("signed", "active", "suspended")),
               contract.c.ends_on.is_not(None), contract.c.ends_on >= today,
               contract.c.ends_on <= horizon)
        .order_by(contract.c.ends_on, contract.c.number))).mappings().all()
    return [{**dict(r), "days_left": (r["ends_on"] - today).days,
             "action": "auto_renew" if r["auto_renew"] else "re_sign"} for r in rows]
