"""Several relays (replicas) drain one outbox without publishing a row twice."""

from __future__ import annotations

import asyncio
import json
import uuid

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.db import make_engine, make_metadata, make_sessions, shared_tables
from clientops_shared.devtools import create_databases, drop_databases
from clientops_shared.events import contracts as c
from clientops_shared.outbox import OutboxRelay
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers
from clientops_shared.uow import UnitOfWork

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


async def test_three_relays_publish_each_committed_event_exactly_once(servers: Servers) -> None:
    db = f"clientops_relay_t{servers.run_id}"
    await create_databases([db], servers.pg_dsn)
    engine = make_engine(database_url(db, servers.pg_dsn))
    metadata = make_metadata()
    tables = shared_tables(metadata)
    connection = await aio_pika.connect(servers.amqp_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await messaging.declare_topology(servers.amqp_url, 5)
        channel = await connection.channel()
        queue = await channel.declare_queue(f"relay-probe-{uuid.uuid4().hex[:6]}",
                                            exclusive=True)
        await queue.bind(messaging.EXCHANGE, routing_key="contracts.client.reassigned")

        sessions = make_sessions(engine)
        ids: set[str] = set()
        for batch in range(6):
            async with UnitOfWork(sessions, tables, "test") as uow:
                for i in range(50):
                    uow.emit(c.ClientReassigned(client_id=uuid.uuid4(), name=f"{batch}-{i}",
                                                previous_manager=None, manager="manager1"))
                ids |= {str(env.event_id) for env in uow.emitted}
                await uow.commit()

        relays = [OutboxRelay(engine, tables.outbox, servers.amqp_url, "test", batch=20)
                  for _ in range(3)]

        async def drain(relay: OutboxRelay) -> int:
            total = 0
            while published := await relay.relay_once():
                total += published
            return total
        counts = await asyncio.gather(*(drain(r) for r in relays))
        for relay in relays:
            await relay.close()
        assert sum(counts) == len(ids) == 300
        assert sum(1 for n in counts if n > 0) >= 2, f"work was not shared: {counts}"

        received: list[str] = []
        while (message := await queue.get(fail=False, timeout=2)) is not None:
            await message.ack()
            received.append(json.loads(message.body)["event_id"])
        assert len(received) == len(set(received)) == 300
        assert set(received) == ids
    finally:
        await connection.close()
        await engine.dispose()
        await drop_databases([db], servers.pg_dsn)
