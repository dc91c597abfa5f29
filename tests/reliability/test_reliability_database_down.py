"""Billing's database goes away for 10 s while contracts keep being signed: its consumer
pauses and resumes by itself — every event applied once, none in any dead-letter queue, no
manual replay (issue 12: a 10 s blackout while 500 events flow; ``make test``'s smoke: 200).

Events flow before, during and after the blackout, in small batches: a fifth while the
database is up, two fifths spread over the 10 s it is down, the rest while billing catches up.

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

from .harness import PrivatePostgres, classify, record, size
from .harness import private_postgres as private_cluster

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

N = size(200, 500)
BLACKOUT_SECONDS = 10.0
BATCH = 10


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

    async def send(batch: list[Envelope], over_seconds: float = 0.0) -> None:
        """Publish in batches of ten, spread over ``over_seconds`` (the workload's pace)."""
        chunks = [batch[i:i + BATCH] for i in range(0, len(batch), BATCH)]
        for chunk in chunks:
            await publish_envelopes(private_broker.amqp_url, chunk)
            await asyncio.sleep(over_seconds / len(chunks))

    async def count() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(
                "SELECT count(*) FROM subscription"))).scalar_one())

    before, during = N // 5, 3 * N // 5
    try:
        async with running_app(private_broker, "billing", DATABASE_URL=url,
                               jobs_enabled=False, relay_enabled=False,
                               retry_delays=(0.5, 1.0, 2.0, 5.0, 10.0)) as (_, client):
            await send(envelopes[:before])

            async def some_applied() -> bool:
                return await count() > 0
            await eventually_async(some_applied, timeout=30)
            await engine.dispose()

            await asyncio.to_thread(private_postgres.stop, "fast")
            try:
                # 10 s down, events arriving all the while (the fault's length, not a wait)
                await send(envelopes[before:during], over_seconds=BLACKOUT_SECONDS)

                async def paused() -> bool:
                    text = (await client.get("/metrics")).text
                    return 'clientops_consumer_paused{service="billing"} 1.0' in text
                await eventually_async(paused, timeout=30)
                r = await client.get("/health/ready")
                assert r.status_code == 503 and r.json()["database"].startswith("down")
                assert await _dead_letters(private_broker) == 0
            finally:
                await asyncio.to_thread(private_postgres.start)
            await send(envelopes[during:], over_seconds=5.0)  # while billing catches up

            async def all_applied() -> bool:
                return await count() == N
            await eventually_async(all_applied, timeout=300, interval=0.5)
            assert (await client.get("/health/ready")).status_code == 200
            async with engine.connect() as conn:
                seen = (await conn.execute(sa.text(
                    "SELECT count(*), count(DISTINCT event_id) FROM inbox_message"))).one()
                applied = (await conn.execute(sa.text(
                    "SELECT contract_id FROM subscription"))).scalars().all()
            assert tuple(seen) == (N, N)  # each event handled once
            record(classify([s.contract_id for s in signings], applied,
                            scenario=f"billing's database down {BLACKOUT_SECONDS:.0f} s, "
                                     f"{N} events flowing")).check()
            # nothing in any service's dead-letter queue, nothing left waiting for a retry
            assert await _dead_letters(private_broker) == 0
            assert await _queued(private_broker, messaging.queue_name("billing")) == 0
    finally:
        await engine.dispose()


async def _dead_letters(servers: Servers) -> int:
    return sum([await _queued(servers, messaging.dlq_name(s)) for s in messaging.CONSUMERS])


async def _queued(servers: Servers, queue: str) -> int:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


