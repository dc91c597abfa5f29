"""RabbitMQ topology and idempotent event consumption (FastStream on aio-pika).

Topology, declared at start-up before any traffic:
- ``clientops.events``: durable topic exchange, routing key = event type; its alternate
  exchange ``clientops.unrouted`` parks events no service subscribes to, for an operator to see;
- per consuming service one durable quorum queue ``<service>.events`` bound to the event types
  it handles, with ``x-delivery-limit`` and a dead-letter exchange ``clientops.dlx`` that routes
  to ``<service>.events.dlq``.

Failures (every one logged, counted per event type and recorded in ``consumer_failure`` for
an operator at once):
- transient (database or broker unreachable, serialization failure, deadlock, timeout; an
  aggregate step whose predecessor is not applied yet) → the message is parked in a delay queue
  ``<service>.events.retry.<ms>ms`` (queue TTL, dead-letters back to the service queue through
  the default exchange), 1 s, 5 s, 30 s, 2 min, 10 min by default, then the DLQ;
- the service's database unreachable → the consumer holds the message and stops fetching
  (prefetch) until the database answers again, then carries on; no retry is spent;
- permanent (not an envelope, a type or version unknown to the registry or to this consumer,
  a payload that does not validate) → the DLQ at once;
- anything else (a bug) → nack with requeue; the quorum queue counts deliveries and
  dead-letters the message after the limit.

Order: an event that is a step of an aggregate (``Event.AGGREGATE``) carries the aggregate's
version; a consumer handling that aggregate applies version n only after n - 1 (the last
applied version is kept per consumer and aggregate in ``aggregate_applied``), parks it until
then, and skips a version it is already past. Events without a version are applied as they come.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aio_pika
import sqlalchemy as sa
from faststream.exceptions import RejectMessage
from faststream.middlewares import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitMessage,
    RabbitQueue,
)
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from clientops_shared import context, inbox, observability
from clientops_shared.events.base import REGISTRY, Envelope, Event
from clientops_shared.uow import UnitOfWork

log = logging.getLogger("clientops.messaging")

EXCHANGE = "clientops.events"
UNROUTED_EXCHANGE = "clientops.unrouted"
UNROUTED_QUEUE = "clientops.unrouted"
DLX = "clientops.dlx"
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
ATTEMPT_HEADER = "x-clientops-attempt"

CONSUMER_PARKED = Counter("clientops_consumer_parked_total",
                          "Aggregate steps parked until their predecessor is applied",
                          ["service", "event_type"])
CONSUMER_PAUSED = Gauge("clientops_consumer_paused",
                        "1 while the consumer waits for its database to come back", ["service"])

events_exchange = RabbitExchange(EXCHANGE, type=ExchangeType.TOPIC, durable=True,
                                 arguments={"alternate-exchange": UNROUTED_EXCHANGE})
unrouted_exchange = RabbitExchange(UNROUTED_EXCHANGE, type=ExchangeType.FANOUT, durable=True)
dead_letter_exchange = RabbitExchange(DLX, type=ExchangeType.DIRECT, durable=True)


# Who consumes what: routing-key patterns bound to each service's queue. A service handles the
# types it registers and acks the rest; its handler set must stay within these patterns.
# Every consumer also takes "web.user.#": revoked token versions (clientops_shared.revocation).
CONSUMERS: dict[str, tuple[str, ...]] = {
    "contracts": ("field_ops.equipment.#", "web.user.#"),
    "billing": ("contracts.#", "field_ops.equipment.#", "logistics.#", "web.user.#"),
    "field_ops": ("contracts.#", "logistics.shipment.#", "web.user.#"),
    "logistics": ("contracts.#", "field_ops.#", "web.user.#"),
    "notifications": ("#",),
}


def routing_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` one word, ``#`` zero or more words."""
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), key.split("."))


def unbound_steps(service: str, handled: set[str] | None = None) -> list[str]:
    """Event types of an aggregate ``service`` follows that its queue is not bound to.

    A consumer applies an aggregate's steps in version order, so it must receive every step,
    handled or not; a missing binding would park the next step until it is dead-lettered.
    ``handled``: the aggregates it follows (default: every aggregate of an event type its
    patterns match).
    """
    patterns = CONSUMERS.get(service, ())
    bound = [t for t, _ in REGISTRY if any(routing_matches(p, t) for p in patterns)]
    followed = handled if handled is not None else {
        c.AGGREGATE[0] for (t, _), c in REGISTRY.items() if t in bound and c.AGGREGATE}
    return sorted({t for (t, _), c in REGISTRY.items()
                   if c.AGGREGATE and c.AGGREGATE[0] in followed and t not in bound})


