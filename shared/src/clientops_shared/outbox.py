"""Outbox relay: publishes committed events with publisher confirms, then marks them sent.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several relays (replicas) share the work
without publishing a row twice at the same time. A crash between publish and commit publishes
the row again later; consumers' inboxes make that harmless. Never relay by "last id": sequence
values commit out of order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from opentelemetry import propagate, trace
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared.messaging import EXCHANGE

log = logging.getLogger("clientops.outbox")
tracer = trace.get_tracer("clientops.outbox")

OUTBOX_PENDING = Gauge("clientops_outbox_pending", "Events committed but not yet published",
                       ["service"])
OUTBOX_LAG = Gauge("clientops_outbox_lag_seconds", "Age of the oldest unpublished event",
                   ["service"])
OUTBOX_PUBLISHED = Counter("clientops_outbox_published_total", "Events published", ["service"])
OUTBOX_FAILURES = Counter("clientops_outbox_failures_total", "Failed publish attempts",
                          ["service"])


def backoff(attempts: int, base: float = 0.5, cap: float = 60.0) -> float:
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, outbox: sa.Table, amqp_url: str, service: str, *,
                 batch: int = 100, poll_seconds: float = 0.2, publish_timeout: float = 10.0
                 ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.amqp_url = amqp_url
        self.service = service
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self.connected = False

    def wake(self) -> None:
        """A hint that a transaction just committed events; polling still catches everything."""
        self._wake.set()

    async def _ensure_exchange(self) -> AbstractExchange:
        if self._exchange is not None and self._channel is not None and not self._channel.is_closed:
            return self._exchange
        await self.close()
        self._connection = await aio_pika.connect(self.amqp_url, timeout=5)
        # mandatory + on_return_raises: a message no queue (nor the alternate exchange) takes is
        # an error, never "sent"
        self._channel = await self._connection.channel(publisher_confirms=True,
                                                       on_return_raises=True)
        self._exchange = await self._channel.get_exchange(EXCHANGE, ensure=True)
        self.connected = True
        return self._exchange

    async def close(self) -> None:
        self.connected = False
        connection, self._connection, self._channel, self._exchange = (
            self._connection, None, None, None)
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken; nothing more to release
                log.debug("closing a broken AMQP connection failed", exc_info=True)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published. Raises on broker trouble."""
        o = self.outbox
        async with self.engine.begin() as conn:
            rows = (await conn.execute(
                sa.select(o.c.id, o.c.event_id, o.c.routing_key, o.c.body, o.c.headers,
                          o.c.attempts)
                .where(o.c.sent_at.is_(None), o.c.next_attempt_at <= sa.func.now())
                .order_by(o.c.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )).all()
            if not rows:
                return 0
            failure: BaseException | None = None
            outcomes: list[BaseException | None]
            try:
                exchange = await self._ensure_exchange()
                # publishes go out in row order and their confirms are awaited together:
                # one round trip per batch instead of one per event
                outcomes = list(await asyncio.gather(
                    *(self._publish(exchange, row) for row in rows), return_exceptions=True))
            except Exception as exc:  # could not even reach the broker
                outcomes = [exc] * len(rows)
            sent = [row.id for row, out in zip(rows, outcomes, strict=True) if out is None]
            failed = [(row, out) for row, out in zip(rows, outcomes, strict=True)
                      if out is not None]
            if sent:
                await conn.execute(o.update().where(o.c.id.in_(sent))
                                   .values(sent_at=sa.func.now(), last_error=None))
                OUTBOX_PUBLISHED.labels(self.service).inc(len(sent))
            for row, error in failed:  # broker down, nack, return: retry those rows later
                failure = error
                OUTBOX_FAILURES.labels(self.service).inc()
                delay = timedelta(seconds=backoff(row.attempts + 1))
                await conn.execute(
                    o.update().where(o.c.id == row.id).values(
                        attempts=o.c.attempts + 1,
                        next_attempt_at=sa.func.now() + delay,
                        last_error=f"{type(error).__name__}: {error}"[:2000]))
        if failure is not None:
            await self.close()
            raise failure
        return len(sent)

    async def _publish(self, exchange: AbstractExchange, row: Any) -> None:
        parent = propagate.extract(row.headers or {})
        with tracer.start_as_current_span(f"{row.routing_key} publish", context=parent,
                                          kind=trace.SpanKind.PRODUCER) as span:
            span.set_attribute("messaging.system", "rabbitmq")
            span.set_attribute("messaging.destination.name", EXCHANGE)
            span.set_attribute("messaging.rabbitmq.destination.routing_key", row.routing_key)
            span.set_attribute("messaging.message.id", str(row.event_id))
            headers: dict[str, str] = {}
            propagate.inject(headers)
            body = row.body
            message = aio_pika.Message(
                body=json.dumps(body).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(row.event_id),
                correlation_id=body.get("correlation_id"),
                type=row.routing_key,
                app_id=self.service,
                headers=dict(headers),
            )
            await exchange.publish(message, routing_key=row.routing_key, mandatory=True,
                                   timeout=self.publish_timeout)

    async def refresh_metrics(self) -> None:
        o = self.outbox
        async with self.engine.connect() as conn:
            count, oldest = (await conn.execute(
                sa.select(sa.func.count(), sa.func.extract("epoch", sa.func.now() - sa.func.min(
                    o.c.created_at))).where(o.c.sent_at.is_(None)))).one()
        OUTBOX_PENDING.labels(self.service).set(count)
        OUTBOX_LAG.labels(self.service).set(float(oldest or 0))

    async def run(self) -> None:
        """Relay until cancelled, backing off while the broker or the database is away."""
        failures = 0
        ticks = 0
        try:
            while True:
                # cleared before the claim, not after it: a commit while this batch is being
                # published wakes the next round at once instead of being lost for a poll
                self._wake.clear()
                try:
                    published = await self.relay_once()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failures += 1
                    log.warning("outbox relay failed (attempt %s): %s", failures, exc)
                    await asyncio.sleep(backoff(failures, base=0.2, cap=10))
                    continue
                ticks += 1
                if ticks % 25 == 1:
                    try:
                        await self.refresh_metrics()
                    except Exception:
                        log.debug("outbox metrics refresh failed", exc_info=True)
                if published >= self.batch:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
        finally:
            await self.close()
