"""The client directory every consuming service keeps: name, INN, e-mail, owning manager.

Filled from contracts events so a service can validate, authorise ("a manager sees only their
clients") and show names when contracts is down. Services register the handlers on their own
``EventHandlers`` and read it with ``client_manager`` / ``client_row``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import CurrentUser
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.messaging import EventHandlers
from clientops_shared.runtime import runtime_of
from clientops_shared.types import MAX_OFFSET
from clientops_shared.uow import UnitOfWork


def client_directory(metadata: sa.MetaData) -> sa.Table:
    if "client_directory" in metadata.tables:
        return metadata.tables["client_directory"]
    return sa.Table(
        "client_directory", metadata,
        sa.Column("client_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("inn", sa.String(12), nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("manager", sa.Text, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
    )


async def upsert_client(session: AsyncSession, table: sa.Table, client_id: uuid.UUID,
                        **values: Any) -> None:
    values = {k: v for k, v in values.items() if v is not None or k in ("manager", "email")}
    stmt = insert(table).values(client_id=client_id, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.client_id], set_={**values, "updated_at": sa.func.now()}))


async def client_row(session: AsyncSession, table: sa.Table, client_id: uuid.UUID
                     ) -> sa.RowMapping | None:
    return (await session.execute(sa.select(table).where(table.c.client_id == client_id))
            ).mappings().first()


def register(handlers: EventHandlers[Any], table: sa.Table) -> None:
    """Keep ``table`` in step with contracts' client events (and the client part of signings)."""

    @handlers.on(c.ClientRegistered)
    @handlers.on(c.ClientUpdated)
    async def client_known(event: c.ClientRegistered, envelope: Envelope, uow: UnitOfWork
                           ) -> None:
        await upsert_client(uow.session, table, event.client_id, name=event.name,
                            inn=event.inn, email=event.email, manager=event.manager)

    @handlers.on(c.ClientReassigned)
    async def client_reassigned(event: c.ClientReassigned, envelope: Envelope, uow: UnitOfWork
                                ) -> None:
        row = await client_row(uow.session, table, event.client_id)
        await upsert_client(uow.session, table, event.client_id, name=event.name,
                            inn=row["inn"] if row else "", email=row["email"] if row else None,
                            manager=event.manager)


def directory_router(table: sa.Table) -> APIRouter:
    """``GET /api/clients``: the service's own view of clients, as the caller may see them."""
    router = APIRouter(prefix="/api")

    @router.get("/clients")
    async def clients(request: Request, actor: CurrentUser,
                      limit: Annotated[int, Query(ge=1, le=500)] = 50,
                      offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
                      ) -> list[dict[str, Any]]:
        query = sa.select(table.c.client_id, table.c.name, table.c.inn, table.c.manager
                          ).order_by(table.c.name)
        if not actor.sees_all_clients:
            query = query.where(table.c.manager == actor.username)
        async with runtime_of(request).sessions() as session:
            rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
        return [dict(r) for r in rows]

    return router
