"""RabbitMQ topology and idempotent event consumption (FastStream on aio-pika).

Topology, declared at start-up before any traffic:
- ``clientops.events``: durable topic exchange, routing key = event type; its alternate
  exchange ``clientops.unrouted`` parks events no service subscribes to, for an operator to see;
- per consuming service one durable quorum queue ``<service>.events`` bound to the event types
  it handles, with ``x-delivery-limit`` and a dead-letter exchange ``clientops.dlx`` that routes
  to ``<service>.events.dlq``.

Acks: a handler error nacks with requeue; the quorum queue counts deliveries and dead-letters
the message after the limit. An event whose contract version the service does not know, or
whose payload does not validate, is rejected straight to the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aio_pika
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
from pydantic import ValidationError

from clientops_shared import context, inbox
from clientops_shared.events.base import REGISTRY, Envelope, Event
from clientops_shared.uow import UnitOfWork

log = logging.getLogger("clientops.messaging")

EXCHANGE = "clientops.events"
UNROUTED_EXCHANGE = "clientops.unrouted"
UNROUTED_QUEUE = "clientops.unrouted"
DLX = "clientops.dlx"

events_exchange = RabbitExchange(EXCHANGE, type=ExchangeType.TOPIC, durable=True,
                                 arguments={"alternate-exchange": UNROUTED_EXCHANGE})
unrouted_exchange = RabbitExchange(UNROUTED_EXCHANGE, type=ExchangeType.FANOUT, durable=True)
dead_letter_exchange = RabbitExchange(DLX, type=ExchangeType.DIRECT, durable=True)


# Who consumes what: routing-key patterns bound to each service's queue. A service handles the
# types it registers and acks the rest; its handler set must stay within these patterns.
CONSUMERS: dict[str, tuple[str, ...]] = {
    "contracts": ("field_ops.equipment.#",),
    "billing": ("contracts.#", "field_ops.equipment.#", "logistics.#"),
    "field_ops": ("contracts.#", "logistics.shipment.#"),
    "logistics": ("contracts.#", "field_ops.#"),
    "notifications": ("#",),
}


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

    def on(self, contract: type[E]) -> Callable[[Callable[[E, Envelope, U], Awaitable[None]]],
                                                 Callable[[E, Envelope, U], Awaitable[None]]]:
        def register(fn: Callable[[E, Envelope, U], Awaitable[None]]
                     ) -> Callable[[E, Envelope, U], Awaitable[None]]:
            self.subscriptions[(contract.TYPE, contract.VERSION)] = Subscription(contract, fn)
            return fn
        return register

    @property
    def handled_types(self) -> set[str]:
        return {t for t, _ in self.subscriptions}

    async def dispatch(self, envelope: Envelope, uow_factory: Callable[[], U]) -> bool:
        """Run the handler in one transaction with the inbox row. False if already seen."""
        span = trace.get_current_span()  # FastStream's consumer span, continued from the headers
        span.set_attribute("clientops.consumer", self.service)
        span.set_attribute("clientops.event_id", str(envelope.event_id))
        sub = self.subscriptions.get((envelope.type, envelope.version))
        if sub is None:
            if envelope.type not in self.handled_types:
                return False  # bound by pattern but not ours: nothing to do
            raise RejectMessage()  # a version we do not know: dead-letter, never guess
        try:
            event = sub.contract.model_validate(envelope.payload)
        except ValidationError:
            log.exception("event %s %s does not match its contract", envelope.type,
                          envelope.event_id)
            raise RejectMessage() from None
        with context.bound(correlation=envelope.correlation_id, causation=envelope.event_id,
                           who=f"event:{envelope.producer}"):
            async with uow_factory() as uow:
                fresh = await inbox.claim(uow.session, uow.tables.inbox, envelope.event_id,
                                          self.service, envelope.type)
                if not fresh:
                    return False
                await sub.handler(event, envelope, uow)
                await uow.commit()
        return True


def make_broker(amqp_url: str, tracer_provider: TracerProvider | None = None) -> RabbitBroker:
    return RabbitBroker(
        amqp_url,
        middlewares=[RabbitTelemetryMiddleware(tracer_provider=tracer_provider)],
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=logging.getLogger("clientops.broker"),
        log_level=logging.DEBUG,
    )


def subscribe(broker: RabbitBroker, handlers: EventHandlers[U], uow_factory: Callable[[], U],
              delivery_limit: int, prefetch: int = 1) -> None:
    """Register the service's one consumer on its queue (declared and bound at start).

    aio-pika runs a task per delivered message, so the prefetch count is the handler
    concurrency of one process. The default of one keeps a producer's events in order (signed
    before amended, overdue before paid) and a handler's database use bounded; more replicas
    are the way to scale out.
    """

    @broker.subscriber(service_queue(handlers.service, delivery_limit), events_exchange,
                       channel=Channel(prefetch_count=prefetch),
                       ack_policy=AckPolicy.NACK_ON_ERROR)
    async def consume(body: dict[str, Any], message: RabbitMessage) -> None:
        try:
            envelope = Envelope.model_validate(body)
        except ValidationError:
            log.exception("message %s is not an event envelope", message.message_id)
            raise RejectMessage() from None
        await handlers.dispatch(envelope, uow_factory)


async def declare_topology(broker: RabbitBroker, delivery_limit: int,
                           consumers: dict[str, tuple[str, ...]] | None = None) -> None:
    """Exchanges, the unrouted parking queue, and every consuming service's queue and DLQ.

    Every service declares all of it (idempotently) so that no producer can start publishing
    before a consumer's queue exists: such events would land in the unrouted queue instead.
    """
    await broker.declare_exchange(unrouted_exchange)
    await broker.declare_exchange(dead_letter_exchange)
    events = await broker.declare_exchange(events_exchange)
    parked = await broker.declare_queue(
        RabbitQueue(UNROUTED_QUEUE, queue_type=QueueType.QUORUM, durable=True))
    await parked.bind(UNROUTED_EXCHANGE)
    for service, keys in (CONSUMERS if consumers is None else consumers).items():
        dlq = await broker.declare_queue(
            RabbitQueue(dlq_name(service), queue_type=QueueType.QUORUM, durable=True))
        await dlq.bind(DLX, routing_key=queue_name(service))
        queue = await broker.declare_queue(service_queue(service, delivery_limit))
        for key in keys:
            await queue.bind(events, routing_key=key)


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


__all__ = ["DLX", "EXCHANGE", "REGISTRY", "EventHandlers", "declare_topology", "dlq_name",
           "make_broker", "queue_name", "subscribe"]
