"""Dunning over a large ledger against one set-based ``INSERT … SELECT`` of the same reminders.

Ledger: N invoices of one period, 10 % of them unpaid and overdue. System: ``run_dunning`` for
one working day as the service runs it (open invoices with their promises and prior
reminders, the reminder stage in the domain, reminder rows and ``billing.invoice.overdue``
outbox rows). Baseline: one ``INSERT … SELECT`` writing the same number of reminder rows
straight from the open invoices — no stages, no events. Pairs run on successive working days,
so each system run has its own reminders to write.

    .venv/bin/python bench/dunning.py [N] [--pairs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Result, Sample, Timer, bench_database, load_average, pairs, pg_dsn

from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate

BILLING = next(s for s in SERVICES if s.name == "billing")
DAYS = [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 24),
        date(2026, 12, 25)]  # working days after the 20th


async def seed(dsn: str, n: int) -> int:
    """N invoices of 2026-11 due on the 20th; every tenth one unpaid. Returns the unpaid."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("""
            INSERT INTO client_account (client_id, name, inn, email, manager)
            SELECT md5('client' || g)::uuid, 'ООО Клиент ' || g, '7707083893',
                   'buh' || g || '@example.ru', 'manager' || (g % 20)
            FROM generate_series(1, $1) AS g""", n)
        await conn.execute("""
            INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id,
                period, revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on)
            SELECT md5('inv' || g)::uuid, 'СЧ-2026-11-' || lpad(g::text, 6, '0'), 'invoice',
                   md5('contract' || g)::uuid, '2026-' || lpad(g::text, 6, '0'),
                   md5('client' || g)::uuid, '2026-11', 0, 'on_top', 12500, 2750, 15250,
                   CASE WHEN g % 10 = 0 THEN 0 ELSE 15250 END,
                   CASE WHEN g % 10 = 0 THEN 'issued' ELSE 'paid' END,
                   DATE '2026-11-15', DATE '2026-12-18'
            FROM generate_series(1, $1) AS g""", n)
        await conn.execute("CREATE TABLE copy_reminder (LIKE dunning_reminder INCLUDING ALL)")
        await conn.execute("ANALYZE")
        return int(await conn.fetchval("SELECT count(*) FROM invoice WHERE status = 'issued'"))
    finally:
        await conn.close()


async def measure(n: int, n_pairs: int) -> Result:
    from billing.bootstrap import build
    from billing.config import BillingSettings
    from billing.service_layer.dunning import run_dunning

    db = bench_database("dunning")
    await create_databases([db])
    try:
        await asyncio.to_thread(migrate, BILLING, db)
        unpaid = await seed(pg_dsn(db), n)
        app = build(BillingSettings(database=db, jobs_enabled=False))
        billing = app.state.billing
        raw = await asyncpg.connect(pg_dsn(db))
        days = iter(DAYS)
        try:
            async def system() -> Sample:
                on = next(days)
                with Timer() as t:
                    async with billing.uow() as uow:
                        out = await run_dunning(uow, on)
                if out["reminded"] != unpaid:
                    raise SystemExit(f"dunning reminded {out['reminded']} of {unpaid}")
                return Sample(unpaid, t.seconds, t.cpu_s)

            async def baseline() -> Sample:
                await raw.execute("TRUNCATE copy_reminder")
                with Timer() as t:
                    await raw.execute("""
                        INSERT INTO copy_reminder (invoice_id, reminded_on, days_overdue,
                            reminder_count, stage, outstanding)
                        SELECT id, DATE '2026-12-21', 1, 1, 'call', total - paid FROM invoice
                        WHERE kind = 'invoice' AND status IN ('issued', 'partially_paid')
                          AND due_on <= DATE '2026-12-21'""")
                return Sample(unpaid, t.seconds, t.cpu_s)

            a, b = await pairs(system, baseline, n_pairs)
        finally:
            await raw.close()
            await app.state.runtime.engine.dispose()
    finally:
        await drop_databases([db])
    return Result(f"dunning_{n}", a, b, target=0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if args.pairs > len(DAYS):
        raise SystemExit(f"at most {len(DAYS)} pairs")
    print(load_average())
    print(asyncio.run(measure(args.n, args.pairs)).line())


if __name__ == "__main__":
    main()
