"""Unit of work: one transaction per use case; the events it collects go to the outbox in it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clientops_shared import context
from clientops_shared.bulk import insert_rows
from clientops_shared.db import SharedTables
from clientops_shared.events.base import Envelope, Event


class UnitOfWork:
    """Rolls back unless committed. Services subclass it to attach their repositories.

    ``emit`` only collects; ``commit`` writes the state change, its outbox rows (with the
    current trace context) and any audit rows in one database transaction.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], tables: SharedTables,
                 producer: str, on_commit: Callable[[], None] | None = None) -> None:
        self._sessions = sessions
        self.tables = tables
        self.producer = producer
        self._on_commit = on_commit
        self.session: AsyncSession
        self.emitted: list[Envelope] = []
        self._audit_rows: list[dict[str, Any]] = []
        self._deferred = False
        self._outbox_written = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self.emitted = []
        self._audit_rows = []
        self._committed = False
        self._deferred = False
        self._outbox_written = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, *events: Event) -> None:
        for event in events:
            self.emitted.append(Envelope.wrap(event, self.producer))

    def outbox_written(self) -> None:
        """The use case wrote outbox rows itself (set-wise, in SQL, not through ``emit``): the
        relay is still woken when this transaction commits."""
        self._outbox_written = True

    def audit(self, action: str, entity: str, entity_id: object, *,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        self._audit_rows.append({
            "actor": context.actor.get() or "system",
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "before": _jsonable(before),
            "after": _jsonable(after),
            "correlation_id": context.correlation_id.get(),
        })

    async def flush(self) -> None:
        await self.session.flush()

    def defer_commit(self) -> None:
        """Make the use case's own ``commit()`` a flush, so the entrypoint can add to the same
        transaction (an Idempotency-Key's stored answer) and ``finish()`` it."""
        self._deferred = True

    async def finish(self) -> None:
        self._deferred = False
        await self.commit()

    async def commit(self) -> None:
        if self._deferred:
            await self.session.flush()
            return
        await self.session.flush()
        if self.emitted:
            await self._number_aggregate_steps()
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            # one statement for the whole transaction's events, however many (an invoice run
            # emits hundreds per batch)
            await insert_rows(
                self.session,
                self.tables.outbox,
                [
                    {
                        "event_id": env.event_id,
                        "routing_key": env.type,
                        "body": env.model_dump(mode="json"),
                        "headers": carrier,
                    }
                    for env in self.emitted
                ],
            )
        if self._audit_rows:
            await self.session.execute(self.tables.audit.insert(), self._audit_rows)
        await self.session.commit()
        self._committed = True
        published, self.emitted = self.emitted, []
        self._audit_rows.clear()
        wake, self._outbox_written = bool(published) or self._outbox_written, False
        if wake and self._on_commit is not None:
            self._on_commit()

    async def _number_aggregate_steps(self) -> None:
        """Give each emitted aggregate step the aggregate's next version, in this transaction.

        One upsert for all the aggregates touched: the row lock it takes also orders two
        transactions changing the same aggregate, so versions follow commit order.
        """
        counts = Counter((env.aggregate, env.aggregate_id) for env in self.emitted
                         if env.aggregate is not None and env.aggregate_id is not None)
        if not counts:
            return
        t = self.tables.aggregate_version
        rows = insert(t).values([
            {"aggregate": aggregate, "aggregate_id": aggregate_id, "version": n}
            for (aggregate, aggregate_id), n in sorted(counts.items(), key=lambda kv: kv[0])])
        stmt = rows.on_conflict_do_update(
            index_elements=[t.c.aggregate, t.c.aggregate_id],
            set_={"version": t.c.version + rows.excluded.version},
        ).returning(t.c.aggregate, t.c.aggregate_id, t.c.version)
        last = {(r.aggregate, r.aggregate_id): int(r.version)
                for r in await self.session.execute(stmt)}
        following = {key: last[key] - n for key, n in counts.items()}
        for env in self.emitted:
            key = (env.aggregate, env.aggregate_id)
            if key in following:
                following[key] += 1
                env.aggregate_version = following[key]

    async def rollback(self) -> None:
        await self.session.rollback()
        self.emitted = []
        self._audit_rows.clear()

    # Idempotency-Key support: the stored answer commits with the effect it describes.
    async def recall_response(self, key: str, actor: str, request: Any) -> tuple[int, Any] | None:
        t = self.tables.idempotency
        row = (await self.session.execute(
            t.select().where(t.c.key == key, t.c.actor == actor))).first()
        if row is None:
            return None
        if row.request_hash != request_hash(request):
            from clientops_shared.errors import Conflict

            raise Conflict("Idempotency-Key was already used with a different request body",
                           key=key)
        return row.status_code, row.response

    async def remember_response(self, key: str, actor: str, request: Any, status_code: int,
                                response: Any) -> None:
        await self.session.execute(self.tables.idempotency.insert().values(
            key=key, actor=actor, request_hash=request_hash(request), status_code=status_code,
            response=_jsonable(response)))


def number_steps_sql(aggregate_version: sa.Table, contract: type[Event], ids: str
                     ) -> tuple[str, dict[str, str]]:
    """SQL numbering one more step of ``contract``'s aggregate for each id that ``ids``
    selects (one text column, each id once), and its parameters: for a statement that writes
    aggregate steps' outbox rows set-wise. Use it as a CTE and join its rows
    ``(aggregate_id, version)`` to the events it numbers.

    The same upsert as ``UnitOfWork.commit`` (same table, ids locked in the same order: Python
    sorts by code point, hence ``COLLATE "C"``), so steps written either way, in one
    transaction or in several, get consecutive versions in commit order."""
    if contract.AGGREGATE is None:
        raise ValueError(f"{contract.TYPE} is not an aggregate step")
    sql = (f'INSERT INTO {aggregate_version.name} AS v (aggregate, aggregate_id, version) '
           f'SELECT CAST(:step_aggregate AS text), s.id, 1 FROM ({ids}) AS s(id) '
           f'ORDER BY s.id COLLATE "C" '
           f'ON CONFLICT (aggregate, aggregate_id) DO UPDATE SET version = v.version + 1 '
           f'RETURNING v.aggregate_id, v.version')
    return sql, {"step_aggregate": contract.AGGREGATE[0]}


async def number_steps(session: AsyncSession, aggregate_version: sa.Table,
                       contract: type[Event], ids: Sequence[str]) -> dict[str, int]:
    """One more step of ``contract``'s aggregate for each of ``ids`` (each once), numbered
    as ``number_steps_sql`` does, in one statement: ``{aggregate_id: version}``, for outbox
    rows built outside SQL (COPYed) that carry their versions."""
    steps, params = number_steps_sql(aggregate_version, contract,
                                     "SELECT unnest(CAST(:step_ids AS text[]))")
    rows = await session.execute(sa.text(steps), {**params, "step_ids": list(ids)})
    return {aggregate_id: version for aggregate_id, version in rows.tuples()}


def request_hash(request: Any) -> str:
    return hashlib.sha256(json.dumps(_jsonable(request), sort_keys=True).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))
