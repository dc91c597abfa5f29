from __future__ import annotations

import uuid

import sqlalchemy as sa

from billing.adapters import orm
from billing.domain.model import ClientAccount, Subscription
from clientops_shared.uow import UnitOfWork


class BillingUnitOfWork(UnitOfWork):
    async def client_account(self, client_id: uuid.UUID) -> ClientAccount | None:
        return await self.session.get(ClientAccount, client_id)

    async def subscription_for(self, contract_id: uuid.UUID) -> Subscription | None:
        return (await self.session.execute(sa.select(Subscription).where(
            orm.subscription.c.contract_id == contract_id))).scalar_one_or_none()

    def add(self, obj: object) -> None:
        self.session.add(obj)
