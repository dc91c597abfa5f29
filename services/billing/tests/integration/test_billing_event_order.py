"""Issue 9 §0: 100 contracts signed and their fee changed at once — every fee change applied.

The fee changes are published BEFORE the signings they follow (the worst case a redelivery,
a retry or a second relay can produce) and billing handles 20 events at a time; each change
must wait for its signing and be applied, and the month's invoices be at the new fee.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.testing import numbered_envelopes, publish_envelopes

from .conftest import drain

pytestmark = pytest.mark.integration

N = 100


async def test_hundred_fee_changes_arriving_before_their_signings_are_all_applied(
    servers: Any, billing_db: str, open_billing: Any,
) -> None:
    async with open_billing(billing_db, consumer_prefetch=20,
                            retry_delays=(0.3, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)) as bt:
        await drain(bt)
        signings, changes = [], []
        for i in range(N):
            s = bt.signed(f"2026-{i + 1:04d}", inn=bt.inns[i % len(bt.inns)], fee="10000.00",
                          starts_on=date(2026, 12, 1))
            amended = c.ContractAmended(
                contract_id=s.contract_id, number=s.number, client_id=s.client_id,
                amendment_id=uuid.uuid4(), kind="fee_change", effective_on=date(2026, 12, 1),
                monthly_fee="15000.00", previous_monthly_fee="10000.00")
            signed_env, amended_env = numbered_envelopes([s, amended])
            signings.append(signed_env)
            changes.append(amended_env)
        # every change first, then every signing (the long last delays: a parked change must
        # outwait the signings' backlog on a busy machine before it would be dead-lettered)
        ids = await publish_envelopes(servers.amqp_url, changes + signings)
        await bt.consumed(ids, within=120)

        fees = await bt.rows("SELECT monthly_fee, count(*) AS n FROM subscription "
                             "GROUP BY monthly_fee")
        assert [(r["monthly_fee"], r["n"]) for r in fees] == [(Decimal("15000.00"), N)]
        r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"},
                                 headers=bt.auth())
        assert r.status_code == 200, r.text
        assert r.json()["issued"] == N
        amounts = await bt.rows("SELECT amount, count(*) AS n FROM invoice WHERE period = "
                                "'2026-12' GROUP BY amount")
        assert [(r["amount"], r["n"]) for r in amounts] == [(Decimal("15000.00"), N)]
        assert await bt.scalar("SELECT count(*) FROM consumer_failure "
                               "WHERE resolved_at IS NULL") == 0


async def test_an_unversioned_change_before_its_signing_is_retried_not_dropped(
    servers: Any, billing_db: str, open_billing: Any,
) -> None:
    """Events from before versioning carry no order; a change for a contract billing has not
    seen signed is retried through the delay queues until the signing is there."""
    async with open_billing(billing_db, retry_delays=(0.3, 0.6, 1.0, 2.0, 5.0, 30.0)) as bt:
        await drain(bt)
        s = bt.signed("2026-0901", fee="10000.00", starts_on=date(2026, 12, 1))
        amended = c.ContractAmended(
            contract_id=s.contract_id, number=s.number, client_id=s.client_id,
            amendment_id=uuid.uuid4(), kind="fee_change", effective_on=date(2026, 12, 1),
            monthly_fee="15000.00")
        change = Envelope.wrap(amended, "contracts")
        assert change.aggregate_version is None
        await publish_envelopes(servers.amqp_url, [change])
        await asyncio.sleep(1.0)  # it came back at least once and found no subscription
        assert await bt.scalar("SELECT count(*) FROM inbox_message") == 0
        await bt.deliver(s)
        await bt.consumed([change.event_id], within=60)
        assert await bt.scalar("SELECT monthly_fee FROM subscription WHERE contract_id = :c",
                               c=s.contract_id) == Decimal("15000.00")
