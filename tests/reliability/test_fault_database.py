"""Fault suite, database faults: the private PostgreSQL cluster every service uses is stopped
(fast, then immediate = a crash) during signings. No acknowledged write is lost, every
signing opens its subscription and its welcome task with no manual replay, and the services
recover without a restart (issue 9 §5)."""

from __future__ import annotations

import time

import httpx
import pytest

from .harness import (
    Background,
    Desk,
    Faulty,
    classify,
    converge,
    dead_letters,
    ready,
    record,
    sign_contracts,
    size,
    subscriptions,
    wait_until,
    welcome_tasks,
    when,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

CONSUMERS = ("contracts", "billing", "notifications")


def test_postgres_restarted_fast_and_immediate_during_signings(faulty: Faulty) -> None:
    n = size(60, 300)
    faulty.start(CONSUMERS)
    pids = {name: p.pid for name, p in faulty.running.processes.items()}
    time.sleep(3)
    progress: list = []
    work = Background(lambda: sign_contracts(faulty, n, base=300_000, progress=progress))
    for share, mode in ((3, "fast"), (2, "immediate")):
        when(progress, n // share, work)
        faulty.pg.stop(mode)
        time.sleep(size(5, 10))
        faulty.pg.start()
    signed = work.result(timeout=900)
    ids = [s.contract_id for s in signed]

    # no acknowledged write lost: every contract whose signing answered 2xx is signed
    desk = Desk(faulty)
    with httpx.Client() as client:
        statuses = {cid: desk.status(client, cid) for cid in ids}
    kept = [cid for cid, status in statuses.items() if status in ("signed", "active")]
    acknowledged = [s.contract_id for s in signed if s.acknowledged]
    record(classify(acknowledged, kept, scenario="PostgreSQL fast+immediate: acked signings")
           ).check()

    converge(lambda: len(subscriptions(faulty, kept)), len(kept), timeout=900)
    converge(lambda: len(welcome_tasks(faulty, kept)), len(kept), timeout=900)
    retried = [s.contract_id for s in signed if not s.acknowledged] + ids
    outcomes = [record(classify(kept, subscriptions(faulty, kept), retried,
                                scenario="PostgreSQL fast+immediate: subscriptions")),
                record(classify(kept, welcome_tasks(faulty, kept), retried,
                                scenario="PostgreSQL fast+immediate: welcome tasks"))]
    for outcome in outcomes:
        outcome.check()
    assert len(kept) == n
    # with no manual replay: nothing waits in a dead-letter queue
    assert dead_letters(faulty, "billing", "notifications") == {"billing": 0,
                                                                "notifications": 0}
    # recovered without a restart: the same processes, ready again
    for name, url in faulty.running.urls.items():
        assert faulty.running.processes[name].pid == pids[name]
        wait_until(lambda u=url: ready(u), 60, f"{name} ready")  # type: ignore[misc]
