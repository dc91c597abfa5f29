from __future__ import annotations

from clientops_shared.uow import UnitOfWork
from web.domain.model import User


class WebUnitOfWork(UnitOfWork):
    async def user(self, username: str, *, for_update: bool = False) -> User | None:
        return await self.session.get(User, username, with_for_update=for_update)

    def add(self, obj: object) -> None:
        self.session.add(obj)
