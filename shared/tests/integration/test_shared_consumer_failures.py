"""What a consumer does with what it cannot handle — loudly, through the real broker.

- a type the registry does not know, a version it does not know, a payload that does not
  validate: logged with the event id and type, recorded for an operator, dead-lettered at once;
- a transient failure: retried through the delay queues with back-off, then handled (or, when it
  never clears, dead-lettered after the last delay) — never spending the delivery limit at once;
- the database unreachable: the consumer holds the event, fetches no other, resumes by itself;
- /health/ready: the broker away only degrades the service, the database away makes it unready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa

from clientops_shared import messaging, observability
from clientops_shared.db import make_engine, shared_tables
from clientops_shared.events import Envelope, Event
from clientops_shared.messaging import ConsumerFailures, EventHandlers
from clientops_shared.settings import database_url
from clientops_shared.testing import (
    NoDatabaseUnitOfWork,
    Servers,
    eventually_async,
    publish_envelopes,
    running_app,
)

pytestmark = pytest.mark.integration

DELAYS = (0.2, 0.4)


class ProbeTransient(Event):
    TYPE = "test.failures.transient"
    n: int


class ProbeStrict(Event):
    TYPE = "test.failures.strict"
    n: int


class Probe:
    def __init__(self, servers: Servers, service: str, failures: ConsumerFailures) -> None:
        self.servers = servers
        self.service = service
        self.failures = failures
        self.calls: list[tuple[int, float]] = []
        self.fail_times: dict[int, int] = {}  # n -> how many times to fail transiently
        self.db_down = False
        self.handlers: EventHandlers[Any] = EventHandlers(service)

        @self.handlers.on(ProbeTransient)
        async def transient(event: ProbeTransient, envelope: Envelope, uow: Any) -> None:
            self.calls.append((event.n, time.monotonic()))
            if self.db_down:
                raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
            if self.fail_times.get(event.n, 0) > 0:
                self.fail_times[event.n] -= 1
                raise TimeoutError("the database did not answer in time")

        @self.handlers.on(ProbeStrict)
        async def strict(event: ProbeStrict, envelope: Envelope, uow: Any) -> None:
            self.calls.append((event.n, time.monotonic()))

    async def database_up(self) -> bool:
        return not self.db_down

    async def dlq(self) -> int:
        connection = await aio_pika.connect(self.servers.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(messaging.dlq_name(self.service), passive=True)
            return int(queue.declaration_result.message_count or 0)

    async def record(self, event_id: uuid.UUID) -> dict[str, Any] | None:
        t = self.failures.table
        async with self.failures.engine.connect() as conn:
            row = (await conn.execute(sa.select(t).where(
                t.c.consumer == self.service, t.c.message_id == str(event_id)))).mappings().first()
        return dict(row) if row else None


@pytest.fixture
async def probe(private_broker: Servers) -> AsyncIterator[Probe]:
    from notifications.adapters.orm import metadata

    service = f"probe{uuid.uuid4().hex[:6]}"
    engine = make_engine(database_url(private_broker.databases["notifications"],
                                      private_broker.pg_dsn))
    failures = ConsumerFailures(engine, shared_tables(metadata).consumer_failure, service)
    under_test = Probe(private_broker, service, failures)
    broker = messaging.make_broker(private_broker.amqp_url)
    broker.add_middleware(observability.consumer_observer(service))  # as the runtime does
    messaging.subscribe(broker, under_test.handlers, NoDatabaseUnitOfWork, 3,  # type: ignore[arg-type]
                        retry_delays=DELAYS, failures=failures,
                        database_up=under_test.database_up, pause_max_seconds=60)
    original_claim = messaging.inbox.claim

    async def claim(*args: Any, **kwargs: Any) -> bool:
        return True
    messaging.inbox.claim = claim  # type: ignore[assignment]
    try:
        await messaging.declare_topology(private_broker.amqp_url, 3, consumers={
            service: ("test.failures.#", "test.unknown.#")}, retry_delays=DELAYS)
        await broker.start()
        yield under_test
    finally:
        messaging.inbox.claim = original_claim  # type: ignore[assignment]
        await broker.stop()
        await engine.dispose()


async def test_unknown_type_unknown_version_and_bad_payload_are_logged_recorded_and_dead_lettered(
    probe: Probe, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="clientops.messaging")
    unknown_type = Envelope(type="test.unknown.thing", version=1, producer="test",
                            payload={"n": 1})
    unknown_version = Envelope.wrap(ProbeStrict(n=2), "test").model_copy(update={"version": 7})
    bad_payload = Envelope(type=ProbeStrict.TYPE, version=1, producer="test",
                           payload={"n": "not a number"})
    await publish_envelopes(probe.servers.amqp_url, [unknown_type, unknown_version, bad_payload])

    async def all_dead() -> bool:
        return await probe.dlq() == 3
    await eventually_async(all_dead, timeout=15)
    assert probe.calls == [], "none of them may reach a handler"
    for envelope, words in ((unknown_type, "unknown event type test.unknown.thing"),
                            (unknown_version, "unknown version 7 of test.failures.strict"),
                            (bad_payload, "payload does not match test.failures.strict")):
        record = await probe.record(envelope.event_id)
        assert record is not None, envelope.type
        assert record["outcome"] == "dead_lettered"
        assert record["event_type"] == envelope.type
        assert words in record["error"]
        assert record["failures"] == 1, "dead-lettered at once, not after redeliveries"
        logged = [r.getMessage() for r in caplog.records
                  if str(envelope.event_id) in r.getMessage()]
        assert any(envelope.type in m for m in logged), (envelope.type, logged)
        assert failures_counted(probe.service, envelope.type, "dead_lettered",
                                "PermanentFailure") >= 1


def failures_counted(service: str, event_type: str, outcome: str, error_class: str) -> float:
    """The one consumer-failure counter the alert and the dashboard read."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("clientops_consumer_failures_total", {
        "service": service, "event_type": event_type, "outcome": outcome,
        "error_class": error_class}) or 0.0


