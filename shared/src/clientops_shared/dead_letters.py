"""Dead letters: what died in a service's dead-letter queue, why, and the safe ways out.

An operator reads a service's DLQ (each message with its event type and id, the handler's
error text and exception class, first and last failure, delivery count, headers, trace link
and ``x-death`` as JSON), then either **replays** messages or **drops** them, always with a
reason that lands in the service's audit log with who did it.

Replay puts a message back on the queue it died in, and only there: the default exchange with
routing key = that queue's name (never the shared topic exchange, which would hand a copy to
every subscribed service). Each selected message goes back once per request, however quickly
it fails again: the scan stops at the messages that were in the DLQ when it began.

Failure details come from the consumer's record, the ``consumer_failure`` table
(``clientops_shared.messaging``); RabbitMQ's ``x-death`` says when and where a message died,
not why.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared.errors import DomainError
from clientops_shared.messaging import dlq_name, queue_name
from clientops_shared.settings import common

log = logging.getLogger("clientops.dead_letters")

REPLAYED = "dead_letter.replayed"
DROPPED = "dead_letter.dropped"
ENTITY = "event"
MAX_CAP = 1000  # messages one replay or drop may move
SCAN_LIMIT = 10_000  # messages one request may look at
DEFAULT_TRACE_URL = "http://127.0.0.1:16686/trace/{trace_id}"  # Jaeger in compose
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


class BrokerUnavailable(DomainError):
    """The broker cannot be reached: answered as 503 with the reason."""

    status = 503
    title = "Broker unavailable"


@dataclass(frozen=True)
class Selection:
    """Which dead letters a request means: ids, an event type, dead since; all that apply."""

    message_ids: frozenset[str] = frozenset()
    event_type: str | None = None
    since: datetime | None = None

    def matches(self, letter: DeadLetter) -> bool:
        if self.message_ids and letter.message_id not in self.message_ids:
            return False
        if self.event_type and letter.event_type != self.event_type:
            return False
        if self.since is not None:
            last = letter.last_failed_at
            if last is None or last < self.since:
                return False
        return True


@dataclass
class DeadLetter:
    message_id: str
    event_type: str | None
    queue: str  # the queue it died in, where a replay puts it back
    dead_lettered_at: datetime | None
    reason: str | None  # RabbitMQ's: delivery_limit, rejected, expired
    deliveries: int
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None
    error: str | None = None
    error_class: str | None = None
    failures: int = 0
    trace_id: str | None = None
    trace_url: str | None = None
    correlation_id: str | None = None
    producer: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    death: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=_json_default))  # type: ignore[no-any-return]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.decode(errors="replace")
    return str(value)


def _plain(value: Any) -> Any:
    """AMQP header values (bytes, datetimes, nested tables) as JSON-friendly values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.decode(errors="replace")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def trace_id_of(headers: dict[str, Any]) -> str | None:
    raw = headers.get("traceparent")
    if isinstance(raw, bytes):
        raw = raw.decode(errors="replace")
    match = _TRACEPARENT.match(str(raw or ""))
    return match.group(1) if match else None


def read(message: AbstractIncomingMessage, service: str) -> DeadLetter:
    """What the broker knows about one dead letter (failure details are added later)."""
    headers: dict[str, Any] = dict(message.headers or {})
    raw_deaths = headers.get("x-death")
    deaths = [d for d in (raw_deaths if isinstance(raw_deaths, list) else [])
              if isinstance(d, dict)]
    own = [d for d in deaths if str(_plain(d.get("queue"))) == queue_name(service)]
    latest = own[0] if own else (deaths[0] if deaths else {})
    try:
        body: Any = json.loads(message.body)
    except ValueError:
        body = message.body.decode(errors="replace")[:4000]
    event_type = message.type or (body.get("type") if isinstance(body, dict) else None)
    # x-delivery-count is no help here: every look at the DLQ (a get put back) raises it
    deliveries = sum(_int(d.get("count")) for d in own) or 1
    trace_id = trace_id_of(headers)
    template = common("TRACE_URL", DEFAULT_TRACE_URL)
    return DeadLetter(
        message_id=str(message.message_id or ""),
        event_type=event_type,
        queue=queue_name(service),
        dead_lettered_at=_aware(latest.get("time")),
        reason=_plain(latest.get("reason")),
        deliveries=deliveries,
        last_failed_at=_aware(latest.get("time")),
        first_failed_at=_aware(latest.get("time")),
        trace_id=trace_id,
        trace_url=template.format(trace_id=trace_id) if trace_id and template else None,
        correlation_id=message.correlation_id,
        producer=message.app_id or (body.get("producer") if isinstance(body, dict) else None),
        headers={k: _plain(v) for k, v in headers.items() if k != "x-death"},
        death=[_plain(d) for d in deaths],
        body=body,
    )


