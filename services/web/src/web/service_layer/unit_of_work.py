from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

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

    async def delete(self, obj: object) -> None:
        await self.session.delete(obj)

    def add(self, obj: object) -> None:
        self.session.add(obj)