async def test_transient_failures_back_off_through_delay_queues_then_succeed(
    probe: Probe, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="clientops.consumer")
    probe.fail_times = {1: 2}  # fails twice, then the third attempt works
    envelope = Envelope.wrap(ProbeTransient(n=1), "test")
    started = time.monotonic()
    await publish_envelopes(probe.servers.amqp_url, [envelope])

    async def handled() -> bool:
        return len(probe.calls) == 3
    await eventually_async(handled, timeout=15)
    times = [t - started for _, t in probe.calls]
    # waited at least the first delay, then at least the second (not redelivered at once)
    assert times[1] - times[0] >= DELAYS[0] * 0.9
    assert times[2] - times[1] >= DELAYS[1] * 0.9
    await asyncio.sleep(0.5)
    assert len(probe.calls) == 3
    assert await probe.dlq() == 0

    async def resolved() -> bool:
        record = await probe.record(envelope.event_id)
        return record is not None and record["resolved_at"] is not None
    await eventually_async(resolved, timeout=5)
    record = await probe.record(envelope.event_id)
    assert record is not None
    assert (record["outcome"], record["failures"], record["error_class"]) == (
        "handled", 2, "TimeoutError")
    # the failure metric moved once per failed handling, by service, type and outcome
    assert failures_counted(probe.service, ProbeTransient.TYPE, "retrying", "TimeoutError") == 2
    # the event log line of a parked handling says so (never "ok"); the last one is ok
    lines = [r for r in caplog.records if r.name == "clientops.consumer"
             and getattr(r, "event_id", None) == str(envelope.event_id)]
    assert [r.outcome for r in lines] == ["retrying", "retrying", "ok"]  # type: ignore[attr-defined]


async def test_a_failure_that_never_clears_is_dead_lettered_after_the_last_delay(
    probe: Probe,
) -> None:
    probe.fail_times = {5: 100}
    envelope = Envelope.wrap(ProbeTransient(n=5), "test")
    await publish_envelopes(probe.servers.amqp_url, [envelope])

    async def dead() -> bool:
        return await probe.dlq() == 1
    await eventually_async(dead, timeout=15)
    assert len(probe.calls) == len(DELAYS) + 1
    record = await probe.record(envelope.event_id)
    assert record is not None and record["outcome"] == "dead_lettered"
    assert failures_counted(probe.service, ProbeTransient.TYPE, "retrying",
                            "TimeoutError") == len(DELAYS)
    assert failures_counted(probe.service, ProbeTransient.TYPE, "dead_lettered",
                            "TimeoutError") == 1


async def test_consumer_pauses_while_its_database_is_down_and_resumes_by_itself(
    probe: Probe,
) -> None:
    probe.db_down = True
    envelopes = [Envelope.wrap(ProbeTransient(n=n), "test") for n in (10, 11, 12)]
    await publish_envelopes(probe.servers.amqp_url, envelopes)

    async def paused() -> bool:
        return len(probe.calls) >= 1
    await eventually_async(paused, timeout=10)
    await asyncio.sleep(2.0)  # "down" for a while: no retry spent, nothing else fetched
    assert {n for n, _ in probe.calls} == {10}
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("clientops_consumer_paused",
                                     {"service": probe.service}) == 1
    probe.db_down = False

    async def all_handled() -> bool:
        return {n for n, _ in probe.calls} == {10, 11, 12}
    await eventually_async(all_handled, timeout=15)
    assert await probe.dlq() == 0
    assert REGISTRY.get_sample_value("clientops_consumer_paused",
                                     {"service": probe.service}) == 0


async def test_readiness_broker_down_is_degraded_database_down_is_unready(
    servers: Servers,
) -> None:
    async with running_app(servers, "billing", jobs_enabled=False) as (app, client):
        runtime = app.state.runtime
        r = await client.get("/health/ready")
        assert (r.status_code, r.json()["broker"]) == (200, "ok")
        broker, runtime.broker = runtime.broker, None  # the broker connection is gone
        try:
            r = await client.get("/health/ready")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "degraded"
            assert r.json()["broker"].startswith("degraded")
            assert 'clientops_broker_up{service="billing"} 0.0' in (
                await client.get("/metrics")).text
            engine = runtime.engine
            runtime.engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
            try:
                r = await client.get("/health/ready")
                assert r.status_code == 503
                assert r.json()["database"].startswith("down")
            finally:
                with contextlib.suppress(Exception):
                    await runtime.engine.dispose()
                runtime.engine = engine
        finally:
            runtime.broker = broker


async def test_consumer_failures_are_listed_for_an_admin(servers: Servers) -> None:
    async with running_app(servers, "billing", jobs_enabled=False) as (app, client):
        runtime = app.state.runtime
        message_id = str(uuid.uuid4())
        await runtime.failures.record(message_id, "contracts.contract.amended",
                                      "dead_lettered", ValueError("year 9999 is out of range"))
        r = await client.get("/api/admin/consumer-failures",
                             headers=servers.auth("admin", "admin"))
        assert r.status_code == 200, r.text
        rows = [row for row in r.json() if row["message_id"] == message_id]
        assert rows and rows[0]["error"] == "year 9999 is out of range"
        assert rows[0]["error_class"] == "ValueError"
        assert (await client.get("/api/admin/consumer-failures", headers=servers.auth(
            "manager1", "manager"))).status_code == 403
