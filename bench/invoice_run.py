"""The monthly invoice run against a raw COPY of the rows it writes, measured in the same run.

System: ``run_period`` for N signed contracts exactly as the service runs it, in a process of
its own (so its peak RSS and CPU are its own): set-wise reads of the terms per batch, proration
in the domain, numbered inserts of invoices and lines, the ``billing.invoice.issued`` outbox
rows, progress per batch. Baseline: ``COPY`` of the very rows that run wrote (invoices, lines,
outbox rows) into empty tables of the same shape — the floor for writing that much data.
Also printed: statements per invoice (each row of an executemany counts, and each COPY), the
peak RSS of the run's process and, for the largest N, the growth of the per-contract cost
against the smallest.

    .venv/bin/python bench/invoice_run.py [N …] [--pairs 3]
    .venv/bin/python bench/invoice_run.py --child DATABASE   (internal: one run, JSON out)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Result,
    Sample,
    Timer,
    bench_database,
    load_average,
    pairs,
    peak_rss_mb,
    pg_dsn,
)

from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate

PERIOD = "2026-12"
TABLES = ("invoice", "invoice_line", "outbox_message")
BILLING = next(s for s in SERVICES if s.name == "billing")


async def seed(dsn: str, n: int) -> None:
    """N signed contracts (a mix of fees, VAT modes and mid-month starts), set-wise."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("""
            INSERT INTO client_account (client_id, name, inn, email, manager)
            SELECT md5('client' || g)::uuid, 'ООО Клиент ' || g, '7707083893',
                   'buh' || g || '@example.ru', 'manager' || (g % 20)
            FROM generate_series(1, $1) AS g""", n)
        await conn.execute("""
            INSERT INTO subscription (id, contract_id, contract_number, client_id, kind,
                monthly_fee, vat_mode, starts_on, bill_from_install, auto_renew, service_start,
                status, opened_at)
            SELECT md5('sub' || g)::uuid, md5('contract' || g)::uuid,
                   '2026-' || lpad(g::text, 6, '0'), md5('client' || g)::uuid, 'subscription',
                   (ARRAY[12500.00, 9999.99, 7300.00, 15000.00])[1 + g % 4],
                   (ARRAY['on_top', 'on_top', 'exempt', 'inclusive'])[1 + g % 4],
                   DATE '2026-11-01' + (g % 45), false, true, DATE '2026-11-01' + (g % 45),
                   'active', now()
            FROM generate_series(1, $1) AS g""", n)
        await conn.execute("""
            INSERT INTO subscription_fee (id, subscription_id, effective_from, monthly_fee,
                                          source)
            SELECT gen_random_uuid(), id, starts_on, monthly_fee, 'signed' FROM subscription""")
        # every tenth contract changes its fee on the 16th: two lines
        await conn.execute("""
            INSERT INTO subscription_fee (id, subscription_id, effective_from, monthly_fee,
                                          source)
            SELECT gen_random_uuid(), id, DATE '2026-12-16', monthly_fee + 1000, 'amendment'
            FROM subscription WHERE starts_on < DATE '2026-12-16'
              AND right(contract_number, 1) = '0'""")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def child(database: str) -> None:
    """One run in this process; prints what the parent needs as JSON."""
    from sqlalchemy import event

    from billing.bootstrap import build
    from billing.config import BillingSettings
    from billing.domain.periods import Period
    from billing.service_layer.invoice_run import run_period

    app = build(BillingSettings(database=database, jobs_enabled=False))
    billing = app.state.billing
    billing.rules.today = lambda: date(2026, 12, 15)
    statements = 0

    def count(conn: object, cursor: object, statement: str, parameters: object,
              context: object, executemany: bool) -> None:
        nonlocal statements
        statements += len(parameters) if executemany else 1  # type: ignore[arg-type]

    event.listen(app.state.runtime.engine.sync_engine, "before_cursor_execute", count)
    # a COPY (clientops_shared.bulk) goes to the driver's connection, past SQLAlchemy's
    # events: count each one as the statement it is
    copy = asyncpg.Connection.copy_records_to_table

    async def counted_copy(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        nonlocal statements
        statements += 1
        return await copy(self, *args, **kwargs)

    asyncpg.Connection.copy_records_to_table = counted_copy  # type: ignore[method-assign]
    try:
        with Timer() as t:
            result = await run_period(billing, Period.parse(PERIOD), trigger="bench",
                                      requested_by="bench")
    finally:
        await app.state.runtime.engine.dispose()
    print(json.dumps({"seconds": t.seconds, "cpu_s": t.cpu_s, "rss_mb": peak_rss_mb(),
                      "statements": statements, "issued": result["issued"],
                      "failed": result["failed"]}))


async def copy_baseline(dsn: str) -> float:
    """COPY the rows the run wrote into empty look-alike tables; the time of the COPYs."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = {t: await conn.fetch(f"SELECT * FROM {t}") for t in TABLES}
        columns = {t: list(rows[t][0].keys()) if rows[t] else [] for t in TABLES}
        for t in TABLES:
            await conn.execute(f"CREATE TABLE copy_{t} (LIKE {t} INCLUDING ALL)")
        started = time.perf_counter()
        async with conn.transaction():
            for t in TABLES:
                await conn.copy_records_to_table(f"copy_{t}", records=rows[t],
                                                 columns=columns[t])
        return time.perf_counter() - started
    finally:
        await conn.close()


async def measure(n: int, n_pairs: int) -> Result:
    written: list[str] = []

    async def system() -> Sample:
        db = bench_database("billing")
        await create_databases([db])
        written.append(db)
        await asyncio.to_thread(migrate, BILLING, db)
        await seed(pg_dsn(db), n)
        out = await asyncio.to_thread(
            subprocess.run, [sys.executable, __file__, "--child", db], check=True,
            capture_output=True, text=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if got["issued"] != n or got["failed"]:
            raise SystemExit(f"the run issued {got['issued']} of {n} ({got['failed']} failed)")
        return Sample(n, got["seconds"], got["cpu_s"],
                      {"stmts_per_invoice": got["statements"] / n, "peak_rss_mb": got["rss_mb"]})

    async def baseline() -> Sample:
        db = written.pop()
        try:
            return Sample(n, await copy_baseline(pg_dsn(db)))
        finally:
            await drop_databases([db])

    a, b = await pairs(system, baseline, n_pairs)
    return Result(f"invoice_run_{n}", a, b, target=1 / 3)


async def run(sizes: list[int], n_pairs: int) -> list[Result]:
    results = [await measure(n, n_pairs) for n in sizes]
    if len(results) > 1:
        # per-contract cost of the largest run over the smallest's (1.0 = linear)
        results[-1].extra["growth"] = results[0].system_rate / results[-1].system_rate
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20_000, 100_000])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child))
        return
    print(load_average())
    for r in asyncio.run(run(args.sizes, args.pairs)):
        print(r.line())


if __name__ == "__main__":
    main()
