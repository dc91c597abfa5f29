"""One event, commit → the consumer's handler committed, against a raw publish → consume.

System: contracts' UnitOfWork emits ``contracts.client.registered`` (a new client each time)
and commits; the outbox relay, woken by the commit, publishes it; billing's consumer handles
it (inbox row + its client account, one transaction). Timed from the producer's commit to the
end of billing's dispatch. Both services run in this process as ``make run`` wires them (their
runtimes: relay, broker, consumer), on a database each and a RabbitMQ virtual host of the
bench's own. Baseline: the same body published raw through aio-pika with publisher confirms
onto a quorum queue, timed to the raw consumer's callback. One event at a time.

``ratio`` is baseline mean latency over system mean latency (the rates of sequential events),
so ≥ 0.5 means "at most 2× the raw latency"; ``p50_ratio``/``p99_ratio`` are system over
baseline latency (target ≤ 2).

    .venv/bin/python bench/event_latency.py [N] [--pairs 3]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Result, Sample, bench_database, main_with_private_vhost, pairs

from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.events import contracts as c
from clientops_shared.events.base import Envelope

NAMES = ("contracts", "billing")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sample(latencies: list[float]) -> Sample:
    return Sample(len(latencies), sum(latencies), extra={
        "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000})


def event() -> c.ClientRegistered:
    return c.ClientRegistered(client_id=uuid.uuid4(), name="ООО Бенч", inn="7707083893",
                              email="buh@example.ru", manager="manager1")


async def measure(n: int, n_pairs: int, amqp: str) -> Result:
    from billing.bootstrap import build as build_billing
    from billing.config import BillingSettings
    from contracts.bootstrap import build as build_contracts
    from contracts.config import ContractsSettings

    dbs = {name: bench_database(f"latency_{name}") for name in NAMES}
    await create_databases(list(dbs.values()))
    try:
        for svc in SERVICES:
            if svc.name in dbs:
                await asyncio.to_thread(migrate, svc, dbs[svc.name])
        contracts = build_contracts(ContractsSettings(
            database=dbs["contracts"], amqp_url=amqp, consumers_enabled=False,
            jobs_enabled=False)).state.runtime
        billing = build_billing(BillingSettings(
            database=dbs["billing"], amqp_url=amqp, relay_enabled=False,
            jobs_enabled=False)).state.runtime
        waiting: dict[uuid.UUID, asyncio.Future[float]] = {}
        dispatch = billing.handlers.dispatch

        # where the time goes, in order along the path: the producer's commit; commit → the
        # relay's claim begins (wake-up); claim → publish starts (the relay's SELECT); publish
        # → billing's dispatch entered (broker, quorum write, delivery, consumer decode);
        # the handler's transaction
        parts: dict[str, list[float]] = {"commit": [], "to_relay": [], "claim": [],
                                         "to_consumer": [], "handler": []}
        committed: dict[uuid.UUID, float] = {}
        claimed: list[float] = []
        published: dict[uuid.UUID, float] = {}
        relay_once, publish_one = contracts.relay.relay_once, contracts.relay._publish

        async def timed_relay_once() -> int:
            claimed.append(time.perf_counter())
            return await relay_once()

        async def timed_publish(exchange: Any, row: Any) -> None:
            published[row.event_id] = time.perf_counter()
            await publish_one(exchange, row)

        contracts.relay.relay_once = timed_relay_once  # type: ignore[method-assign]
        contracts.relay._publish = timed_publish  # type: ignore[method-assign]

        async def observed(envelope: Envelope, uow_factory: Any) -> bool:
            entered = time.perf_counter()
            done = await dispatch(envelope, uow_factory)
            if envelope.event_id in committed:
                at_commit = committed.pop(envelope.event_id)
                at_publish = published.pop(envelope.event_id, entered)
                at_claim = max((t for t in claimed if t <= at_publish), default=at_publish)
                parts["to_relay"].append(max(0.0, at_claim - at_commit))
                parts["claim"].append(at_publish - at_claim)
                parts["to_consumer"].append(entered - at_publish)
                parts["handler"].append(time.perf_counter() - entered)
                claimed.clear()
            future = waiting.get(envelope.event_id)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
            return done

        billing.handlers.dispatch = observed
        await billing.start()
        await contracts.start()
        await asyncio.wait_for(billing.broker_started.wait(), 30)
        await asyncio.wait_for(contracts.broker_started.wait(), 30)

        connection = await aio_pika.connect(amqp)
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"bench.latency.{uuid.uuid4().hex[:6]}", durable=True,
                                            arguments={"x-queue-type": "quorum"})
        raw_waiting: dict[str, asyncio.Future[float]] = {}

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            arrived = time.perf_counter()
            await message.ack()
            future = raw_waiting.get(message.message_id or "")
            if future is not None and not future.done():
                future.set_result(arrived)

        await queue.consume(on_message)
        loop = asyncio.get_running_loop()

        async def one_system() -> float:
            async with contracts.uow() as uow:
                uow.emit(event())
                event_id = uow.emitted[-1].event_id
                waiting[event_id] = loop.create_future()
                started = time.perf_counter()
                await uow.commit()
            committed[event_id] = time.perf_counter()
            parts["commit"].append(committed[event_id] - started)
            try:
                return await asyncio.wait_for(waiting[event_id], 30) - started
            finally:
                del waiting[event_id]

        async def one_raw() -> float:
            envelope = Envelope.wrap(event(), "contracts")
            message_id = str(envelope.event_id)
            raw_waiting[message_id] = loop.create_future()
            started = time.perf_counter()
            await channel.default_exchange.publish(aio_pika.Message(
                envelope.model_dump_json().encode(), content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=message_id),
                routing_key=queue.name)
            try:
                return await asyncio.wait_for(raw_waiting[message_id], 30) - started
            finally:
                del raw_waiting[message_id]

        everything: dict[str, list[float]] = {"system": [], "baseline": []}

        async def system() -> Sample:
            latencies = [await one_system() for _ in range(n)]
            everything["system"] += latencies
            return sample(latencies)

        async def baseline() -> Sample:
            latencies = [await one_raw() for _ in range(n)]
            everything["baseline"] += latencies
            return sample(latencies)

        try:
            for _ in range(5):  # warm both paths up (connections, prepared statements)
                await one_system()
                await one_raw()
            a, b = await pairs(system, baseline, n_pairs)
        finally:
            await connection.close()
            await contracts.stop()
            await billing.stop()
    finally:
        await drop_databases(list(dbs.values()))
    s, r = everything["system"], everything["baseline"]
    return Result(f"event_latency_{n}", a, b, target=0.5, extra={
        "raw_p50_ms": statistics.median(x.extra["p50_ms"] for x in b),
        "raw_p99_ms": statistics.median(x.extra["p99_ms"] for x in b),
        "p50_ratio": percentile(s, 0.5) / percentile(r, 0.5),
        "p99_ratio": percentile(s, 0.99) / percentile(r, 0.99),
        **{f"{k}_p50_ms": percentile(v, 0.5) * 1000 for k, v in parts.items()}})


def main() -> None:
    main_with_private_vhost(__doc__ or "", 300, measure)


if __name__ == "__main__":
    main()
