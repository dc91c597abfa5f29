"""The logistics unit of work and what the long-running use cases share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared.jobs import business_today
from clientops_shared.uow import UnitOfWork
from logistics.adapters import orm
from logistics.domain.model import FollowUp


class LogisticsUnitOfWork(UnitOfWork):
    async def next_number(self, journal: str, year: int) -> int:
        """The next number of a yearly journal. The counter row is locked until this
        transaction ends and rolls back with it, so numbers have no gaps."""
        t = orm.journal_counter
        stmt = insert(t).values(journal=journal, year=year, last=1).on_conflict_do_update(
            index_elements=[t.c.journal, t.c.year], set_={"last": t.c.last + 1}
        ).returning(t.c.last)
        return int((await self.session.execute(stmt)).scalar_one())

    async def one(self, stmt: sa.Select[Any]) -> sa.RowMapping | None:
        return (await self.session.execute(stmt)).mappings().first()


@dataclass
class Logistics:
    """What the use cases outside one request need: fresh units of work, the engine, the
    carriers' ports, the clock and the rules."""

    uow: Callable[[], LogisticsUnitOfWork]
    engine: AsyncEngine
    job_run: sa.Table
    carriers: dict[str, Any] = field(default_factory=dict)
    """Carrier code → its port (adapters.carriers): the HTTP client or the fake."""
    balance_threshold: Any = None
    warehouse_address: str = "Москва, бизнес-парк «Румянцево»"
    warehouse_phone: str = "+74950000000"
    originals: FollowUp = field(default_factory=FollowUp)
    closing: FollowUp = field(default_factory=lambda: FollowUp(5, 3))
    today: Callable[[], date] = business_today
