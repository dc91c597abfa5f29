"""A consumer that is down loses nothing: its events wait in its durable queue, and billing
applies them once it is started again (on the fault suite's private servers, with the services
the broker and database scenarios run, so it shares their processes)."""

from __future__ import annotations

import httpx
import pytest

from .harness import Faulty, classify, record, sign_contracts, subscriptions, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

CONSUMERS = ("contracts", "billing", "notifications")


def test_billing_down_while_contracts_are_signed_catches_up_after_restart(
    faulty: Faulty,
) -> None:
    faulty.start(CONSUMERS)
    proc = faulty.running.processes["billing"]
    proc.terminate()
    proc.wait(timeout=20)
    try:
        signed = sign_contracts(faulty, 2, base=500_000, workers=2)
        assert all(s.acknowledged for s in signed), signed
    finally:
        faulty.restart("billing", "after-down")  # with the settings it was started with

    ids = [s.contract_id for s in signed]
    wait_until(lambda: len(subscriptions(faulty, ids)) == len(ids), 60,
               "the subscriptions of contracts signed while billing was down")
    record(classify(ids, subscriptions(faulty, ids),
                    scenario="billing down during signings, restarted")).check()
    billing = faulty.running.urls["billing"]
    manager = faulty.servers.auth("manager1", "manager")
    for contract_id in ids:
        subs = httpx.get(f"{billing}/api/subscriptions", headers=manager,
                         params={"contract_id": contract_id}).json()
        assert len(subs) == 1 and subs[0]["monthly_fee"] == "5000.00", subs
