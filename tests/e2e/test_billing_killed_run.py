"""The invoice run of a billing process killed with SIGKILL half-way, then run again.

Billing runs as its own process on its own database (seeded set-wise with many contracts).
The run is started over HTTP in the background; the process is killed mid-run; a new process
runs the period again. Exactly one invoice per contract and period, numbers without gaps,
and the dead run is reported as interrupted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually, start_system, stop_system

pytestmark = pytest.mark.e2e

BILLING = next(s for s in SERVICES if s.name == "billing")
N = 20_000


def _dsn(servers: Servers, database: str) -> str:
    return database_url(database, servers.pg_dsn).replace("postgresql+asyncpg", "postgresql")


async def _seed(dsn: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("""
            INSERT INTO client_account (client_id, name, inn, email, manager)
            SELECT md5('c' || g)::uuid, 'ООО Клиент ' || g, '7707083893', 'b@example.ru',
                   'manager1' FROM generate_series(1, $1) AS g""", n)
        await conn.execute("""
            INSERT INTO subscription (id, contract_id, contract_number, client_id, kind,
                monthly_fee, vat_mode, starts_on, bill_from_install, auto_renew, service_start,
                status, opened_at)
            SELECT md5('s' || g)::uuid, md5('k' || g)::uuid, '2026-' || lpad(g::text, 6, '0'),
                   md5('c' || g)::uuid, 'subscription', 12500.00, 'on_top', DATE '2026-12-01',
                   false, true, DATE '2026-12-01', 'active', now()
            FROM generate_series(1, $1) AS g""", n)
        await conn.execute("""
            INSERT INTO subscription_fee (id, subscription_id, effective_from, monthly_fee,
                                          source)
            SELECT gen_random_uuid(), id, starts_on, monthly_fee, 'signed' FROM subscription""")
    finally:
        await conn.close()


async def _fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


@pytest.fixture
def database(servers: Servers) -> Iterator[str]:
    name = f"clientops_billing_e2e_{servers.run_id}_{uuid.uuid4().hex[:6]}"
    asyncio.run(create_databases([name], servers.pg_dsn))
    try:
        migrate(BILLING, name, servers.pg_dsn)
        asyncio.run(_seed(_dsn(servers, name), N))
        yield name
    finally:
        asyncio.run(drop_databases([name], servers.pg_dsn))


def test_a_killed_run_is_finished_by_the_next_process_without_duplicates(
        private_broker: Servers, database: str, tmp_path: Path) -> None:
    # its 20,000 invoice events stay in a vhost of their own, away from the shared system
    servers = private_broker
    env = {"BILLING_DATABASE": database, "BILLING_RUN_BATCH": "200",
           "BILLING_JOBS_ENABLED": "false"}
    headers = servers.auth("buh1", "billing")
    first = start_system(servers, tmp_path / "first", (BILLING,), extra_env=env)
    try:
        url = first.urls["billing"]
        r = httpx.post(f"{url}/api/invoice-runs", params={"wait": "false"},
                       json={"period": "2026-12"}, headers=headers, timeout=30)
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]

        def progressed() -> bool:
            done = httpx.get(f"{url}/api/invoice-runs/{run_id}", headers=headers).json()["done"]
            return done >= N // 5
        eventually(progressed, timeout=120, interval=0.02)
        os.kill(first.processes["billing"].pid, signal.SIGKILL)
        first.processes["billing"].wait(timeout=10)
    finally:
        stop_system(first)

    dsn = _dsn(servers, database)
    (row,) = asyncio.run(_fetch(dsn, "SELECT status, done FROM invoice_run"))
    written = asyncio.run(_fetch(dsn, "SELECT count(*) AS n FROM invoice"))[0]["n"]
    assert row["status"] == "running" and N // 5 <= row["done"] < N
    assert written == row["done"]  # committed batches, nothing half-written

    second = start_system(servers, tmp_path / "second", (BILLING,), extra_env=env)
    try:
        url = second.urls["billing"]
        r = httpx.post(f"{url}/api/invoice-runs", json={"period": "2026-12"}, headers=headers,
                       timeout=300)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["done"], r.json()["issued"]) == (
            "finished", N, N - written)
        dead = httpx.get(f"{url}/api/invoice-runs/{run_id}", headers=headers).json()
        assert dead["status"] == "interrupted"
    finally:
        stop_system(second)

    counts = asyncio.run(_fetch(dsn, """
        SELECT count(*) AS n, count(DISTINCT contract_id) AS contracts,
               count(DISTINCT number) AS numbers,
               max(split_part(number, '-', 4)::int) AS last FROM invoice"""))[0]
    assert (counts["n"], counts["contracts"], counts["numbers"], counts["last"]) == (N, N, N, N)
    events = asyncio.run(_fetch(dsn, "SELECT count(*) AS n FROM outbox_message WHERE "
                                     "routing_key = 'billing.invoice.issued'"))[0]["n"]
    assert events == N
