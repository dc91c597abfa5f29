"""Two hot reads of the desks against a bare FastAPI endpoint doing the same query.

System: ``GET contracts /api/clients/{id}`` and ``GET billing /api/invoices?client_id=``, each
service started as ``make run`` starts it (uvicorn, its consumer and relay, auth, telemetry,
problem handlers, metrics). Baseline: a bare FastAPI app (``bare_app.py``) answering the same
paths with one asyncpg query, in a process of its own. Load: W concurrent keep-alive clients for
D seconds per side, alternating A B A B; prints req/s and the p99 ratio.

    .venv/bin/python bench/read_endpoints.py [--seconds 5] [--workers 8] [--pairs 3]

Both sides get the same number of database connections (10); see ``BASELINE_POOL``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Result,
    Sample,
    drop_vhost,
    launch,
    launch_service,
    load_average,
    migrated_databases,
    pairs,
    pg_dsn,
    private_vhost,
    process_cpu_seconds,
    service_env,
    settled,
    stop,
    wait_ready,
)

from clientops_shared.auth import issue_token
from clientops_shared.devtools import drop_databases
from clientops_shared.settings import DEV_JWT_SECRET
from clientops_shared.testing import free_port

__all__ = ["wait_ready"]  # notification_burst imports it from here; it lives in harness

HERE = Path(__file__).resolve().parent
CLIENTS = 1000
INVOICES = 24  # two years of monthly invoices for the client read
BASELINE_POOL = 10  # bare_app.py's asyncpg pools: max_size=10


async def seed(contracts_dsn: str, billing_dsn: str) -> uuid.UUID:
    conn = await asyncpg.connect(contracts_dsn)
    try:
        await conn.execute("""
            INSERT INTO client (id, name, inn, kpp, email, phone, manager, legal_address,
                                contacts, created_at)
            SELECT md5('client' || g)::uuid, 'ООО Клиент ' || g, (7700000000 + g)::text,
                   '770701001', 'buh' || g || '@example.ru', '+74951234567',
                   'manager' || (g % 20), 'Москва, ул. Ленина, ' || g, '[]'::jsonb, now()
            FROM generate_series(1, $1) AS g""", CLIENTS)
        client_id: uuid.UUID = await conn.fetchval(
            "SELECT id FROM client ORDER BY name LIMIT 1 OFFSET 500")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    conn = await asyncpg.connect(billing_dsn)
    try:
        await conn.execute("""
            INSERT INTO client_account (client_id, name, inn, email, manager)
            SELECT id, 'ООО Клиент', '7707083893', 'buh@example.ru', 'manager1'
            FROM (SELECT $1::uuid AS id) c""", client_id)
        await conn.execute("""
            INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id,
                period, revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on)
            SELECT gen_random_uuid(), 'СЧ-' || g, 'invoice', md5('contract')::uuid, '2026-0001',
                   $1, to_char(DATE '2025-01-01' + (g || ' month')::interval, 'YYYY-MM'), 0,
                   'on_top', 12500, 2750, 15250, 0, 'issued', DATE '2025-01-15', DATE '2025-01-20'
            FROM generate_series(1, $2) AS g""", client_id, INVOICES)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return client_id


async def load(url: str, headers: dict[str, str], seconds: float, workers: int, pid: int
               ) -> Sample:
    latencies: list[float] = []
    errors = 0
    stop = 0.0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:  # at least one request each, however loaded the machine
            t = time.perf_counter()
            r = await http.get(url, headers=headers)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors += 1
            if time.perf_counter() >= stop:
                return

    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await http.get(url, headers=headers)  # warm the connection and the service's caches
        started, cpu = time.perf_counter(), process_cpu_seconds(pid)
        stop = started + seconds  # counted from after the warm-up
        await asyncio.gather(*(worker(http) for _ in range(workers)))
        elapsed, cpu = time.perf_counter() - started, process_cpu_seconds(pid) - cpu
    if errors:
        raise SystemExit(f"{url}: {errors} answers were not 200")
    q = statistics.quantiles(latencies, n=100)
    return Sample(len(latencies), elapsed, cpu, {"p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000})


async def main(seconds: float, workers: int, n_pairs: int) -> list[Result]:
    vhost, amqp = private_vhost()
    procs: list[subprocess.Popen[bytes]] = []
    dbs: dict[str, str] = {}
    try:
        dbs = await migrated_databases(["contracts", "billing"])
        client_id = await seed(pg_dsn(dbs["contracts"]), pg_dsn(dbs["billing"]))
        ports = {name: free_port() for name in ("contracts", "billing", "bare")}
        for name in ("contracts", "billing"):
            # as many pooled connections as the baseline's asyncpg pool (10): at the default
            # 5 (+5 overflow) the 8 workers make the pool open and close an overflow
            # connection per request, which measures connection set-up, not the read
            procs.append(launch_service(name, service_env(
                name, dbs[name], ports[name], amqp,
                **{f"{name.upper()}_DB_POOL_SIZE": str(BASELINE_POOL)})))
        procs.append(launch(
            [sys.executable, "-m", "uvicorn", "--factory", "bare_app:build", "--port",
             str(ports["bare"]), "--log-level", "warning", "--no-access-log"], cwd=HERE,
            env={**os.environ, "CONTRACTS_DSN": pg_dsn(dbs["contracts"]),
                 "BILLING_DSN": pg_dsn(dbs["billing"])}))
        for proc, (name, port) in zip(procs, ports.items(), strict=True):
            await wait_ready(f"http://127.0.0.1:{port}/health/live" if name != "bare"
                             else f"http://127.0.0.1:{port}/docs", proc)
        for proc in procs:  # start-up work done (billing's WeasyPrint import in a thread)
            await settled(proc.pid)
        auth = {"Authorization": "Bearer " + issue_token(
            os.environ.get("CLIENTOPS_JWT_SECRET", DEV_JWT_SECRET), "head", "head")}
        cases = {
            "contracts_get_client": (
                f"http://127.0.0.1:{ports['contracts']}/api/clients/{client_id}", procs[0].pid,
                f"http://127.0.0.1:{ports['bare']}/clients/{client_id}"),
            "billing_invoices_of_client": (
                f"http://127.0.0.1:{ports['billing']}/api/invoices?client_id={client_id}",
                procs[1].pid, f"http://127.0.0.1:{ports['bare']}/invoices?client_id={client_id}"),
        }
        bare_pid = procs[2].pid
        results = []
        for name, (system_url, pid, bare_url) in cases.items():
            a, b = await pairs(lambda u=system_url, p=pid: load(u, auth, seconds, workers, p),
                               lambda u=bare_url: load(u, {}, seconds, workers, bare_pid),
                               n_pairs)
            p99 = (statistics.median(s.extra["p99_ms"] for s in a)
                   / statistics.median(s.extra["p99_ms"] for s in b))
            results.append(Result(name, a, b, target=0.5, extra={"p99_ratio": p99}))
        return results
    finally:
        stop(procs)
        await drop_databases(list(dbs.values()))
        drop_vhost(vhost)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    print(load_average())
    for r in asyncio.run(main(args.seconds, args.workers, args.pairs)):
        print(r.line())
