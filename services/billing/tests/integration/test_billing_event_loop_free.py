"""One request must not freeze the service (issue 9 §4): while a large bank statement is
parsed, a dunning run counts working days back to old due dates, or an invoice run bills a few
thousand contracts, ``/health/live`` keeps answering.

The evidence is where the work runs, never a stopwatch: ``HeavyWorkWatch`` samples every
thread of this process, so CPU work done on the loop or in a worker thread of the service (which
holds the GIL and starves the loop) is seen, and work done in the shared worker process pool
(``clientops_shared.offload``) is not. The latencies and the loop's longest stall are printed as
figures (``-s``), not asserted: a loaded CI machine must not fail a test by being slow.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from billing.domain.bank_statement import parse_statement
from clientops_shared.testing import HeavyWorkWatch

pytestmark = pytest.mark.integration

SAMPLE = (Path(__file__).parent / "data" / "bank-statement-1c-sample.txt").read_bytes()
FIRST_DOCUMENT = "СекцияДокумент=Платежное поручение\r\n".encode("cp1251")


def big_statement(lines: int) -> bytes:
    """The sample statement with many lines the parser reads and ignores: parse-heavy,
    while the database work stays that of the sample's four payments."""
    padding = "".join(f"Пустое{i}=x\r\n" for i in range(lines)).encode("cp1251")
    return SAMPLE.replace(FIRST_DOCUMENT, FIRST_DOCUMENT + padding, 1)


