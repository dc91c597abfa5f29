"""The notifications unit of work: the shared transaction plus this service's repositories."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.bulk import insert_rows
from clientops_shared.uow import UnitOfWork
from notifications.adapters import orm
from notifications.domain.assignments import RoutingRule, Scope
from notifications.domain.model import (
    ACTIVE_STATES,
    ESCALATION_KIND,
    DeliveryState,
    Function,
    MailDelivery,
    Task,
    TaskState,
)

_ACTIVE = [s.value for s in ACTIVE_STATES]


class NotificationsUnitOfWork(UnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        # client directory rows read for a group of events at once (``read_clients``): a
        # handler finds its client here instead of asking the database again
        self.client_rows: dict[uuid.UUID, sa.RowMapping | None] = {}
        self._later: dict[sa.Table, list[dict[str, Any]]] = {}
        return self

    # --- rows written at the commit, set-wise --------------------------------------------
    def insert_later(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Insert ``row`` (ON CONFLICT DO NOTHING) with this transaction's other rows of the
        table in one statement at the commit: for rows nothing reads back before then."""
        self._later.setdefault(table, []).append(row)

    async def commit(self) -> None:
        later, self._later = self._later, {}
        for table, rows in later.items():
            await insert_rows(self.session, table, rows, suffix="ON CONFLICT DO NOTHING")
        await super().commit()

    async def read_clients(self, client_ids: Iterable[uuid.UUID]) -> None:
        """The directory rows of these clients into ``client_rows``, in one query."""
        wanted = set(client_ids) - set(self.client_rows)
        if not wanted:
            return
        c = orm.clients
        found = {r["client_id"]: r for r in (await self.session.execute(
            sa.select(c).where(c.c.client_id.in_(wanted)))).mappings()}
        self.client_rows.update({cid: found.get(cid) for cid in wanted})

    async def client_row(self, client_id: uuid.UUID) -> sa.RowMapping | None:
        if client_id not in self.client_rows:
            await self.read_clients([client_id])
        return self.client_rows[client_id]

    # --- tasks -------------------------------------------------------------------------------
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
        query = (sa.select(Task).where(orm.task.c.state.in_(_ACTIVE), sa.or_(*conditions))
                 .order_by(orm.task.c.id).with_for_update())
        return list((await self.session.execute(query)).scalars())

    async def tasks_by_ids(self, ids: Iterable[uuid.UUID]) -> list[Task]:
        """The tasks, locked for the change about to be made (in id order: no deadlocks)."""
        query = (sa.select(Task).where(orm.task.c.id.in_(list(ids)))
                 .order_by(orm.task.c.id).with_for_update())
        return list((await self.session.execute(query)).scalars())

    async def tasks_in_scope(self, scope: Scope) -> list[Task]:
        where = [orm.task.c.state.in_(_ACTIVE)]
        if scope.client_id is not None:
            where.append(orm.task.c.client_id == scope.client_id)
        if scope.function is not None:
            where.append(orm.task.c.function == scope.function)
        if scope.from_assignee is not None:
            where.append(orm.task.c.assignee == scope.from_assignee)
        query = sa.select(Task).where(*where).order_by(orm.task.c.id).with_for_update()
        return list((await self.session.execute(query)).scalars())

    async def overdue_unescalated(self, now: datetime, head: str, limit: int = 500
                                  ) -> list[Task]:
        """Open tasks past due that have not escalated yet (the escalation row is the record)."""
        esc = orm.escalation
        key = sa.literal("escalation:overdue:") + sa.cast(orm.task.c.id, sa.Text)
        query = (sa.select(Task)
                 .where(orm.task.c.state == TaskState.OPEN, orm.task.c.due_at < now,
                        orm.task.c.kind != ESCALATION_KIND, orm.task.c.assignee != head,
                        ~sa.exists().where(esc.c.key == key))
                 .order_by(orm.task.c.due_at).limit(limit)
                 .with_for_update(skip_locked=True))
        return list((await self.session.execute(query)).scalars())

    async def snoozed_due(self, now: datetime) -> list[Task]:
        query = (sa.select(Task)
                 .where(orm.task.c.state == TaskState.SNOOZED, orm.task.c.snoozed_until <= now)
                 .order_by(orm.task.c.id).with_for_update(skip_locked=True))
        return list((await self.session.execute(query)).scalars())

    def add(self, obj: object) -> None:
        self.session.add(obj)

    # --- duties ended for good ------------------------------------------------------------
    async def finished_duties(self, duties: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        duties = list(duties)
        if not duties:
            return set()
        t = orm.finished_duty
        rows = await self.session.execute(sa.select(t.c.kind, t.c.dedupe_key).where(
            sa.tuple_(t.c.kind, t.c.dedupe_key).in_(duties)))
        return {(r.kind, r.dedupe_key) for r in rows}

    async def finish_duties(self, duties: Iterable[tuple[str, str]], at: datetime,
                            source_event: str) -> None:
        rows = [{"kind": k, "dedupe_key": key, "finished_at": at, "source_event": source_event}
                for k, key in duties]
        if rows:
            await self.session.execute(
                insert(orm.finished_duty).values(rows).on_conflict_do_nothing())

    # --- routing ------------------------------------------------------------------------------
    async def routing_rules(self) -> list[RoutingRule]:
        t = orm.routing_override
        rows = await self.session.execute(sa.select(t.c.function, t.c.from_assignee,
                                                    t.c.to_assignee))
        return [RoutingRule(function=Function(r.function),
                            from_assignee=None if r.from_assignee == orm.ANY_ASSIGNEE
                            else r.from_assignee,
                            to_assignee=r.to_assignee) for r in rows]

    # --- mail -------------------------------------------------------------------------------
    async def next_due_mail(self, now: datetime, stale_sending_before: datetime | None = None
                            ) -> tuple[MailDelivery, dict[str, Any]] | None:
        """One pending mail whose time has come, locked; replicas skip each other's rows.

        With ``stale_sending_before``, also a mail whose try started before then and never
        finished (the sender died while sending): it may have gone out already.
        """
        t = orm.mail_delivery
        due = sa.and_(t.c.state == DeliveryState.PENDING, t.c.next_attempt_at <= now)
        if stale_sending_before is not None:
            due = sa.or_(due, sa.and_(t.c.state == DeliveryState.SENDING,
                                      t.c.updated_at < stale_sending_before))
        row = (await self.session.execute(
            sa.select(t.c.id, t.c.context, t.c.attachments, t.c.client_id, t.c.message_id)
            .where(due)
            .order_by(t.c.next_attempt_at, t.c.created_at).limit(1)
            .with_for_update(skip_locked=True))).first()
        if row is None:
            return None
        delivery = await self.session.get(MailDelivery, row.id)
        assert delivery is not None
        return delivery, {"context": row.context, "attachments": row.attachments,
                          "client_id": row.client_id, "message_id": row.message_id}

    async def mail_delivery_for_update(self, delivery_id: uuid.UUID) -> MailDelivery:
        delivery = await self.session.get(MailDelivery, delivery_id, with_for_update=True)
        assert delivery is not None
        return delivery

    async def set_mail_extras(self, delivery_id: uuid.UUID, **values: Any) -> None:
        t = orm.mail_delivery
        await self.session.execute(t.update().where(t.c.id == delivery_id).values(**values))

    async def staff_email(self, username: str) -> str | None:
        t = orm.staff_member
        return (await self.session.execute(sa.select(t.c.email).where(
            t.c.username == username, t.c.active.is_(True)))).scalar_one_or_none()