async def add_failures(engine: AsyncEngine, failures: sa.Table, letters: Sequence[DeadLetter],
                       service: str) -> None:
    """Fill in error text and class, first and last failure from the consumer's record
    (``consumer_failure``: one row per consumer and message)."""
    ids = [letter.message_id for letter in letters if letter.message_id]
    if not ids:
        return
    f = failures
    query = sa.select(f.c.message_id, f.c.error, f.c.error_class, f.c.failures,
                      f.c.first_failed_at, f.c.last_failed_at).where(
        f.c.message_id.in_(ids), f.c.consumer == service)
    async with engine.connect() as conn:
        found = {row["message_id"]: {
            "error": row["error"], "error_class": row["error_class"],
            "failures": row["failures"], "first": row["first_failed_at"],
            "last": row["last_failed_at"], "trace_id": None}
            for row in (await conn.execute(query)).mappings()}
    for letter in letters:
        record = found.get(letter.message_id)
        if record is None:
            continue
        letter.failures = record["failures"]
        letter.first_failed_at = record["first"]
        letter.last_failed_at = max(record["last"], letter.dead_lettered_at or record["last"])
        letter.error = record["error"]
        letter.error_class = record["error_class"]
        # the consumer saw each failed delivery
        letter.deliveries = max(letter.deliveries, record["failures"])
        if letter.trace_id is None and record["trace_id"]:
            letter.trace_id = record["trace_id"]


Act = Callable[[aio_pika.abc.AbstractChannel, AbstractIncomingMessage, DeadLetter],
               Awaitable[None]]


async def _scan(amqp_url: str, service: str, selection: Selection, cap: int,
                act: Act | None, enrich: Callable[[list[DeadLetter]], Awaitable[None]] | None,
                ) -> list[DeadLetter]:
    """Look at the messages in the DLQ when the scan began; ``act`` on the first ``cap`` that
    match (which then must ack them); every other message goes back untouched."""
    if not 1 <= cap <= SCAN_LIMIT:
        raise ValueError(f"cap must be 1…{SCAN_LIMIT}")
    try:
        connection = await aio_pika.connect(amqp_url, timeout=5)
    except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
        raise BrokerUnavailable(f"cannot reach the broker: {type(exc).__name__}: {exc}") from None
    try:
        return await _scan_on(connection, service, selection, cap, act, enrich)
    except (OSError, aio_pika.exceptions.AMQPConnectionError,
            aio_pika.exceptions.ChannelInvalidStateError) as exc:
        raise BrokerUnavailable(f"lost the broker: {type(exc).__name__}: {exc}") from None