@dataclass
class Probes:
    """``/health/live`` asked again and again while a piece of work is in flight."""

    answers: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)  # from one answer to the next
    took: float = 0.0

    def report(self, what: str, watch: HeavyWorkWatch) -> None:
        print(f"{what}: {self.took:.1f} s; /health/live median "
              f"{statistics.median(self.latencies) * 1000:.1f} ms, worst "
              f"{max(self.latencies) * 1000:.0f} ms over {len(self.latencies)} probes, longest "
              f"between two answers {max(self.gaps, default=0.0) * 1000:.0f} ms; "
              f"longest loop stall {watch.longest_stall * 1000:.0f} ms (wall), longest stretch "
              f"of loop CPU {watch.longest_busy * 1000:.0f} ms")
        for where, busy in sorted(watch.busy_in.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  loop worked {busy * 1000:.0f} ms without a pause, up to {where}")

    def kept_answering(self) -> bool:
        """At least one probe was sent while the work was in flight (the first always is: the
        work's task has not run yet), and every probe was answered 200."""
        return bool(self.answers) and set(self.answers) == {200}


async def probe_while(client: Any, work: Awaitable[Any]) -> tuple[Any, Probes]:
    probes = Probes()
    task = asyncio.ensure_future(work)
    started = last = time.perf_counter()
    while not task.done():
        t0 = time.perf_counter()
        probes.answers.append((await client.get("/health/live")).status_code)
        now = time.perf_counter()
        probes.latencies.append(now - t0)
        probes.gaps.append(now - last)
        last = now
        await asyncio.sleep(0.05)
    probes.took = time.perf_counter() - started
    return await task, probes


async def test_health_answers_while_a_big_statement_is_parsed(bt: Any) -> None:
    # warm up: FastAPI builds a route's handling on its first request (a one-off stall), and
    # the worker process starts on the first parse
    r = await bt.client.post("/api/bank-statements", headers=bt.auth(),
                             files={"file": ("warm-up.txt", b"not a statement", "text/plain")})
    assert r.status_code == 422
    data = big_statement(300_000)  # ~4.5 MB: seconds of parsing on this machine
    async with HeavyWorkWatch() as watch:
        r, probes = await probe_while(bt.client, bt.client.post(
            "/api/bank-statements", headers=bt.auth(),
            files={"file": ("big.txt", data, "text/plain")}))
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == 4
    probes.report(f"statement of {len(data) / 1e6:.1f} MB imported", watch)
    # the parse never ran in this process (loop or thread), and the loop kept answering
    assert not watch.ran("parse_statement", "_decode"), sorted(watch.functions)[:50]
    assert probes.kept_answering(), probes.answers


async def test_the_watch_sees_a_parse_in_a_worker_thread() -> None:
    """The control: the same parse in a thread of this process is seen (the GIL-holding way
    the import used to run)."""
    async with HeavyWorkWatch() as watch:
        await asyncio.to_thread(parse_statement, big_statement(30_000))
    assert watch.ran("parse_statement")


DUNNING_DAY = date(2026, 12, 22)  # a Tuesday, a working day


async def _seed_open_invoices(bt: Any, n: int) -> None:
    """``n`` unpaid invoices, each due on a day of its own: half within the last six weeks
    (reminded today), half from years back (working days counted, no reminder any more)."""
    await bt.execute("""
        INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id, period,
            revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on)
        SELECT gen_random_uuid(), 'СЧ-Д' || lpad(g::text, 6, '0'), 'invoice',
               gen_random_uuid(), 'Д-' || g, gen_random_uuid(),
               to_char(d.due - 20, 'YYYY-MM'), 0, 'on_top', 100, 22, 122, 0, 'issued',
               d.due - 5, d.due
        FROM generate_series(1, :n) AS g,
             LATERAL (SELECT CAST(:on AS date) - CASE WHEN g % 2 = 0 THEN g % 42
                                                      ELSE g END AS due) AS d""",
                     n=n, on=DUNNING_DAY)


async def test_a_dunning_run_counts_working_days_in_a_worker_process(bt: Any) -> None:
    """Thousands of open invoices due on thousands of distinct days, some of them years ago:
    the calendar work (millions of day look-ups, before it moved) runs in the pool."""
    n = 4000
    await _seed_open_invoices(bt, n)
    bt.billing.rules.today = lambda: DUNNING_DAY
    async with HeavyWorkWatch() as watch:
        r, probes = await probe_while(bt.client, bt.client.post(
            "/api/dunning-runs", headers=bt.auth(), json={"on": DUNNING_DAY.isoformat()}))
    assert r.status_code == 200, r.text
    reminded = r.json()["reminded"]
    probes.report(f"dunning run over {n} open invoices ({reminded} reminded)", watch)
    assert reminded == await bt.scalar(
        "SELECT count(*) FROM dunning_reminder WHERE reminded_on = :on", on=DUNNING_DAY) > 0
    assert not watch.ran("plan_reminders", "reminder_for", "working_days_overdue",
                         "working_days"), sorted(watch.functions)[:80]
    assert probes.kept_answering(), probes.answers


async def _seed_subscriptions(bt: Any, n: int, starts_on: date) -> None:
    """``n`` active subscriptions with their fee, written set-wise."""
    await bt.execute("""
        INSERT INTO client_account (client_id, name, inn, email, manager)
        SELECT md5('loop-c' || g)::uuid, 'ООО Петля ' || g, '7707083893', 'run@example.ru',
               'manager1' FROM generate_series(1, :n) AS g""", n=n)
    await bt.execute("""
        INSERT INTO subscription (id, contract_id, contract_number, client_id, kind,
            monthly_fee, vat_mode, starts_on, bill_from_install, auto_renew, service_start,
            status, opened_at)
        SELECT md5('loop-s' || g)::uuid, md5('loop-k' || g)::uuid,
               'П-' || lpad(g::text, 6, '0'), md5('loop-c' || g)::uuid, 'subscription',
               12500.00, 'on_top', :starts, false, true, :starts, 'active', now()
        FROM generate_series(1, :n) AS g""", n=n, starts=starts_on)
    await bt.execute("""
        INSERT INTO subscription_fee (id, subscription_id, effective_from, monthly_fee, source)
        SELECT gen_random_uuid(), s.id, s.starts_on, s.monthly_fee, 'signed'
        FROM subscription s""")


async def test_the_loop_keeps_answering_through_an_invoice_run(bt: Any) -> None:
    """An invoice run of a few thousand contracts: the loop answers between its batches and
    between the statements of a batch (its figures are printed; see the issue 9 notes)."""
    n = 3000
    await _seed_subscriptions(bt, n, date(2026, 12, 1))
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    async with HeavyWorkWatch() as watch:
        r, probes = await probe_while(bt.client, bt.client.post(
            "/api/invoice-runs", headers=bt.auth(), json={"period": "2026-12"},
            timeout=600))
    assert r.status_code == 200, r.text
    assert r.json()["issued"] == n, r.json()
    probes.report(f"invoice run of {n} contracts", watch)
    assert probes.kept_answering(), probes.answers
    assert await bt.scalar("SELECT count(*) FROM invoice WHERE period = '2026-12'") == n
