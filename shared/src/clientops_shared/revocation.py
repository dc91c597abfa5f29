"""Nobody keeps access they lost: per-user token versions every service checks.

Web bumps a user's token version when the account is deactivated, its role changes or its
password is reset, and publishes ``web.user.deactivated`` / ``web.user.changed`` through its
outbox. Every consuming service stores the highest version per user in ``token_revocation``
(the inbox makes it exactly-once) and the auth dependency refuses a token issued with an older
version. Replicas of a service share one queue, so each process reloads the (small) table every
few seconds as well: a revoked token stops working everywhere within seconds, far inside the
minute the issue allows — and access tokens live 15 minutes at most anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from clientops_shared.auth import Principal, Unauthorized
from clientops_shared.errors import DomainError
from clientops_shared.events import web
from clientops_shared.events.base import Envelope

log = logging.getLogger("clientops.revocation")
TABLE = "token_revocation"


class AuthUnavailable(DomainError):
    status = 503
    title = "Service unavailable"


def revocation_table(metadata: sa.MetaData) -> sa.Table:
    """Define (once per metadata) the table of revoked token versions."""
    if TABLE in metadata.tables:
        return metadata.tables[TABLE]
    return sa.Table(
        TABLE, metadata,
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("min_version", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


async def record(session: AsyncSession, table: sa.Table, event: web.UserChanged) -> None:
    """Keep the highest version seen for the user (events may arrive in any order)."""
    values = {"username": event.username, "min_version": event.token_version,
              "active": event.active, "role": event.role, "changed_at": datetime.now(UTC)}
    stmt = insert(table).values(**values)
    newer = stmt.excluded.min_version >= table.c.min_version
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.username],
        set_={"min_version": sa.func.greatest(table.c.min_version, stmt.excluded.min_version),
              "active": sa.case((newer, stmt.excluded.active), else_=table.c.active),
              "role": sa.case((newer, stmt.excluded.role), else_=table.c.role),
              "changed_at": stmt.excluded.changed_at}))


class Revocations:
    """The process's view of ``token_revocation``: reloaded when older than ``refresh``.

    If the database cannot be read for longer than ``max_stale`` seconds, tokens are refused
    (503) rather than trusted on old knowledge.
    """

    def __init__(self, engine: AsyncEngine, table: sa.Table, *, refresh: float = 5.0,
                 max_stale: float = 60.0) -> None:
        self.engine = engine
        self.table = table
        self.refresh = refresh
        self.max_stale = max_stale
        self._versions: dict[str, int] = {}
        self._loaded_at = float("-inf")
        self._tried_at = float("-inf")
        self._lock = asyncio.Lock()

    def note(self, username: str, version: int) -> None:
        """This process applied a revocation: effective at once, before the next reload."""
        self._versions[username] = max(version, self._versions.get(username, 0))

    async def _reload(self) -> None:
        async with self._lock:
            if time.monotonic() - self._tried_at < self.refresh:
                return  # another request reloaded it (or tried to) meanwhile
            self._tried_at = time.monotonic()
            try:
                async with self.engine.connect() as conn:
                    rows = (await conn.execute(sa.select(self.table.c.username,
                                                         self.table.c.min_version))).all()
            except Exception as exc:
                log.warning("token revocations could not be read: %s", type(exc).__name__)
                return
            fresh = {username: version for username, version in rows}
            for username, version in self._versions.items():  # noted but not yet committed
                fresh[username] = max(version, fresh.get(username, 0))
            self._versions = fresh
            self._loaded_at = time.monotonic()

    async def check(self, principal: Principal) -> None:
        if time.monotonic() - self._loaded_at >= self.refresh:
            await self._reload()
        if time.monotonic() - self._loaded_at > self.max_stale:
            # what was revoked meanwhile is unknown: refuse rather than trust old knowledge
            raise AuthUnavailable("access cannot be checked right now; try again shortly")
        if principal.version < self._versions.get(principal.username, 0):
            raise Unauthorized("token revoked; log in again")


def subscribe(handlers: Any, table: sa.Table, revocations: Revocations) -> None:
    """Register the ``web.user.*`` handlers on a service's event handlers."""

    async def apply(event: web.UserChanged, envelope: Envelope, uow: Any) -> None:
        await record(uow.session, table, event)
        revocations.note(event.username, event.token_version)

    handlers.on(web.UserChanged)(apply)
    handlers.on(web.UserDeactivated)(apply)
