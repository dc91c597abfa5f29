"""Issue 9 §0–§1 and issue 12 §2 in billing: bounded periods, a bad period never stops billing
for everyone after it, invoice runs that fail or are left running are put right by themselves.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest
from prometheus_client import REGISTRY

from billing.service_layer import invoice_run
from clientops_shared.runtime import Periodic
from clientops_shared.testing import eventually_async

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("body, accepted", [
    ({"period": "9999-12"}, False),
    ({"period": "9999-12", "confirm": True}, False),  # never beyond five years
    ({"period": "1999-12"}, False),
    ({"period": "2027-01"}, False),                   # after next month: needs confirm
    ({"period": "2027-01", "confirm": True}, True),
    ({"period": "2026-12"}, True),                    # next month
    ({"period": "2026-10"}, False),  # before the first contract month (none yet): needs confirm
    ({"period": "2026-10", "confirm": True}, True),
])
async def test_the_invoice_run_period_is_bounded(bt: Any, body: dict[str, Any],
                                                 accepted: bool) -> None:
    bt.billing.rules.today = lambda: date(2026, 11, 27)
    # only the head confirms a period outside the usual months (issue 13 §4)
    who = bt.auth("head1", "head") if body.get("confirm") else bt.auth()
    r = await bt.client.post("/api/invoice-runs", json=body, headers=who)
    if accepted:
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["period"]
    assert await bt.scalar("SELECT count(*) FROM invoice_run") == 0


async def test_a_run_far_ahead_does_not_stop_billing_new_contracts(bt: Any) -> None:
    """The 9999-12 run of issue 9 §1 (made before the bound existed): a signing after it is
    billed, the periods it cannot correct are skipped and on record, nothing dead-lettered."""
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    await bt.execute("INSERT INTO invoice_run (id, period, status, trigger, requested_by, "
                     "lock_key, finished_at) VALUES (:id, '9999-12', 'finished', 'api', "
                     "'buh1', 42, now())", id=uuid.uuid4())
    signed = bt.signed("2026-7001", starts_on=date(2026, 12, 1))
    await bt.deliver(signed)
    assert await bt.scalar("SELECT count(*) FROM subscription WHERE contract_id = :c",
                           c=signed.contract_id) == 1
    # December, already run (by the far run), is invoiced at once
    assert await bt.scalar("SELECT count(*) FROM invoice WHERE contract_id = :c AND period = "
                           "'2026-12'", c=signed.contract_id) == 1
    skipped = await bt.rows("SELECT after FROM audit_log WHERE action = "
                            "'subscription.correction_skipped' AND entity_id = :c",
                            c=str(signed.contract_id))
    assert len(skipped) == 1 and skipped[0]["after"]["periods"] == "2032-01..9999-12"
    assert await bt.scalar("SELECT count(*) FROM consumer_failure") == 0
    r = await bt.client.get("/api/admin/audit", params={
        "entity_id": str(signed.contract_id)}, headers=bt.auth("admin", "admin"))
    assert "subscription.correction_skipped" in {row["action"] for row in r.json()}


async def test_a_failing_scheduled_run_is_recorded_failed_and_retried_next_tick(
    bt: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    signed = bt.signed("2026-7101", starts_on=date(2026, 12, 1))
    await bt.deliver(signed)
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    real = invoice_run.billable_contracts
    calls = {"n": 0}

    async def database_gone_once(billing: Any, period: Any) -> list[uuid.UUID]:
        calls["n"] += 1
        if calls["n"] == 1:  # the first run's listing (start_run only counts)
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        return await real(billing, period)
    monkeypatch.setattr(invoice_run, "billable_contracts", database_gone_once)

    (job,) = [j for j in bt.app.state.runtime.periodic if j.name == "invoice-run"]
    runtime = bt.app.state.runtime
    failed_before = _job_count("failed")
    ok_before = _job_count("ok")
    ticking = asyncio.create_task(runtime._run_periodic(Periodic(job.name, 0.2, job.run)))
    try:
        async def finished() -> bool:
            return await bt.scalar("SELECT count(*) FROM job_run WHERE job = 'invoice-run' "
                                   "AND key = '2026-12' AND finished_at IS NOT NULL") == 1
        await eventually_async(finished, timeout=20)
    finally:
        ticking.cancel()
        await asyncio.gather(ticking, return_exceptions=True)
    assert _job_count("failed") == failed_before + 1  # the first tick: failed, not ok
    assert _job_count("ok") >= ok_before + 1          # the next: the run again, finished
    runs = await bt.rows("SELECT status, error FROM invoice_run WHERE period = '2026-12' "
                         "ORDER BY started_at")
    assert [r["status"] for r in runs] == ["failed", "finished"]
    assert "ConnectionRefusedError" in runs[0]["error"]
    assert await bt.scalar("SELECT count(*) FROM invoice WHERE contract_id = :c",
                           c=signed.contract_id) == 1


async def test_a_run_left_running_is_marked_interrupted_on_the_next_poll(bt: Any) -> None:
    """A run whose process (or database connection) went away with it still ``running``."""
    bt.billing.rules.today = lambda: date(2026, 12, 3)  # not the run day: only the sweep
    orphan = uuid.uuid4()
    await bt.execute("INSERT INTO invoice_run (id, period, status, trigger, requested_by, "
                     "lock_key) VALUES (:id, '2026-11', 'running', 'api', 'buh1', 4242)",
                     id=orphan)
    assert await invoice_run.scheduled_run(bt.billing) is None
    row = (await bt.rows("SELECT status, finished_at, error FROM invoice_run WHERE id = :id",
                         id=orphan))[0]
    assert row["status"] == "interrupted" and row["finished_at"] is not None
    assert "later run" in row["error"]


def _job_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("clientops_job_duration_seconds_count", {
        "service": "billing", "job_name": "invoice-run", "outcome": outcome}) or 0.0
