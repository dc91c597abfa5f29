from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.uow import UnitOfWork
from web.adapters import orm
from web.domain.model import User, WebSession


class WebUnitOfWork(UnitOfWork):
    async def user(self, username: str, *, for_update: bool = False) -> User | None:
        return await self.session.get(User, username, with_for_update=for_update)

    async def users(self) -> list[User]:
        result = await self.session.execute(sa.select(User).order_by(orm.user_account.c.username))
        return list(result.scalars())

    async def web_session(self, id_hash: str) -> WebSession | None:
        return await self.session.get(WebSession, id_hash)

    async def end_sessions(self, username: str) -> None:
        t = orm.web_session
        await self.session.execute(t.delete().where(t.c.username == username))

    async def end_expired_sessions(self, now: datetime) -> None:
        t = orm.web_session
        await self.session.execute(t.delete().where(t.c.expires_at <= now))

    async def throttled_for(self, now: datetime, *keys: str) -> int:
        """Seconds until every one of ``keys`` may try to log in again (0: now)."""
        t = orm.login_throttle
        until = (await self.session.execute(
            sa.select(sa.func.max(t.c.blocked_until)).where(t.c.key.in_(keys)))).scalar()
        if until is None or until <= now:
            return 0
        return max(1, int((until - now).total_seconds() + 0.999))

    async def login_failed(self, key: str, now: datetime, *, forget_before: datetime,
                           backoff: Callable[[int], timedelta]) -> None:
        """Count a failure for ``key`` (old failures forgotten) and set its back-off."""
        t = orm.login_throttle
        stmt = insert(t).values(key=key, failures=1, last_failure_at=now)
        failures = (await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={"failures": sa.case((t.c.last_failure_at < forget_before, 1),
                                      else_=t.c.failures + 1),
                  "last_failure_at": now},
        ).returning(t.c.failures))).scalar_one()
        wait = backoff(failures)
        await self.session.execute(t.update().where(t.c.key == key).values(
            blocked_until=now + wait if wait else None))

    async def login_succeeded(self, key: str) -> None:
        t = orm.login_throttle
        await self.session.execute(t.delete().where(t.c.key == key))

    async def delete(self, obj: object) -> None:
        await self.session.delete(obj)

    def add(self, obj: object) -> None:
        self.session.add(obj)
