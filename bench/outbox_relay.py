"""Outbox relay throughput against the raw publish it is built on, measured in the same run.

Baseline: publishing N persistent messages with publisher confirms straight through aio-pika,
100 in flight at a time.
Subject: committing N events through a UnitOfWork into the outbox, then the relay draining
them (claim with FOR UPDATE SKIP LOCKED, publish with confirms, mark sent). Prints the ratio;
no timed assertions (these machines are noisy). Uses the local servers, its own database and
its own RabbitMQ virtual host, and removes both.

    .venv/bin/python bench/outbox_relay.py [N]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import aio_pika

from clientops_shared import messaging
from clientops_shared.db import make_engine, make_metadata, make_sessions, shared_tables
from clientops_shared.devtools import create_databases, drop_databases
from clientops_shared.events import contracts as c
from clientops_shared.outbox import OutboxRelay
from clientops_shared.settings import DEFAULT_AMQP_URL, common, database_url
from clientops_shared.uow import UnitOfWork


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True)


async def main(n: int, vhost: str) -> None:
    db = f"clientops_bench_{vhost.rsplit('-', 1)[-1]}"
    amqp = common("AMQP_URL", DEFAULT_AMQP_URL).rstrip("/") + "/" + vhost
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

        connection = await aio_pika.connect(amqp)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        body = event.model_dump_json().encode()
        started = time.perf_counter()
        for _ in range(n // 100):  # the best raw case: 100 confirms in flight at a time
            await asyncio.gather(*(exchange.publish(aio_pika.Message(body, delivery_mode=2),
                                                    routing_key=event.TYPE) for _ in range(100)))
        baseline = time.perf_counter() - started
        await connection.close()

        sessions = make_sessions(engine)
        started = time.perf_counter()
        for _ in range(n // 100):
            async with UnitOfWork(sessions, tables, "bench") as uow:
                uow.emit(*[event] * 100)
                await uow.commit()
        write = time.perf_counter() - started
        relay = OutboxRelay(engine, tables.outbox, amqp, "bench", batch=100)
        started = time.perf_counter()
        while await relay.relay_once():
            pass
        drain = time.perf_counter() - started
        await relay.close()
        print(f"events: {n}")
        print(f"baseline raw confirmed publish: {n / baseline:8.0f} msg/s")
        print(f"outbox write (100 per commit):  {n / write:8.0f} msg/s")
        print(f"relay drain:                    {n / drain:8.0f} msg/s")
        print(f"ratio relay/baseline time:      {drain / baseline:8.2f}x")
        print(f"ratio write+relay/baseline:     {(write + drain) / baseline:8.2f}x")
    finally:
        await engine.dispose()
        await drop_databases([db])


if __name__ == "__main__":
    os.environ.setdefault("CLIENTOPS_LOG_LEVEL", "WARNING")
    bench_vhost = f"clientops-bench-{uuid.uuid4().hex[:6]}"
    rabbitmqctl("add_vhost", bench_vhost)
    rabbitmqctl("set_permissions", "-p", bench_vhost, "guest", ".*", ".*", ".*")
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, bench_vhost))
    finally:
        rabbitmqctl("delete_vhost", bench_vhost)
