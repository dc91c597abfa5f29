"""Outbox relay drain against the raw confirmed publish it is built on, measured in the same run.

Baseline: publishing N persistent messages with publisher confirms straight through aio-pika,
100 in flight at a time. System: the relay draining N events committed through a UnitOfWork
into the outbox (claim with FOR UPDATE SKIP LOCKED, publish with confirms, mark sent); the
write itself is not timed (its rate is printed as ``write_per_s``). Its own database and
RabbitMQ virtual host, removed at the end.

    .venv/bin/python bench/outbox_relay.py [N] [--pairs 3]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Result,
    Sample,
    Timer,
    bench_database,
    main_with_private_vhost,
    pairs,
)

from clientops_shared import messaging
from clientops_shared.db import make_engine, make_metadata, make_sessions, shared_tables
from clientops_shared.devtools import create_databases, drop_databases
from clientops_shared.events import contracts as c
from clientops_shared.outbox import OutboxRelay
from clientops_shared.settings import database_url
from clientops_shared.uow import UnitOfWork


async def measure(n: int, n_pairs: int, amqp: str) -> Result:
    db = bench_database("relay")
    await create_databases([db])
    engine = make_engine(database_url(db))
    metadata = make_metadata()
    tables = shared_tables(metadata)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await messaging.declare_topology(amqp, 5)
        event = c.ClientReassigned(client_id=uuid.uuid4(), name="ООО Бенч",
                                   previous_manager="manager1", manager="manager2")
        body = event.model_dump_json().encode()
        sessions = make_sessions(engine)
        relay = OutboxRelay(engine, tables.outbox, amqp, "bench", batch=100)
        connection = await aio_pika.connect(amqp)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        writes: list[float] = []
        try:
            async def system() -> Sample:
                started = time.perf_counter()
                for _ in range(n // 100):
                    async with UnitOfWork(sessions, tables, "bench") as uow:
                        uow.emit(*[event] * 100)
                        await uow.commit()
                writes.append(n / (time.perf_counter() - started))
                with Timer() as t:
                    while await relay.relay_once():
                        pass
                return Sample(n, t.seconds, t.cpu_s)

            async def baseline() -> Sample:
                with Timer() as t:  # the best raw case: 100 confirms in flight at a time
                    for _ in range(n // 100):
                        await asyncio.gather(*(exchange.publish(
                            aio_pika.Message(body, delivery_mode=2), routing_key=event.TYPE)
                            for _ in range(100)))
                return Sample(n, t.seconds, t.cpu_s)

            a, b = await pairs(system, baseline, n_pairs)
        finally:
            await relay.close()
            await connection.close()
    finally:
        await engine.dispose()
        await drop_databases([db])
    writes.sort()
    return Result(f"outbox_relay_{n}", a, b, target=0.5,
                  extra={"write_per_s": writes[len(writes) // 2]})


def main() -> None:
    main_with_private_vhost(__doc__ or "", 5000, measure)


if __name__ == "__main__":
    main()
