"""Idempotent consumption: the inbox row is inserted in the handler's own transaction."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim(session: AsyncSession, inbox: sa.Table, event_id: uuid.UUID, consumer: str,
                event_type: str) -> bool:
    """True the first time ``consumer`` sees ``event_id``; False for a redelivery.

    A concurrent duplicate waits on the primary key until the first transaction ends, then
    finds the row: the effect commits with the row or not at all.
    """
    stmt = (
        insert(inbox)
        .values(event_id=event_id, consumer=consumer, event_type=event_type)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return (await session.execute(stmt)).first() is not None