async def _scan_on(connection: aio_pika.abc.AbstractConnection, service: str,
                   selection: Selection, cap: int, act: Act | None,
                   enrich: Callable[[list[DeadLetter]], Awaitable[None]] | None,
                   ) -> list[DeadLetter]:
    chosen: list[DeadLetter] = []
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        try:
            queue = await channel.declare_queue(dlq_name(service), passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return []  # not declared yet: nothing ever died
        waiting = int(queue.declaration_result.message_count or 0)
        held: list[tuple[AbstractIncomingMessage, DeadLetter]] = []
        try:
            for _ in range(min(waiting, SCAN_LIMIT)):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                held.append((message, read(message, service)))
            letters = [letter for _, letter in held]
            if enrich is not None:
                await enrich(letters)
            for message, letter in held:
                if len(chosen) < cap and selection.matches(letter):
                    if act is not None:
                        await act(channel, message, letter)
                    chosen.append(letter)
        finally:
            for message, _ in held:
                if not message.processed:
                    await message.nack(requeue=True)
    return chosen


async def _audited(engine: AsyncEngine, audit: sa.Table, action: str, actor: str, reason: str,
                   letters: Iterable[DeadLetter], correlation_id: str | None) -> None:
    rows = [{"actor": actor, "action": action, "entity": ENTITY, "entity_id": letter.message_id,
             "before": None, "correlation_id": correlation_id,
             "after": {"reason": reason, "queue": letter.queue, "type": letter.event_type,
                       "error": letter.error, "error_class": letter.error_class}}
            for letter in letters]
    if rows:
        async with engine.begin() as conn:
            await conn.execute(audit.insert(), rows)


@dataclass(frozen=True)
class DeadLetters:
    """One service's dead-letter queue as an operator sees it."""

    amqp_url: str
    service: str
    engine: AsyncEngine
    audit: sa.Table
    failures: sa.Table  # consumer_failure: what each failed handling was

    async def _enrich(self, letters: list[DeadLetter]) -> None:
        await add_failures(self.engine, self.failures, letters, self.service)

    async def peek(self, selection: Selection = Selection(), limit: int = 50
                   ) -> list[DeadLetter]:
        return await _scan(self.amqp_url, self.service, selection, limit, None, self._enrich)

    async def get(self, message_id: str) -> DeadLetter | None:
        found = await self.peek(Selection(message_ids=frozenset({message_id})), 1)
        return found[0] if found else None

    async def replay(self, selection: Selection, *, cap: int, actor: str, reason: str,
                     correlation_id: str | None = None) -> list[DeadLetter]:
        """Each selected message back onto the queue it died in, once; audited."""

        async def back_to_its_queue(channel: aio_pika.abc.AbstractChannel,
                                    message: AbstractIncomingMessage, letter: DeadLetter) -> None:
            headers = {k: v for k, v in (message.headers or {}).items()
                       if not k.startswith("x-")}
            headers["clientops-replayed-by"] = actor
            headers["clientops-replays"] = _int(headers.get("clientops-replays")) + 1
            await channel.default_exchange.publish(
                aio_pika.Message(body=message.body, content_type=message.content_type,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                 message_id=message.message_id,
                                 correlation_id=message.correlation_id, type=message.type,
                                 app_id=message.app_id, headers=headers),
                routing_key=letter.queue, mandatory=True)  # confirmed before the ack below
            await message.ack()
            moved.append(letter)

        moved: list[DeadLetter] = []
        try:
            await _scan(self.amqp_url, self.service, selection, cap, back_to_its_queue,
                        self._enrich)
        finally:  # what was moved is on record even if the broker went away half-way
            await _audited(self.engine, self.audit, REPLAYED, actor, reason, moved,
                           correlation_id)
        log.warning("%s replayed %d dead letters of %s to %s: %s", actor, len(moved),
                    self.service, queue_name(self.service), reason)
        return moved

    async def drop(self, selection: Selection, *, cap: int, actor: str, reason: str,
                   correlation_id: str | None = None) -> list[DeadLetter]:
        """Remove the selected messages from the DLQ for good; audited with the reason."""

        async def remove(_: aio_pika.abc.AbstractChannel, message: AbstractIncomingMessage,
                         letter: DeadLetter) -> None:
            await message.ack()
            dropped.append(letter)

        dropped: list[DeadLetter] = []
        try:
            await _scan(self.amqp_url, self.service, selection, cap, remove, self._enrich)
        finally:
            await _audited(self.engine, self.audit, DROPPED, actor, reason, dropped,
                           correlation_id)
        log.warning("%s dropped %d dead letters of %s: %s", actor, len(dropped), self.service,
                    reason)
        return dropped


__all__ = ["DROPPED", "REPLAYED", "BrokerUnavailable", "DeadLetter", "DeadLetters",
           "Selection", "add_failures", "read", "trace_id_of"]
