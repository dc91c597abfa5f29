from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.errors import NotFound
from clientops_shared.uow import UnitOfWork
from contracts.adapters import orm
from contracts.domain.model import Client, Contract, Site


class ContractsUnitOfWork(UnitOfWork):
    async def client(self, client_id: uuid.UUID, *, for_update: bool = False) -> Client:
        found = await self.session.get(Client, client_id, with_for_update=for_update)
        if found is None:
            raise NotFound(f"client {client_id} not found")
        return found

    async def client_by_inn(self, inn: str) -> Client | None:
        return (await self.session.execute(sa.select(Client).where(orm.client.c.inn == inn))
                ).scalar_one_or_none()

    async def site(self, site_id: uuid.UUID) -> Site:
        found = await self.session.get(Site, site_id)
        if found is None:
            raise NotFound(f"site {site_id} not found")
        return found

    async def contract(self, contract_id: uuid.UUID, *, for_update: bool = False) -> Contract:
        found = await self.session.get(Contract, contract_id, with_for_update=for_update)
        if found is None:
            raise NotFound(f"contract {contract_id} not found")
        return found

    async def next_contract_number(self, on: date) -> str:
        seq = orm.contract_number_seq
        stmt = (insert(seq).values(year=on.year, last=1)
                .on_conflict_do_update(index_elements=[seq.c.year], set_={"last": seq.c.last + 1})
                .returning(seq.c.last))
        last = (await self.session.execute(stmt)).scalar_one()
        return f"{on.year}-{last:04d}"

    def add(self, obj: object) -> None:
        self.session.add(obj)
