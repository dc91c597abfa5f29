"""Billing's database goes away while contracts keep being signed: its consumer pauses and
resumes by itself — every event applied once, none dead-lettered, no manual replay.

The database is a private PostgreSQL cluster this test starts on another port (never the
shared server); the broker is a private virtual host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

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
    free_port,
    publish_envelopes,
    running_app,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

N = 200


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not installed: no private PostgreSQL for this test")
    return found


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (trust auth) on 127.0.0.1:<port>."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "data"
        self.log = root / "server.log"
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync")
        self.start()

    def start(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="clientops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pg = PrivatePostgres(root, free_port())
    try:
        pg.init()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"cannot start a private PostgreSQL: {exc.stderr!r}")
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


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


