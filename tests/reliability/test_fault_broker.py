"""Fault suite, broker faults: RabbitMQ stopped and restarted twice during signings, and every
connection closed by the broker (issue 9 §5). The private node is this run's own."""

from __future__ import annotations

import time

import pytest

from .harness import (
    Background,
    Faulty,
    classify,
    converge,
    dead_letters,
    full_only,
    record,
    sign_contracts,
    size,
    subscriptions,
    welcome_tasks,
    when,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

CONSUMERS = ("contracts", "billing", "notifications")


def _check_signings(faulty: Faulty, scenario: str, signed: list, timeout: float) -> None:
    ids = [s.contract_id for s in signed]
    retried = [s.contract_id for s in signed if not s.acknowledged] + ids
    converge(lambda: len(subscriptions(faulty, ids)), len(ids), timeout)
    converge(lambda: len(welcome_tasks(faulty, ids)), len(ids), timeout)
    outcomes = [
        record(classify(ids, subscriptions(faulty, ids), retried,
                        scenario=f"{scenario}: subscriptions")),
        record(classify(ids, welcome_tasks(faulty, ids), retried,
                        scenario=f"{scenario}: welcome tasks")),
    ]
    for outcome in outcomes:
        outcome.check()
    assert dead_letters(faulty, "billing", "notifications") == {"billing": 0,
                                                                "notifications": 0}


def test_signings_while_rabbitmq_is_stopped_and_restarted_twice(faulty: Faulty) -> None:
    n = size(100, 1000)
    faulty.start(CONSUMERS)
    time.sleep(3)  # quorum queues settle before the first fault (ARCHITECTURE: 3.10 trap)
    progress: list = []
    work = Background(lambda: sign_contracts(faulty, n, base=100_000, progress=progress))
    when(progress, n // 4, work)
    faulty.rabbit.stop_app()  # the broker stops: every connection dropped, port closed
    time.sleep(size(5, 15))
    faulty.rabbit.start_app()
    when(progress, n // 2, work)
    faulty.rabbit.restart_node()  # the whole node down and booted again
    signed = work.result(timeout=900)
    assert len(signed) == n
    _check_signings(faulty, "RabbitMQ stopped+restarted twice", signed, timeout=600)
    for name, proc in faulty.running.processes.items():
        assert proc.poll() is None, f"{name} died"


@full_only
def test_connections_closed_by_the_broker_reconnect_by_themselves(faulty: Faulty) -> None:
    n = size(100, 500)
    faulty.start(CONSUMERS)
    time.sleep(3)
    progress: list = []
    work = Background(lambda: sign_contracts(faulty, n, base=200_000, progress=progress))
    for share in (3, 2):
        when(progress, n // share, work)
        faulty.rabbit.close_all_connections()  # relays, consumers, publishers: all dropped
    signed = work.result(timeout=900)
    _check_signings(faulty, "close_all_connections x2", signed, timeout=600)
    for name, proc in faulty.running.processes.items():
        assert proc.poll() is None, f"{name} died"
