from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.errors import NotFound
from clientops_shared.uow import UnitOfWork
from contracts.adapters import orm
from contracts.domain.claims import Claim
from contracts.domain.files import StoredDocument
from contracts.domain.model import (
    IN_FORCE,
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    ChangeRequest,
    Client,
    Contract,
    ContractStatus,
    Site,
)
from contracts.domain.sales import Deal

T = TypeVar("T")


class ContractsUnitOfWork(UnitOfWork):
    """The contracts service's unit of work with its repositories."""

    async def _get(self, cls: type[T], what: str, key: uuid.UUID, for_update: bool) -> T:
        found = await self.session.get(cls, key, with_for_update=for_update)
        if found is None:
            raise NotFound(f"{what} {key} not found")
        return found

    async def client(self, client_id: uuid.UUID, *, for_update: bool = False) -> Client:
        return await self._get(Client, "client", client_id, for_update)

    async def clients(self, client_ids: Sequence[uuid.UUID], *, for_update: bool = False
                      ) -> list[Client]:
        stmt = sa.select(Client).where(orm.client.c.id.in_(list(client_ids))).order_by(
            orm.client.c.id)
        if for_update:
            stmt = stmt.with_for_update()
        return list((await self.session.execute(stmt)).scalars())

    async def client_by_inn(self, inn: str) -> Client | None:
        return (await self.session.execute(sa.select(Client).where(orm.client.c.inn == inn))
                ).scalar_one_or_none()

    async def site(self, site_id: uuid.UUID, *, for_update: bool = False) -> Site:
        return await self._get(Site, "site", site_id, for_update)

    async def sites_of(self, client_id: uuid.UUID) -> list[Site]:
        stmt = sa.select(Site).where(orm.site.c.client_id == client_id).order_by(orm.site.c.name)
        return list((await self.session.execute(stmt)).scalars())

    async def contract(self, contract_id: uuid.UUID, *, for_update: bool = False) -> Contract:
        return await self._get(Contract, "contract", contract_id, for_update)

    async def amendment(self, amendment_id: uuid.UUID) -> Amendment:
        return await self._get(Amendment, "amendment", amendment_id, False)

    async def change_request(self, request_id: uuid.UUID, *, for_update: bool = False
                             ) -> ChangeRequest:
        return await self._get(ChangeRequest, "change request", request_id, for_update)

    async def claim(self, claim_id: uuid.UUID, *, for_update: bool = False) -> Claim:
        return await self._get(Claim, "claim", claim_id, for_update)

    async def deal(self, deal_id: uuid.UUID, *, for_update: bool = False) -> Deal:
        return await self._get(Deal, "deal", deal_id, for_update)

    async def document(self, document_id: uuid.UUID) -> StoredDocument:
        return await self._get(StoredDocument, "document", document_id, False)

    async def next_contract_number(self, on: date) -> str:
        seq = orm.contract_number_seq
        stmt = (insert(seq).values(year=on.year, last=1)
                .on_conflict_do_update(index_elements=[seq.c.year], set_={"last": seq.c.last + 1})
                .returning(seq.c.last))
        last = (await self.session.execute(stmt)).scalar_one()
        return f"{on.year}-{last:04d}"

    async def next_amendment_number(self, contract_id: uuid.UUID) -> int:
        """Call with the contract row locked: numbers run 1, 2, … per contract."""
        a = orm.amendment
        last = (await self.session.execute(sa.select(sa.func.max(a.c.number)).where(
            a.c.contract_id == contract_id))).scalar()
        return int(last or 0) + 1

    async def scheduled_amendments(self, contract_id: uuid.UUID | None = None, *,
                                   kinds: Sequence[AmendmentKind] = (),
                                   due_by: date | None = None) -> list[Amendment]:
        a = orm.amendment
        where: list[Any] = [a.c.status == AmendmentStatus.SCHEDULED.value]
        if contract_id is not None:
            where.append(a.c.contract_id == contract_id)
        if kinds:
            where.append(a.c.kind.in_([k.value for k in kinds]))
        if due_by is not None:
            where.append(a.c.effective_on <= due_by)
        stmt = sa.select(Amendment).where(*where).order_by(a.c.effective_on, a.c.number)
        return list((await self.session.execute(stmt)).scalars())

    async def contracts_where(self, *where: Any, for_update: bool = True) -> list[Contract]:
        stmt = sa.select(Contract).where(*where).order_by(orm.contract.c.number)
        if for_update:
            stmt = stmt.with_for_update()
        return list((await self.session.execute(stmt)).scalars())

    async def contracts_in_force(self, *where: Any) -> list[Contract]:
        return await self.contracts_where(
            orm.contract.c.status.in_([s.value for s in IN_FORCE]), *where)

    async def contracts_with_status(self, status: ContractStatus, *where: Any
                                    ) -> list[Contract]:
        return await self.contracts_where(orm.contract.c.status == status.value, *where)

    def add(self, obj: object) -> None:
        self.session.add(obj)
