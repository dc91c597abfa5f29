"""The field-ops unit of work with its repositories."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.errors import NotFound
from clientops_shared.uow import UnitOfWork
from field_ops.adapters import orm
from field_ops.domain.model import DowntimeIncident, WorkOrder


class FieldOpsUnitOfWork(UnitOfWork):
    async def work_order(self, order_id: uuid.UUID, *, for_update: bool = False) -> WorkOrder:
        found = await self.session.get(WorkOrder, order_id, with_for_update=for_update)
        if found is None:
            raise NotFound(f"Заявка {order_id} не найдена")
        return found

    async def work_orders(self, *where: Any, for_update: bool = False) -> list[WorkOrder]:
        stmt = sa.select(WorkOrder).where(*where).order_by(orm.work_order.c.created_at)
        if for_update:
            stmt = stmt.with_for_update()
        return list((await self.session.execute(stmt)).scalars())

    async def incident(self, incident_id: uuid.UUID, *, for_update: bool = False
                       ) -> DowntimeIncident:
        found = await self.session.get(DowntimeIncident, incident_id, with_for_update=for_update)
        if found is None:
            raise NotFound(f"Простой {incident_id} не найден")
        return found

    async def next_journal_seq(self, year: int) -> int:
        """The year's next journal number. The counter row stays locked until this transaction
        ends, so concurrent approvals queue up and a rolled-back one leaves no gap."""
        c = orm.journal_counter
        stmt = (insert(c).values(year=year, last=1)
                .on_conflict_do_update(index_elements=[c.c.year], set_={"last": c.c.last + 1})
                .returning(c.c.last))
        return int((await self.session.execute(stmt)).scalar_one())

    async def row(self, table: sa.Table, *where: Any) -> sa.RowMapping | None:
        return (await self.session.execute(sa.select(table).where(*where))).mappings().first()

    async def rows(self, table: sa.Table, *where: Any, order_by: Any = None
                   ) -> list[sa.RowMapping]:
        stmt = sa.select(table).where(*where)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        return list((await self.session.execute(stmt)).mappings())

    async def upsert(self, table: sa.Table, keys: list[str], values: dict[str, Any]) -> None:
        stmt = insert(table).values(**values)
        update = {k: v for k, v in values.items() if k not in keys}
        if "updated_at" in table.c:
            update["updated_at"] = sa.func.now()
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys], set_=update))

    def add(self, obj: object) -> None:
        self.session.add(obj)