def queue_name(service: str) -> str:
    return f"{service}.events"


def dlq_name(service: str) -> str:
    return f"{queue_name(service)}.dlq"


def service_queue(service: str, delivery_limit: int) -> RabbitQueue:
    return RabbitQueue(
        queue_name(service),
        queue_type=QueueType.QUORUM,
        durable=True,
        arguments={
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DLX,
            "x-dead-letter-routing-key": queue_name(service),
        },
    )


def delay_queue_name(service: str, seconds: float) -> str:
    return f"{queue_name(service)}.retry.{round(seconds * 1000)}ms"


def delay_queue(service: str, seconds: float) -> RabbitQueue:
    """Holds a parked event ``seconds``, then dead-letters it back to the service queue."""
    return RabbitQueue(
        delay_queue_name(service, seconds),
        queue_type=QueueType.CLASSIC,
        durable=True,
        arguments={
            "x-message-ttl": round(seconds * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue_name(service),
        },
    )


class PermanentFailure(Exception):
    """Retrying cannot help (unknown type or version, invalid payload): dead-letter at once."""


class RetryLater(Exception):
    """A transient condition: retry the event later through the delay queues."""


class PredecessorMissing(RetryLater):
    """An aggregate step arrived before the step it follows was applied here."""


# SQLSTATEs worth retrying: serialization failure, deadlock, lock or statement timeout,
# too many connections, server shutting down / starting, and the whole connection class 08
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"}
_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [e.__cause__, e.__context__, getattr(e, "orig", None)]


def _sqlstate(e: BaseException) -> str:
    return str(getattr(e, "sqlstate", None) or getattr(e, "pgcode", None) or "")


def is_connection_loss(exc: BaseException) -> bool:
    """The database (or another server) could not be reached or dropped the connection."""
    for e in _causes(exc):
        state = _sqlstate(e)
        if ((isinstance(e, OSError) and not isinstance(e, TimeoutError))
                or isinstance(e, sa.exc.TimeoutError) or state.startswith("08")
                or state in _CONNECTION_SQLSTATES
                or (isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated)
                or type(e).__name__ in ("ConnectionDoesNotExistError", "InterfaceError")):
            return True
    return False


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: the same event may well succeed then."""
    if is_connection_loss(exc):
        return True
    return any(isinstance(e, RetryLater | TimeoutError)
               or _sqlstate(e) in _TRANSIENT_SQLSTATES for e in _causes(exc))


class ConsumerFailures:
    """The operator-visible record of consumer failures (``consumer_failure``), one row per
    consumer and message, kept up to date as the message is retried, dead-lettered or finally
    handled."""

    def __init__(self, engine: AsyncEngine, table: sa.Table, service: str) -> None:
        self.engine = engine
        self.table = table
        self.service = service

    async def record(self, message_id: str, event_type: str, outcome: str,
                     exc: BaseException) -> None:
        t = self.table
        error = (str(exc) or repr(exc))[:4000]
        values = {"consumer": self.service, "message_id": message_id, "event_type": event_type,
                  "outcome": outcome, "error_class": type(exc).__name__, "error": error}
        stmt = insert(t).values(**values)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(stmt.on_conflict_do_update(
                    index_elements=[t.c.consumer, t.c.message_id],
                    set_={"outcome": outcome, "error_class": values["error_class"],
                          "error": error, "failures": t.c.failures + 1,
                          "last_failed_at": sa.func.now(), "resolved_at": None}))
        except Exception as db_error:  # the database may be what failed: the log has it all
            log.warning("could not record the failure of %s %s: %s", event_type, message_id,
                        db_error)

    async def resolve(self, message_id: str) -> None:
        t = self.table
        try:
            async with self.engine.begin() as conn:
                await conn.execute(t.update().where(
                    t.c.consumer == self.service, t.c.message_id == message_id,
                    t.c.resolved_at.is_(None)).values(outcome="handled",
                                                      resolved_at=sa.func.now()))
        except Exception as db_error:
            log.warning("could not mark %s handled: %s", message_id, db_error)

    async def listing(self, open_only: bool, limit: int, offset: int) -> list[dict[str, Any]]:
        t = self.table
        query = sa.select(t).order_by(t.c.last_failed_at.desc()).limit(limit).offset(offset)
        if open_only:
            query = query.where(t.c.resolved_at.is_(None))
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]


_ADMIT = """
WITH k AS (
    SELECT CAST(:consumer AS text) AS consumer, CAST(:aggregate AS text) AS aggregate,
           CAST(:aggregate_id AS text) AS aggregate_id, CAST(:version AS bigint) AS version
), seen AS (
    SELECT a.version FROM {table} AS a JOIN k USING (consumer, aggregate, aggregate_id)
    FOR UPDATE OF a
), applied AS (
    INSERT INTO {table} AS a (consumer, aggregate, aggregate_id, version)
    SELECT consumer, aggregate, aggregate_id, version FROM k
    WHERE coalesce((SELECT version FROM seen), 0) = k.version - 1
    ON CONFLICT (consumer, aggregate, aggregate_id)
    DO UPDATE SET version = excluded.version, applied_at = now()
    WHERE a.version = excluded.version - 1
    RETURNING 1
)
SELECT (SELECT version FROM seen) AS seen, EXISTS (SELECT 1 FROM applied) AS applied
"""


async def admit_step(session: AsyncSession, applied: sa.Table, consumer: str,
                     envelope: Envelope) -> bool:
    """Whether this aggregate step is next for ``consumer`` (True, recorded as applied in the
    caller's transaction) or already behind it (False). Raises PredecessorMissing when an
    earlier step has not been applied yet.

    One round trip: the row is locked, compared and moved on in one statement (this runs for
    every ordered event a consumer handles)."""
    assert envelope.aggregate is not None and envelope.aggregate_id is not None
    version = envelope.aggregate_version or 0
    row = (await session.execute(sa.text(_ADMIT.format(table=applied.name)), {
        "consumer": consumer, "aggregate": envelope.aggregate,
        "aggregate_id": envelope.aggregate_id, "version": version})).one()
    if row.applied:
        return True
    seen = row.seen or 0
    if version <= seen:
        log.info("event %s %s: %s %s is already at version %s, step %s skipped",
                 envelope.type, envelope.event_id, envelope.aggregate, envelope.aggregate_id,
                 seen, version)
        return False
    # a later step, or a first step whose row another transaction created meanwhile
    raise PredecessorMissing(f"{envelope.aggregate} {envelope.aggregate_id}: version "
                             f"{version} waits for version {seen + 1}")


async def claim_together(session: AsyncSession, inbox_table: sa.Table, consumer: str,
                         envelopes: Sequence[Envelope]) -> set[uuid.UUID]:
    """``inbox.claim`` for several events in one statement: the ids seen for the first time."""
    if not envelopes:
        return set()
    rows = [{"event_id": e.event_id, "consumer": consumer, "event_type": e.type}
            for e in envelopes]
    stmt = (insert(inbox_table).values(rows).on_conflict_do_nothing()
            .returning(inbox_table.c.event_id))
    return set((await session.execute(stmt)).scalars())


_ADMIT_TOGETHER = """
WITH k AS (
    SELECT * FROM unnest(CAST(:aggregates AS text[]), CAST(:ids AS text[]),
                         CAST(:versions AS bigint[])) AS k(aggregate, aggregate_id, version)
), seen AS (
    SELECT a.aggregate, a.aggregate_id, a.version FROM {table} AS a
    JOIN k USING (aggregate, aggregate_id)
    WHERE a.consumer = CAST(:consumer AS text)
    ORDER BY a.aggregate COLLATE "C", a.aggregate_id COLLATE "C"
    FOR UPDATE OF a
), applied AS (
    INSERT INTO {table} AS a (consumer, aggregate, aggregate_id, version)
    SELECT CAST(:consumer AS text), k.aggregate, k.aggregate_id, k.version
    FROM k LEFT JOIN seen AS s USING (aggregate, aggregate_id)
    WHERE coalesce(s.version, 0) = k.version - 1
    ORDER BY k.aggregate COLLATE "C", k.aggregate_id COLLATE "C"
    ON CONFLICT (consumer, aggregate, aggregate_id)
    DO UPDATE SET version = excluded.version, applied_at = now()
    WHERE a.version = excluded.version - 1
    RETURNING a.aggregate, a.aggregate_id
)
SELECT k.aggregate, k.aggregate_id, s.version AS seen, (p.aggregate IS NOT NULL) AS applied
FROM k LEFT JOIN seen AS s USING (aggregate, aggregate_id)
LEFT JOIN applied AS p USING (aggregate, aggregate_id)
"""


async def admit_together(session: AsyncSession, applied: sa.Table, consumer: str,
                         envelopes: Sequence[Envelope]) -> dict[uuid.UUID, bool]:
    """``admit_step`` for several steps in one statement (one per aggregate; with two steps
    of one aggregate among them, step by step). Raises PredecessorMissing for the first step
    that came too early."""
    keys = [(e.aggregate, e.aggregate_id) for e in envelopes]
    if len(set(keys)) < len(keys):
        return {e.event_id: await admit_step(session, applied, consumer, e) for e in envelopes}
    if not envelopes:
        return {}
    rows = (await session.execute(sa.text(_ADMIT_TOGETHER.format(table=applied.name)), {
        "consumer": consumer, "aggregates": [e.aggregate for e in envelopes],
        "ids": [e.aggregate_id for e in envelopes],
        "versions": [e.aggregate_version or 0 for e in envelopes]})).all()
    found = {(r.aggregate, r.aggregate_id): r for r in rows}
    admitted = {}
    for e in envelopes:
        row = found[(e.aggregate, e.aggregate_id)]
        version, seen = e.aggregate_version or 0, row.seen or 0
        if not row.applied and version > seen:
            raise PredecessorMissing(f"{e.aggregate} {e.aggregate_id}: version {version} "
                                     f"waits for version {seen + 1}")
        admitted[e.event_id] = bool(row.applied)
    return admitted


E = TypeVar("E", bound=Event)
U = TypeVar("U", bound=UnitOfWork)
Handler = Callable[[Any, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    contract: type[Event]
    handler: Handler


class EventHandlers(Generic[U]):
    """What one service consumes: event contract → handler(event, envelope, uow)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.subscriptions: dict[tuple[str, int], Subscription] = {}
        self._aggregates: set[str] | None = None  # asked per event: kept until a new ``on``
        self.handled_alone: Callable[[Envelope], bool] = lambda envelope: False
        self.prepare_group: Callable[[Any, Sequence[Envelope]], Awaitable[None]] | None = None
        """Called in a group's transaction before its handlers with the events about to be
        handled: to read at once what each handler would read by itself."""
        """Events never handled in a group (``GroupCommit``): those whose handling reaches
        outside the transaction (a mail sent at once), which a group's failure would repeat."""

    def on(self, contract: type[E]) -> Callable[[Callable[[E, Envelope, U], Awaitable[None]]],
                                                 Callable[[E, Envelope, U], Awaitable[None]]]:
        def register(fn: Callable[[E, Envelope, U], Awaitable[None]]
                     ) -> Callable[[E, Envelope, U], Awaitable[None]]:
            self.subscriptions[(contract.TYPE, contract.VERSION)] = Subscription(contract, fn)
            self._aggregates = None
            return fn
        return register

    @property
    def handled_types(self) -> set[str]:
        return {t for t, _ in self.subscriptions}

    @property
    def aggregates(self) -> set[str]:
        """Aggregates whose steps this consumer applies, and so must apply in order."""
        if self._aggregates is None:
            self._aggregates = {sub.contract.AGGREGATE[0] for sub in self.subscriptions.values()
                                if sub.contract.AGGREGATE is not None}
        return self._aggregates

    def _ordered(self, envelope: Envelope) -> bool:
        return envelope.aggregate_version is not None and envelope.aggregate in self.aggregates

    def _unknown(self, envelope: Envelope) -> str | None:
        """Why an event bound to this consumer cannot be handled; None if it is not ours."""
        if (envelope.type, envelope.version) not in REGISTRY:
            if any(t == envelope.type for t, _ in REGISTRY):
                return f"unknown version {envelope.version} of {envelope.type}"
            return f"unknown event type {envelope.type}"
        if envelope.type in self.handled_types:
            return f"{self.service} does not handle version {envelope.version} of {envelope.type}"
        return None

    def mark_span(self, envelope: Envelope) -> None:
        """Name the consumer and the event on the current span: FastStream's consumer span,
        continued from the event's headers (the trace of the request that caused it)."""
        span = trace.get_current_span()
        span.set_attribute("clientops.consumer", self.service)
        span.set_attribute("clientops.event_id", str(envelope.event_id))

    def _contract_of(self, envelope: Envelope) -> tuple[Subscription | None, Event | None]:
        """The subscription and the validated event; (None, None) for an event bound by
        pattern that is not ours. Raises PermanentFailure for what must be dead-lettered."""
        sub = self.subscriptions.get((envelope.type, envelope.version))
        if sub is None:
            reason = self._unknown(envelope)
            if reason is not None:
                log.error("event %s (%s v%s) dead-lettered: %s", envelope.event_id,
                          envelope.type, envelope.version, reason,
                          extra={"event_id": str(envelope.event_id), "event_type": envelope.type})
                raise PermanentFailure(reason)
            return None, None
        try:
            return sub, sub.contract.model_validate(envelope.payload)
        except ValidationError as exc:
            log.error("event %s (%s) does not match its contract: %s", envelope.event_id,
                      envelope.type, exc,
                      extra={"event_id": str(envelope.event_id), "event_type": envelope.type})
            raise PermanentFailure(f"payload does not match {envelope.type} "
                                   f"v{envelope.version}: {exc}") from None

    async def _apply(self, uow: U, envelope: Envelope, sub: Subscription | None,
                     event: Event | None) -> bool:
        """Inbox row, order check and handler inside ``uow``'s transaction (not committed).
        False for a redelivery or an old step (its inbox row and nothing else is written)."""
        with context.bound(correlation=envelope.correlation_id, causation=envelope.event_id,
                           who=f"event:{envelope.producer}"):
            if not await inbox.claim(uow.session, uow.tables.inbox, envelope.event_id,
                                     self.service, envelope.type):
                return False
            if self._ordered(envelope) and not await admit_step(
                    uow.session, uow.tables.aggregate_applied, self.service, envelope):
                return False  # an old step: remember we saw it, apply nothing
            if sub is not None:
                await sub.handler(event, envelope, uow)
        return True

    async def dispatch(self, envelope: Envelope, uow_factory: Callable[[], U]) -> bool:
        """Run the handler in one transaction with the inbox row. False if already seen
        (or not ours). Raises PermanentFailure for what must be dead-lettered at once and
        PredecessorMissing for an aggregate step that came too early."""
        self.mark_span(envelope)
        sub, event = self._contract_of(envelope)
        if sub is None and not self._ordered(envelope):
            return False  # bound by pattern but not ours: nothing to do
        # (not ours but a step of an aggregate we follow: it still counts in the order)
        async with uow_factory() as uow:
            applied = await self._apply(uow, envelope, sub, event)
            await uow.commit()
        return applied

    async def dispatch_together(self, envelopes: Sequence[Envelope],
                                uow_factory: Callable[[], U]) -> list[bool]:
        """Several events in one transaction (one connection, one commit), each as
        ``dispatch`` would handle it, their inbox rows and order checks set-wise; all or
        none. Raises what the first failing one raises: the caller then handles them one by
        one (``GroupCommit``)."""
        # one event delivered twice (a redelivery while the first copy waited) is handled
        # once: two copies would share one inbox row and one order check, and the second
        # copy's "already applied" must not cancel the first's handling
        unique: dict[uuid.UUID, Envelope] = {}
        for e in envelopes:
            unique.setdefault(e.event_id, e)
        contracts = {e.event_id: self._contract_of(e) for e in unique.values()}
        ours = [e for e in unique.values()
                if contracts[e.event_id][0] is not None or self._ordered(e)]
        done: set[uuid.UUID] = set()
        async with uow_factory() as uow:
            fresh = await claim_together(uow.session, uow.tables.inbox, self.service, ours)
            ours = [e for e in ours if e.event_id in fresh]
            admitted = await admit_together(uow.session, uow.tables.aggregate_applied,
                                            self.service, [e for e in ours if self._ordered(e)])
            ours = [e for e in ours if admitted.get(e.event_id, True)]
            if self.prepare_group is not None:
                await self.prepare_group(uow, ours)
            for envelope in ours:
                sub, event = contracts[envelope.event_id]
                if sub is not None:
                    with context.bound(correlation=envelope.correlation_id,
                                       causation=envelope.event_id,
                                       who=f"event:{envelope.producer}"):
                        await sub.handler(event, envelope, uow)
                done.add(envelope.event_id)
            await uow.commit()
        seen: set[uuid.UUID] = set()
        outcomes = []
        for e in envelopes:
            outcomes.append(e.event_id in done and e.event_id not in seen)
            seen.add(e.event_id)
        return outcomes


@dataclass(frozen=True)
class Waiting:
    """An event delivered and waiting for a group: what it resolves, and its delivery's context
    (its trace)."""
    envelope: Envelope
    future: asyncio.Future[bool]
    context: contextvars.Context


class GroupCommit(Generic[U]):
    """Events delivered at the same time handled in shared transactions: up to ``size``
    events per transaction, up to ``workers`` transactions at once (one connection each).

    A burst then pays one connection check-out, one BEGIN and one fsync'd COMMIT per group
    instead of per event. A group that fails in any way is rolled back and its events are
    handled one by one (``dispatch``), so each gets its own outcome (retry, park, dead
    letter) exactly as without grouping; their inbox rows keep that idempotent, also for a
    handler that committed part of the group itself.

    An event handled by itself (a group of one, or one by one after a failed group) runs in
    its delivery's context, so its statements are in the trace of the request that caused it.
    A group of several runs under a span of its own linked to each delivery's span: its
    statements belong to several traces at once.
    """

    def __init__(self, handlers: EventHandlers[U], uow_factory: Callable[[], U], size: int,
                 workers: int) -> None:
        self.handlers = handlers
        self.uow_factory = uow_factory
        self.size = size
        self.workers = workers
        self._waiting: list[Waiting] = []
        self._active = 0  # workers started and not finished
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done

    async def dispatch(self, envelope: Envelope) -> bool:
        if self.handlers.handled_alone(envelope):
            return await self.handlers.dispatch(envelope, self.uow_factory)
        self.handlers.mark_span(envelope)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(Waiting(envelope, future, contextvars.copy_context()))
        if self._active < self.workers:
            self._active += 1
            task = asyncio.create_task(self._work(), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _work(self) -> None:
        group: list[Waiting] = []
        try:
            # the check for more and the exit below happen without a pause in between, so
            # an event queued meanwhile always finds a worker running or starts one
            while self._waiting:
                group, self._waiting = self._waiting[:self.size], self._waiting[self.size:]
                await self._handle(group)
        except asyncio.CancelledError:
            for waiting in group:
                waiting.future.cancel()
            raise
        finally:
            self._active -= 1

    async def _handle(self, group: list[Waiting]) -> None:
        if len(group) > 1:
            links = [trace.Link(w.context.run(trace.get_current_span).get_span_context())
                     for w in group]
            try:
                with trace.get_tracer(__name__).start_as_current_span(
                        f"{self.handlers.service} group of {len(group)} events", links=links):
                    outcomes = await self.handlers.dispatch_together(
                        [w.envelope for w in group], self.uow_factory)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # handled one by one below, each with its own outcome
                log.info("%s: a group of %s events failed together (%s: %s); handling them "
                         "one by one", self.handlers.service, len(group), type(exc).__name__,
                         exc)
            else:
                for waiting, outcome in zip(group, outcomes, strict=True):
                    if not waiting.future.done():
                        waiting.future.set_result(outcome)
                return
        for waiting in group:
            try:  # in the delivery's own context: its trace, its log fields
                outcome = await asyncio.create_task(
                    self.handlers.dispatch(waiting.envelope, self.uow_factory),
                    context=waiting.context.copy())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            else:
                if not waiting.future.done():
                    waiting.future.set_result(outcome)


def make_broker(amqp_url: str, tracer_provider: TracerProvider | None = None) -> RabbitBroker:
    return RabbitBroker(
        amqp_url,
        middlewares=[RabbitTelemetryMiddleware(tracer_provider=tracer_provider)],
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=logging.getLogger("clientops.broker"),
        log_level=logging.DEBUG,
    )


def _int_header(headers: Any, name: str) -> int:
    value = headers.get(name)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def subscribe(broker: RabbitBroker, handlers: EventHandlers[U], uow_factory: Callable[[], U],
              delivery_limit: int, prefetch: int = 1, *, group: int = 1,
              retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
              failures: ConsumerFailures | None = None,
              database_up: Callable[[], Awaitable[bool]] | None = None,
              pause_max_seconds: float = 300.0) -> None:
    """Register the service's one consumer on its queue (declared and bound at start).

    aio-pika runs a task per delivered message, so the prefetch count is the number of events
    in flight in one process. With ``group`` 1 each is handled in a transaction of its own
    (the runtime sizes the prefetch to the database pool: one connection per handler in
    flight); with ``group`` > 1 the events in flight share transactions of up to ``group``
    events, ``prefetch // group`` transactions at once (``GroupCommit``). Order is not relied
    on: aggregate steps are ordered by their version (see the module docstring).
    """
    service = handlers.service
    grouped = (GroupCommit(handlers, uow_factory, group, max(1, prefetch // group))
               if group > 1 else None)

    async def dispatch(envelope: Envelope) -> bool:
        if grouped is not None:
            return await grouped.dispatch(envelope)
        return await handlers.dispatch(envelope, uow_factory)

    async def report(message_id: str, event_type: str, outcome: str,
                     exc: BaseException) -> None:
        observability.count_failure(service, event_type, outcome, exc)
        log.error("%s failed to handle %s %s (%s): %s: %s", service, event_type, message_id,
                  outcome, type(exc).__name__, exc,
                  extra={"event_id": message_id, "event_type": event_type, "outcome": outcome})
        if failures is not None:
            await failures.record(message_id, event_type, outcome, exc)

    async def park(message: RabbitMessage, attempt: int) -> float:
        delay = retry_delays[attempt]
        raw = message.raw_message
        headers = {k: v for k, v in (raw.headers or {}).items() if not k.startswith("x-")}
        headers[ATTEMPT_HEADER] = attempt + 1
        await broker.publish(raw.body, queue=delay_queue_name(service, delay), persist=True,
                             headers=headers, message_id=raw.message_id,
                             correlation_id=raw.correlation_id, message_type=raw.type,
                             content_type=raw.content_type or "application/json")
        return delay

    async def wait_for_database(until: float) -> None:
        assert database_up is not None
        CONSUMER_PAUSED.labels(service).set(1)
        log.warning("%s: database unreachable, consumer paused until it answers", service)
        pause = 0.5
        try:
            while time.monotonic() < until:
                await asyncio.sleep(pause)
                if await database_up():
                    log.info("%s: database back, consumer resumes", service)
                    return
                pause = min(pause * 2, 5.0)
        finally:
            CONSUMER_PAUSED.labels(service).set(0)

    async def undecoded(msg: Any) -> Any:
        """The body as it came: an undecodable one is reported below, not in FastStream's
        decoder (where it would be requeued to the delivery limit, unrecorded)."""
        return msg.body

    @broker.subscriber(service_queue(service, delivery_limit), events_exchange,
                       channel=Channel(prefetch_count=prefetch),
                       ack_policy=AckPolicy.NACK_ON_ERROR, decoder=undecoded)
    async def consume(body: Any, message: RabbitMessage) -> None:
        raw = message.raw_message
        headers = raw.headers or {}
        attempt = _int_header(headers, ATTEMPT_HEADER)
        message_id = str(raw.message_id or message.message_id)
        event_type = raw.type or "unknown"
        try:
            envelope = (Envelope.model_validate_json(body) if isinstance(body, bytes | str)
                        else Envelope.model_validate(body))
        except ValidationError as exc:
            await report(message_id, event_type, "dead_lettered",
                         PermanentFailure(f"not an event envelope: {exc}"))
            raise RejectMessage() from None
        message_id, event_type = str(envelope.event_id), envelope.type
        paused_until: float | None = None
        while True:
            try:
                await dispatch(envelope)
            except PermanentFailure as exc:
                await report(message_id, event_type, "dead_lettered", exc)
                raise RejectMessage() from None
            except Exception as exc:
                if (database_up is not None and is_connection_loss(exc)
                        and (paused_until is None or time.monotonic() < paused_until)
                        and not await database_up()):
                    # the database is away: hold this message, fetch no other, wait for it
                    if paused_until is None:
                        paused_until = time.monotonic() + pause_max_seconds
                    await wait_for_database(paused_until)
                    continue
                if is_transient(exc):
                    if attempt < len(retry_delays):
                        if isinstance(exc, PredecessorMissing):
                            CONSUMER_PARKED.labels(service, event_type).inc()
                            log.info("%s parks %s %s: %s", service, event_type, message_id, exc)
                        else:
                            await report(message_id, event_type, "retrying", exc)
                        await park(message, attempt)
                        return  # acknowledged: the copy waits in the delay queue
                    await report(message_id, event_type, "dead_lettered", exc)
                    raise RejectMessage() from None
                deliveries = _int_header(headers, "x-delivery-count")
                await report(message_id, event_type,
                             "dead_lettered" if deliveries + 1 >= delivery_limit else "failing",
                             exc)
                raise
            if failures is not None and (attempt or raw.redelivered):
                await failures.resolve(message_id)
            return


async def declare_topology(amqp_url: str, delivery_limit: int,
                           consumers: dict[str, tuple[str, ...]] | None = None,
                           retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> None:
    """Exchanges, the unrouted parking queue, and every consuming service's queue and DLQ.

    Every service declares all of it (idempotently) so that no producer can start publishing
    before a consumer's queue exists: such events would land in the unrouted queue instead.

    Declared on a connection of its own, never through a broker that later consumes: FastStream
    caches a declared queue object with the channel it was declared on, and a subscriber would
    then consume on that shared channel without its own prefetch (QoS 0 = unlimited).
    """
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await _declare_exchange(channel, unrouted_exchange)
        await _declare_exchange(channel, dead_letter_exchange)
        await _declare_exchange(channel, events_exchange)
        parked = await _declare_queue(
            channel, RabbitQueue(UNROUTED_QUEUE, queue_type=QueueType.QUORUM, durable=True))
        await parked.bind(UNROUTED_EXCHANGE)
        for service, keys in (CONSUMERS if consumers is None else consumers).items():
            dlq = await _declare_queue(
                channel, RabbitQueue(dlq_name(service), queue_type=QueueType.QUORUM,
                                     durable=True))
            await dlq.bind(DLX, routing_key=queue_name(service))
            queue = await _declare_queue(channel, service_queue(service, delivery_limit))
            for key in keys:
                await queue.bind(EXCHANGE, routing_key=key)
            for delay in retry_delays:
                await _declare_queue(channel, delay_queue(service, delay))


async def _declare_exchange(channel: aio_pika.abc.AbstractChannel,
                            exchange: RabbitExchange) -> aio_pika.abc.AbstractExchange:
    return await channel.declare_exchange(exchange.name, type=exchange.type.value,
                                          durable=exchange.durable,
                                          arguments=exchange.arguments)


async def _declare_queue(channel: aio_pika.abc.AbstractChannel,
                         queue: RabbitQueue) -> aio_pika.abc.AbstractQueue:
    return await channel.declare_queue(queue.name, durable=queue.durable,
                                       arguments=queue.arguments)


async def queue_depths(amqp_url: str, service: str) -> dict[str, int]:
    """Messages ready in the service's queue and in its dead-letter queue."""
    connection = await aio_pika.connect(amqp_url, timeout=5)
    async with connection:
        channel = await connection.channel()
        depths = {}
        for key, name in (("queue", queue_name(service)), ("dlq", dlq_name(service))):
            queue = await channel.declare_queue(name, passive=True)
            depths[key] = int(queue.declaration_result.message_count or 0)
        return depths


__all__ = ["DLX", "EXCHANGE", "REGISTRY", "ConsumerFailures", "EventHandlers", "GroupCommit",
           "PermanentFailure", "PredecessorMissing", "RetryLater", "declare_topology",
           "delay_queue_name", "dlq_name", "is_transient", "make_broker", "queue_name",
           "subscribe"]
