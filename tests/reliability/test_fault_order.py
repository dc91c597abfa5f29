"""Fault suite: each contract signed and its fee changed at once, the consumers restarted
in between — every fee change applied (issue 9 §0/§5; before the fix 92 of 100 were lost)."""

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
    full_only,
    record,
    sign_contracts,
    size,
    when,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

NEW_FEE = "7777.00"


def _new_fees(faulty: Faulty, ids: list[str]) -> list[str]:
    """One contract id per fee entry at the new fee billing recorded."""
    return [r[0] for r in faulty.query(
        "billing", "SELECT s.contract_id::text FROM subscription_fee f "
        "JOIN subscription s ON s.id = f.subscription_id "
        "WHERE f.monthly_fee = $2 AND s.contract_id = ANY($1::uuid[])", ids,
        __import__("decimal").Decimal(NEW_FEE))]


@full_only
def test_sign_then_change_the_fee_at_once_with_consumers_restarted(faulty: Faulty) -> None:
    n = size(40, 100)
    faulty.start(("contracts", "billing", "notifications"))
    time.sleep(3)
    desk = Desk(faulty)

    def change(client: httpx.Client, contract_id: str) -> None:
        desk.change_fee(client, contract_id, NEW_FEE)
    progress: list = []
    work = Background(lambda: sign_contracts(faulty, n, base=400_000, then=change,
                                             progress=progress))
    when(progress, n // 2, work)
    faulty.restart("billing", "between")  # the consumer goes away between the two steps
    faulty.restart("notifications", "between")
    signed = work.result(timeout=900)
    ids = [s.contract_id for s in signed]
    converge(lambda: len(_new_fees(faulty, ids)), n, timeout=600)
    record(classify(ids, _new_fees(faulty, ids),
                    scenario="sign + fee change at once, consumers restarted")).check()
    current = faulty.query("billing", "SELECT count(*) AS n FROM subscription WHERE "
                           "contract_id = ANY($1::uuid[]) AND monthly_fee = $2", ids,
                           __import__("decimal").Decimal(NEW_FEE))
    assert current[0]["n"] == n
    assert dead_letters(faulty, "billing") == {"billing": 0}
