"""Logistics integration fixtures: a fresh logistics database per test, events through RabbitMQ.

Every test gets its own migrated logistics database (the run's servers and vhost are shared),
so stock, journal numbers and outbox rows of one test never leak into another.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from clientops_shared.db import make_engine
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, running_app

LOGISTICS = next(s for s in SERVICES if s.name == "logistics")
DESK = ("logist1", "logistics")


@dataclass
class LogisticsUnderTest:
    """One logistics process (in this test's event loop) on its own database."""

    servers: Servers
    database: str
    app: Any
    client: httpx.AsyncClient
    engine: AsyncEngine

    @property
    def logistics(self) -> Any:
        return self.app.state.logistics

    def auth(self, username: str = DESK[0], role: str = DESK[1]) -> dict[str, str]:
        return self.servers.auth(username, role)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=kwargs.pop("headers", None)
                                      or self.auth(), **kwargs)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth())

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.text(sql), params)).mappings())

    async def client_known(self, name: str = "ООО Ромашка", manager: str = "manager1"
                           ) -> uuid.UUID:
        """A client in logistics' directory (as contracts' events would have put it)."""
        client_id = uuid.uuid4()
        async with self.engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO client_directory (client_id, name, inn, manager) "
                "VALUES (:id, :name, '7707083893', :manager)"),
                {"id": client_id, "name": name, "manager": manager})
        return client_id

    async def item(self, sku: str, kind: str = "barrier", tracking: str = "count",
                   min_stock: int = 0, name: str | None = None) -> None:
        r = await self.post("/api/items", {"sku": sku, "name": name or f"Товар {sku}",
                                           "kind": kind, "tracking": tracking,
                                           "min_stock": min_stock})
        assert r.status_code == 201, r.text

    async def receive(self, sku: str, quantity: int | None = None,
                      serials: list[str] | None = None, location: str = "warehouse") -> None:
        body: dict[str, Any] = {"item": sku, "location": location}
        if quantity is not None:
            body["quantity"] = quantity
        if serials is not None:
            body["serials"] = serials
        r = await self.post("/api/stock/receipts", body)
        assert r.status_code == 201, r.text

    async def balance(self, sku: str, location: str = "warehouse") -> dict[str, int]:
        rows = (await self.get("/api/stock", item=sku, location=location)).json()
        return ({k: rows[0][k] for k in ("on_hand", "reserved", "available")} if rows
                else {"on_hand": 0, "reserved": 0, "available": 0})

    async def outbox(self, routing_key: str) -> list[dict[str, Any]]:
        return [r["body"]["payload"] for r in await self.rows(
            "SELECT body FROM outbox_message WHERE routing_key = :k ORDER BY id", k=routing_key)]


@contextlib.asynccontextmanager
async def logistics_on(servers: Servers, database: str, **overrides: Any
                       ) -> AsyncIterator[LogisticsUnderTest]:
    engine = make_engine(database_url(database, servers.pg_dsn))
    try:
        async with running_app(servers, "logistics", database=database, jobs_enabled=False,
                               **overrides) as (app, client):
            yield LogisticsUnderTest(servers, database, app, client, engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def logistics_db(servers: Servers) -> AsyncIterator[str]:
    name = f"clientops_logistics_t{servers.run_id}_{uuid.uuid4().hex[:6]}"
    await create_databases([name], servers.pg_dsn)
    await asyncio.to_thread(migrate, LOGISTICS, name, servers.pg_dsn)
    try:
        yield name
    finally:
        await drop_databases([name], servers.pg_dsn)


@pytest.fixture
def open_logistics(servers: Servers) -> Callable[..., Any]:
    """Open a logistics process with settings overrides: ``async with open_logistics(db, …)``."""
    return lambda database, **overrides: logistics_on(servers, database, **overrides)


@pytest.fixture
async def lt(servers: Servers, logistics_db: str) -> AsyncIterator[LogisticsUnderTest]:
    async with logistics_on(servers, logistics_db) as under_test:
        yield under_test
