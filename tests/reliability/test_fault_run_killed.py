"""Fault suite: an invoice run SIGKILLed half-way and run again, then two runs of one period at
once — exactly one invoice per contract and period, and the run report lists none missing
(issue 9 §5; tests/e2e/test_billing_killed_run.py covers the numbering at 20,000).

After the SIGKILL and poison scenarios on purpose (file order): once a period is run, every
signing for it is invoiced at once by a correction, which would slow their events."""

from __future__ import annotations

import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx
import pytest

from .harness import Faulty, classify, record, size, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


def _seed(faulty: Faulty, n: int, tag: str) -> list[str]:
    """``n`` active subscriptions from 2026-12-01 written set-wise; their contract ids."""
    async def go(conn: asyncpg.Connection) -> None:
        await conn.execute("""
            INSERT INTO client_account (client_id, name, inn, email, manager)
            SELECT md5($2 || 'c' || g)::uuid, 'ООО Прогон ' || g, '7707083893',
                   'run@example.ru', 'manager1' FROM generate_series(1, $1) AS g""", n, tag)
        await conn.execute("""
            INSERT INTO subscription (id, contract_id, contract_number, client_id, kind,
                monthly_fee, vat_mode, starts_on, bill_from_install, auto_renew, service_start,
                status, opened_at)
            SELECT md5($2 || 's' || g)::uuid, md5($2 || 'k' || g)::uuid,
                   $2 || '-' || lpad(g::text, 6, '0'), md5($2 || 'c' || g)::uuid,
                   'subscription', 12500.00, 'on_top', DATE '2026-12-01', false, true,
                   DATE '2026-12-01', 'active', now()
            FROM generate_series(1, $1) AS g""", n, tag)
        await conn.execute("""
            INSERT INTO subscription_fee (id, subscription_id, effective_from, monthly_fee,
                                          source)
            SELECT gen_random_uuid(), s.id, s.starts_on, s.monthly_fee, 'signed'
            FROM subscription s WHERE s.contract_number LIKE $1 || '-%'""", tag)
    import asyncio

    async def run() -> None:
        conn = await asyncpg.connect(faulty.dsn("billing"))
        try:
            await go(conn)
        finally:
            await conn.close()
    asyncio.run(run())
    return [r[0] for r in faulty.query(
        "billing", "SELECT contract_id::text FROM subscription WHERE contract_number LIKE "
        "$1 || '-%'", tag)]


def _invoices(faulty: Faulty, period: str, ids: list[str]) -> list[str]:
    return [r[0] for r in faulty.query(
        "billing", "SELECT contract_id::text FROM invoice WHERE period = $1 AND kind = "
        "'invoice' AND contract_id = ANY($2::uuid[])", period, ids)]


def _none_missing(run: dict[str, Any]) -> None:
    assert run["status"] == "finished", run
    assert run["failed"] == 0 and run["failures"] == [], run
    assert run["done"] == run["total"] == run["issued"] + run["already"] + run["skipped"], run


def test_invoice_run_killed_half_way_rerun_and_two_runs_at_once(faulty: Faulty) -> None:
    n = size(300, 2000)
    tag = f"R{uuid.uuid4().hex[:6]}"
    ids = _seed(faulty, n, tag)
    assert len(ids) == n
    faulty.start(("billing",), BILLING_RUN_BATCH=str(max(n // 20, 10)),
                 BILLING_JOBS_ENABLED="false")
    url = faulty.running.urls["billing"]
    headers = faulty.servers.auth("buh1", "billing")
    with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
        r = http.post("/api/invoice-runs", params={"wait": "false"}, json={"period": "2026-12"})
        assert r.status_code == 202, r.text
        first = r.json()
        wait_until(lambda: http.get(f"/api/invoice-runs/{first['id']}").json()["done"]
                   >= first["total"] // 2, 600, "half the run done", interval=0.05)
        faulty.signal("billing", signal.SIGKILL)
        faulty.running.processes["billing"].wait(timeout=30)
        killed_at = len(_invoices(faulty, "2026-12", ids))
        faulty.restart("billing", "after-killed-run")

        r = http.post("/api/invoice-runs", json={"period": "2026-12"})
        assert r.status_code == 200, r.text
        _none_missing(r.json())
        assert http.get(f"/api/invoice-runs/{first['id']}").json()["status"] == "interrupted"
        print(f"killed run: {killed_at} of {n} invoiced before SIGKILL")
        record(classify(ids, _invoices(faulty, "2026-12", ids),
                        scenario=f"invoice run of {n} SIGKILLed half-way, rerun")).check()

        # two runs of one period at once (two requests racing, as two desks would)
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: http.post(
                "/api/invoice-runs", json={"period": "2027-01", "confirm": True},
                headers=faulty.servers.auth("head1", "head")), range(2)))  # the head confirms
        finished = [a.json() for a in answers if a.status_code == 200]
        assert finished, [a.text for a in answers]
        assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
        for run in finished:
            _none_missing(run)
        record(classify(ids, _invoices(faulty, "2027-01", ids),
                        scenario=f"two runs of one period at once, {n} contracts")).check()
