from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from clientops_shared.uow import UnitOfWork
from notifications.adapters import orm
from notifications.domain.model import ACTIVE_STATES, Task


class NotificationsUnitOfWork(UnitOfWork):
    async def active_tasks(self, keys: Iterable[str], client_id: str | None = None
                           ) -> list[Task]:
        """Open and snoozed tasks with any of ``keys`` (and, if given, all of the client's)."""
        keys = list(keys)
        conditions = []
        if keys:
            conditions.append(orm.task.c.dedupe_key.in_(keys))
        if client_id is not None:
            conditions.append(orm.task.c.client_id == client_id)
        if not conditions:
            return []
        query = (sa.select(Task).where(orm.task.c.state.in_([s.value for s in ACTIVE_STATES]),
                                       sa.or_(*conditions)).with_for_update())
        return list((await self.session.execute(query)).scalars())

    def add(self, obj: object) -> None:
        self.session.add(obj)
