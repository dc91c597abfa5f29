"""The monthly invoice run against a raw COPY of the rows it writes, measured in the same run.

Subject: the invoice run for N contracts exactly as the service runs it (``run_period``:
set-wise reads of the terms per batch, proration in the domain, numbered inserts of invoices
and lines, one ``billing.invoice.issued`` outbox row per invoice, progress per batch).
Baseline: ``COPY`` of the very rows the run wrote (invoices, lines, outbox rows) into empty
tables of the same shape — the floor for writing that much data. Prints both times and the
ratio; no timed assertions (these machines are noisy). Uses the local PostgreSQL server
(``CLIENTOPS_PG_DSN``), its own database, and drops it.

    .venv/bin/python bench/billing_invoice_run.py [N] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import date

import asyncpg

from billing.bootstrap import build
from billing.config import BillingSettings
from billing.domain.periods import Period
from billing.service_layer.invoice_run import run_period
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.settings import DEFAULT_PG_DSN, common, database_url

PERIOD = Period(2026, 12)
TABLES = ("invoice", "invoice_line", "outbox_message")


def asyncpg_dsn(database: str) -> str:
    return database_url(database).replace("postgresql+asyncpg://", "postgresql://")


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


async def copy_baseline(dsn: str) -> tuple[float, dict[str, int]]:
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
        return time.perf_counter() - started, {t: len(rows[t]) for t in TABLES}
    finally:
        await conn.close()


async def main(n: int, batch: int) -> None:
    db = f"clientops_billing_bench_{uuid.uuid4().hex[:8]}"
    billing_service = next(s for s in SERVICES if s.name == "billing")
    await create_databases([db])
    try:
        await asyncio.to_thread(migrate, billing_service, db)
        await seed(asyncpg_dsn(db), n)
        app = build(BillingSettings(database=db, run_batch=batch, jobs_enabled=False))
        billing = app.state.billing
        billing.rules.today = lambda: date(2026, 12, 15)
        try:
            started = time.perf_counter()
            result = await run_period(billing, PERIOD, trigger="bench", requested_by="bench")
            run_seconds = time.perf_counter() - started
        finally:
            await app.state.runtime.engine.dispose()
        assert result["issued"] == n and result["failed"] == 0, result
        copy_seconds, counts = await copy_baseline(asyncpg_dsn(db))
        print(f"invoice run, {n} contracts, batches of {batch}: "
              f"{counts['invoice']} invoices, {counts['invoice_line']} lines, "
              f"{counts['outbox_message']} outbox rows")
        print(f"  run        {run_seconds:8.3f} s  ({n / run_seconds:,.0f} contracts/s)")
        print(f"  raw COPY   {copy_seconds:8.3f} s  (the same rows, no logic)")
        print(f"  ratio run / COPY = {run_seconds / copy_seconds:.1f}")
    finally:
        await drop_databases([db])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(f"PostgreSQL: {common('PG_DSN', DEFAULT_PG_DSN)}")
    asyncio.run(main(args.n, args.batch))
