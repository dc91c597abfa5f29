"""Every event about one contract carries the contract's next version, written with it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_a_contracts_events_are_numbered_one_by_one_in_commit_order(
    desk: Any, db: Any,
) -> None:
    client, contract = await desk.signed_contract(notice_days=30)
    cid = contract["id"]
    desk.today = date(2027, 2, 1)
    await desk.post(f"/api/contracts/{cid}/fee-change",
                    {"new_fee": "15000.00", "notice_on": "2027-02-01",
                     "effective_on": "2027-03-03"}, expect=201)
    await desk.post(f"/api/contracts/{cid}/terminate",
                    {"effective_on": "2027-06-01", "reason": "по соглашению"}, expect=201)
    rows = await db.rows("SELECT body FROM outbox_message WHERE body->>'aggregate' = "
                         "'contract' AND body->>'aggregate_id' = :cid ORDER BY id", cid=cid)
    steps = [(r["body"]["type"], r["body"]["aggregate_version"]) for r in rows]
    assert [v for _, v in steps] == list(range(1, len(steps) + 1)), steps
    types = [t for t, _ in steps]
    assert types.index("contracts.contract.signed") < types.index("contracts.contract.amended")
    assert "contracts.contract.terminated" in types
    # the client is an aggregate of its own, numbered apart from the contract
    registered = await db.rows("SELECT body FROM outbox_message WHERE routing_key = "
                               "'contracts.client.registered' AND body->>'aggregate_id' = "
                               ":id", id=client["id"])
    assert [r["body"]["aggregate_version"] for r in registered] == [1]
