"""Billing integration fixtures: a fresh billing database per test, events through RabbitMQ.

Every test gets its own migrated billing database (the run's servers and vhost are shared),
so invoice numbers, runs and balances of one test never leak into another.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import aio_pika
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.events import Envelope, Event
from clientops_shared.events import contracts as c
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, publish_envelopes, running_app

BILLING = next(s for s in SERVICES if s.name == "billing")
DESK = ("buh1", "billing")


INNS = ["7707083893", "7736207543", "7740000076", "7712040126", "7702070139", "7708004767",
        "2309085638", "7707049388"]


def signed(number: str, *, client_id: uuid.UUID | None = None, inn: str = "7707083893",
           fee: str = "12500.00", starts_on: date = date(2026, 12, 1),
           vat_mode: str = "on_top", kind: str = "subscription", manager: str = "manager1",
           ends_on: date | None = None, auto_renew: bool = True,
           bill_from_install: bool = False, site_id: uuid.UUID | None = None,
           contract_id: uuid.UUID | None = None, email: str = "buh@example.ru",
           name: str | None = None) -> c.ContractSigned:
    return c.ContractSigned(
        contract_id=contract_id or uuid.uuid4(), number=number,
        client_id=client_id or uuid.uuid4(), client_name=name or f"ООО Клиент {number}",
        client_inn=inn, client_email=email, manager=manager, kind=kind, status="active",
        signed_on=starts_on, starts_on=starts_on, ends_on=ends_on, monthly_fee=fee,
        vat_mode=vat_mode, auto_renew=auto_renew, bill_from_install=bill_from_install,
        site_id=site_id)


@dataclass
class BillingUnderTest:
    """One billing process (in this test's event loop) on its own database."""

    servers: Servers
    database: str
    app: Any
    client: httpx.AsyncClient
    engine: AsyncEngine

    signed = staticmethod(signed)
    inns = INNS

    @property
    def billing(self) -> Any:
        return self.app.state.billing

    def auth(self, username: str = DESK[0], role: str = DESK[1]) -> dict[str, str]:
        return self.servers.auth(username, role)

    async def publish(self, events: Iterable[Event], producer: str = "contracts"
                      ) -> list[uuid.UUID]:
        """Publish events to the exchange (persistent, confirmed); returns their ids."""
        return await publish_envelopes(self.servers.amqp_url,
                                       [Envelope.wrap(e, producer) for e in events])

    async def consumed(self, event_ids: list[uuid.UUID], within: float = 60) -> None:
        """Wait until billing has processed (inbox) every one of these events."""
        async def done() -> bool:
            return await self.scalar(
                "SELECT count(*) FROM inbox_message WHERE event_id = ANY(:ids)",
                ids=event_ids) == len(event_ids)
        await eventually_async(done, timeout=within, interval=0.3)

    async def deliver(self, *events: Event, producer: str = "contracts") -> None:
        await self.consumed(await self.publish(events, producer))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.text(sql), params)).mappings())

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.text(sql), params)


@contextlib.asynccontextmanager
async def billing_on(servers: Servers, database: str, **overrides: Any
                     ) -> AsyncIterator[BillingUnderTest]:
    engine = make_engine(database_url(database, servers.pg_dsn))
    try:
        async with running_app(servers, "billing", database=database, jobs_enabled=False,
                               **overrides) as (app, client):
            yield BillingUnderTest(servers, database, app, client, engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def billing_db(servers: Servers) -> AsyncIterator[str]:
    name = f"clientops_billing_t{servers.run_id}_{uuid.uuid4().hex[:6]}"
    await create_databases([name], servers.pg_dsn)
    await asyncio.to_thread(migrate, BILLING, name, servers.pg_dsn)
    try:
        yield name
    finally:
        await drop_databases([name], servers.pg_dsn)


@pytest.fixture
def open_billing(servers: Servers) -> Callable[..., Any]:
    """Open (another) billing process on a database: ``async with open_billing(db) as b``."""
    return lambda database, **overrides: billing_on(servers, database, **overrides)


@pytest.fixture
async def bt(servers: Servers, billing_db: str) -> AsyncIterator[BillingUnderTest]:
    async with billing_on(servers, billing_db) as under_test:
        await drain(under_test)
        yield under_test


async def drain(under_test: BillingUnderTest) -> None:
    """Let events left in the shared queue by an earlier test go by before this one starts."""
    async def quiet() -> bool:
        connection = await aio_pika.connect(under_test.servers.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(messaging.queue_name("billing"), passive=True)
            return queue.declaration_result.message_count == 0
    await eventually_async(quiet, timeout=30)
