"""Billing's database goes away while contracts keep being signed: its consumer pauses and
resumes by itself — every event applied once, none dead-lettered, no manual replay.

The database is a private PostgreSQL cluster this test starts on another port (never the
shared server); the broker is a private virtual host.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date

import aio_pika
import pytest
import sqlalchemy as sa

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.devtools import SERVICES, create_databases, migrate
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.testing import (
    Servers,
    eventually_async,
    publish_envelopes,
    running_app,
)

from .harness import PrivatePostgres
from .harness import private_postgres as private_cluster

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

N = 200


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    with private_cluster() as pg:
        yield pg


async def test_billing_pauses_while_its_database_is_down_and_applies_everything_after(
    private_broker: Servers, private_postgres: PrivatePostgres,
) -> None:
    billing = next(s for s in SERVICES if s.name == "billing")
    database = "clientops_billing_outage"
    await create_databases([database], private_postgres.dsn)
    await asyncio.to_thread(migrate, billing, database, private_postgres.dsn)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{private_postgres.port}/{database}"
    signings = [c.ContractSigned(
        contract_id=uuid.uuid4(), number=f"2026-8{i:03d}", client_id=uuid.uuid4(),
        client_name=f"ООО Отключение {i}", client_inn="7707083893", kind="subscription",
        status="active", signed_on=date(2026, 12, 1), starts_on=date(2026, 12, 1),
        monthly_fee="5000.00") for i in range(N)]
    envelopes = [Envelope.wrap(s, "contracts") for s in signings]
    engine = make_engine(url)
    try:
        async with running_app(private_broker, "billing", DATABASE_URL=url,
                               jobs_enabled=False, relay_enabled=False,
                               retry_delays=(0.5, 1.0, 2.0, 5.0, 10.0)) as (_, client):
            await publish_envelopes(private_broker.amqp_url, envelopes[:5])

            async def count() -> int:
                async with engine.connect() as conn:
                    return int((await conn.execute(sa.text(
                        "SELECT count(*) FROM subscription"))).scalar_one())

            async def first_applied() -> bool:
                return await count() == 5
            await eventually_async(first_applied, timeout=30)
            await engine.dispose()

            await asyncio.to_thread(private_postgres.stop, "fast")
            await publish_envelopes(private_broker.amqp_url, envelopes[5:])
            await asyncio.sleep(10)  # a 10 s blackout: long enough to spend every redelivery
            r = await client.get("/health/ready")
            assert r.status_code == 503 and r.json()["database"].startswith("down")
            assert 'clientops_consumer_paused{service="billing"} 1.0' in (
                await client.get("/metrics")).text
            assert await _queued(private_broker, messaging.dlq_name("billing")) == 0

            await asyncio.to_thread(private_postgres.start)

            async def all_applied() -> bool:
                return await count() == N
            await eventually_async(all_applied, timeout=60, interval=0.5)
            assert (await client.get("/health/ready")).status_code == 200
            assert await _queued(private_broker, messaging.dlq_name("billing")) == 0
            async with engine.connect() as conn:
                seen = (await conn.execute(sa.text(
                    "SELECT count(*), count(DISTINCT event_id) FROM inbox_message"))).one()
            assert tuple(seen) == (N, N)  # each once
    finally:
        await engine.dispose()


async def _queued(servers: Servers, queue: str) -> int:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


