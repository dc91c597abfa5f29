"""Read side: task lists and the client timeline."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from notifications.adapters.orm import clients, task, timeline_entry


def _visible_tasks(actor: Principal) -> sa.ColumnElement[bool]:
    if actor.sees_all_clients:
        return sa.true()
    # a manager sees their own work and their own clients' work
    own_clients = sa.select(sa.cast(clients.c.client_id, sa.Text)).where(
        clients.c.manager == actor.username)
    return sa.or_(task.c.assignee == actor.username, task.c.client_id.in_(own_clients))


async def tasks(session: AsyncSession, actor: Principal, *, assignee: str | None,
                client_id: uuid.UUID | None, state: str | None, kind: str | None, limit: int,
                offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = [_visible_tasks(actor)]
    if assignee:
        where.append(task.c.assignee == assignee)
    if client_id:
        where.append(task.c.client_id == str(client_id))
    if state:
        where.append(task.c.state == state)
    if kind:
        where.append(task.c.kind == kind)
    total = (await session.execute(sa.select(sa.func.count()).select_from(task).where(*where))
             ).scalar_one()
    rows = (await session.execute(sa.select(task).where(*where)
                                  .order_by(task.c.due_at, task.c.created_at)
                                  .limit(limit).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


async def timeline(session: AsyncSession, client_id: uuid.UUID, limit: int, offset: int
                   ) -> list[dict[str, Any]]:
    rows = (await session.execute(
        sa.select(timeline_entry.c.at, timeline_entry.c.type, timeline_entry.c.summary,
                  timeline_entry.c.producer, timeline_entry.c.event_id)
        .where(timeline_entry.c.client_id == str(client_id))
        .order_by(timeline_entry.c.at, timeline_entry.c.event_id)
        .limit(limit).offset(offset))).mappings().all()
    return [dict(r) for r in rows]


async def client_manager(session: AsyncSession, client_id: uuid.UUID) -> tuple[bool, str | None]:
    row = (await session.execute(sa.select(clients.c.manager).where(
        clients.c.client_id == client_id))).first()
    return (row is not None, row.manager if row else None)
