"""The client directory every consuming service keeps: name, INN, e-mail, owning manager.

Filled from contracts events so a service can validate, authorise ("a manager sees only their
clients") and show names when contracts is down. Services register the handlers on their own
``EventHandlers`` and read it with ``client_manager`` / ``client_row``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.messaging import EventHandlers
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
