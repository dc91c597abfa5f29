"""A burst of invoice events (the invoice run's) is handled in shared transactions
(GroupCommit) with every row each event owes: inbox, timeline, mail, its step admitted in
order; a redelivered burst adds nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clientops_shared.db import make_engine
from clientops_shared.events import Envelope
from clientops_shared.events import billing as b
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, publish_envelopes

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 15, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
N = 200
EARLY = 20  # invoices whose "paid" (step 2) is published before their "issued" (step 1)


@pytest.fixture
async def mails_dropped_after(servers: Servers) -> AsyncIterator[list[str]]:
    """The addresses a burst mails to: their pending mails are dropped after the test, so
    the mail tests after it find only their own mails due (the sender takes a batch)."""
    addresses: list[str] = []
    yield addresses
    engine = make_engine(database_url(servers.databases["notifications"], servers.pg_dsn))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text('DELETE FROM mail_delivery WHERE "to" = '
                                       "ANY(CAST(:to AS text[]))"), {"to": addresses})
    finally:
        await engine.dispose()


async def all_in_inbox(svc: Any, ids: list[uuid.UUID]) -> None:
    """Until every event of ``ids`` has its inbox row (is handled)."""
    async def handled() -> bool:
        return await svc.scalar("SELECT count(*) FROM inbox_message WHERE event_id = "
                                "ANY(CAST(:ids AS uuid[]))", ids=ids) == len(ids)
    await eventually_async(handled, timeout=180, interval=0.2)


def step(event: b.InvoiceIssued | b.InvoicePaid, version: int) -> Envelope:
    envelope = Envelope.wrap(event, "billing")
    envelope.aggregate_version = version  # as billing's outbox numbers the invoice's steps
    return envelope


async def test_a_burst_is_handled_in_shared_transactions_with_every_row_in_order(
        service: Any, servers: Servers, mails_dropped_after: list[str]) -> None:
    async with service(NOW):
        pass  # the queue exists (and the consumer is gone): the burst waits in it, as events
        # published while notifications was busy or down do
    invoices = [b.InvoiceIssued(
        invoice_id=uuid.uuid4(), number=f"СЧ-2026-12-{i:04d}", client_id=uuid.uuid4(),
        contract_id=uuid.uuid4(), period="2026-12", amount=Decimal("12500.00"),
        vat=Decimal("2750.00"), total=Decimal("15250.00"), due_on=date(2026, 12, 25),
        email=f"buh{i}@example.ru") for i in range(N)]
    mails_dropped_after.extend(i.email for i in invoices)
    paid = [step(b.InvoicePaid(invoice_id=i.invoice_id, number=i.number,
                               client_id=i.client_id, paid_on=date(2026, 12, 16)), 2)
            for i in invoices[:EARLY]]
    issued = [step(i, 1) for i in invoices]
    burst = paid + issued
    await publish_envelopes(servers.amqp_url, burst)
    ids = [e.event_id for e in burst]
    async with service(NOW) as svc:
        await all_in_inbox(svc, ids)

        keys = [f"invoice_issued:{i.invoice_id}" for i in invoices]
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE dedupe_key = "
                                "ANY(CAST(:keys AS text[]))", keys=keys) == N
        assert await svc.scalar("SELECT count(*) FROM timeline_entry WHERE event_id = "
                                "ANY(CAST(:ids AS uuid[]))", ids=ids) == len(burst)
        # every invoice's steps applied in order: the early "paid" ones waited for "issued"
        versions = await svc.rows(
            "SELECT version, count(*) AS n FROM aggregate_applied WHERE aggregate = 'invoice' "
            "AND aggregate_id = ANY(CAST(:ids AS text[])) GROUP BY version",
            ids=[str(i.invoice_id) for i in invoices])
        assert {r["version"]: r["n"] for r in versions} == {1: N - EARLY, 2: EARLY}
        # rows written by one transaction share its xmin: far fewer transactions than events
        # (one each before GroupCommit)
        transactions = await svc.scalar(
            "SELECT count(DISTINCT CAST(xmin AS text)) FROM inbox_message WHERE event_id = "
            "ANY(CAST(:ids AS uuid[]))", ids=ids)
        assert transactions <= len(burst) // 2, transactions

        # the same events delivered again (a relay that published twice) add nothing
        await publish_envelopes(servers.amqp_url, issued[:50])
        marker = step(b.InvoiceIssued(**{**invoices[0].model_dump(),
                                         "invoice_id": uuid.uuid4()}), 1)
        await publish_envelopes(servers.amqp_url, [marker])
        await svc.wait_processed(marker.event_id)
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE dedupe_key = "
                                "ANY(CAST(:keys AS text[]))", keys=keys) == N
        assert await svc.scalar("SELECT count(*) FROM timeline_entry WHERE event_id = "
                                "ANY(CAST(:ids AS uuid[]))", ids=ids) == len(burst)
        assert await svc.scalar("SELECT count(*) FROM consumer_failure WHERE message_id = "
                                "ANY(CAST(:ids AS text[]))", ids=[str(i) for i in ids]) == 0


async def test_an_event_delivered_twice_into_one_group_is_handled_once(
        service: Any, servers: Servers, mails_dropped_after: list[str]) -> None:
    """A redelivery can reach the consumer while the first copy still waits (the broker
    requeues it after a connection loss): both copies in one group must still apply the event
    once — the second copy's "already applied" must not cancel the first's handling."""
    async with service(NOW):
        pass
    invoices = [b.InvoiceIssued(
        invoice_id=uuid.uuid4(), number=f"СЧ-2026-12-{i:04d}", client_id=uuid.uuid4(),
        contract_id=uuid.uuid4(), period="2026-12", amount=Decimal("100.00"),
        vat=Decimal("22.00"), total=Decimal("122.00"), due_on=date(2026, 12, 25),
        email=f"twice{i}@example.ru") for i in range(30)]
    mails_dropped_after.extend(i.email for i in invoices)
    issued = [step(i, 1) for i in invoices]
    await publish_envelopes(servers.amqp_url, [e for e in issued for _ in range(2)])
    ids = [e.event_id for e in issued]
    async with service(NOW) as svc:
        await all_in_inbox(svc, ids)
        marker = step(b.InvoiceIssued(**{**invoices[0].model_dump(),
                                         "invoice_id": uuid.uuid4()}), 1)
        await publish_envelopes(servers.amqp_url, [marker])
        await svc.wait_processed(marker.event_id)  # every copy before it has been handled
        keys = [f"invoice_issued:{i.invoice_id}" for i in invoices]
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE dedupe_key = "
                                "ANY(CAST(:keys AS text[]))", keys=keys) == len(invoices)
        assert await svc.scalar("SELECT count(*) FROM timeline_entry WHERE event_id = "
                                "ANY(CAST(:ids AS uuid[]))", ids=ids) == len(ids)
