"""Every service answers 503 problem+json with a Russian reason and the trace id while its
database is unreachable — never an unhandled 500 — and answers normally once it is back.

The database is a private PostgreSQL cluster this test starts on another port (never the
shared server); the broker is a private virtual host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from clientops_shared.devtools import SERVICES, create_databases, migrate
from clientops_shared.testing import Servers, running_app

from .harness import PrivatePostgres
from .harness import private_postgres as private_cluster

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

# one read each service answers from its database
READS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "contracts": ("GET", "/api/clients", {}),
    "billing": ("GET", "/api/subscriptions", {}),
    "field_ops": ("GET", "/api/work-orders", {}),
    "logistics": ("GET", "/api/items", {}),
    "notifications": ("GET", "/api/tasks", {}),
    "web": ("POST", "/api/auth/token", {"json": {"username": "admin", "password": "x" * 12}}),
}


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    with private_cluster() as pg:
        yield pg


async def test_every_service_answers_503_while_its_database_is_down(
    private_broker: Servers,
    private_postgres: PrivatePostgres,
) -> None:
    assert set(READS) == {s.name for s in SERVICES}
    urls = {}
    for svc in SERVICES:
        database = f"clientops_{svc.name}_down"
        await create_databases([database], private_postgres.dsn)
        await asyncio.to_thread(migrate, svc, database, private_postgres.dsn)
        urls[svc.name] = (
            f"postgresql+asyncpg://postgres@127.0.0.1:{private_postgres.port}/{database}"
        )
    admin = private_broker.auth("admin", "admin")
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, url in urls.items():
            _, clients[name] = await stack.enter_async_context(
                running_app(
                    private_broker,
                    name,
                    DATABASE_URL=url,
                    jobs_enabled=False,
                    relay_enabled=False,
                    consumers_enabled=False,
                )
            )
        for name, (method, path, kwargs) in READS.items():
            r = await clients[name].request(method, path, headers=admin, **kwargs)
            assert r.status_code < 500, (name, r.status_code, r.text)

        await asyncio.to_thread(private_postgres.stop, "fast")
        try:
            for name, (method, path, kwargs) in READS.items():
                for _ in range(2):  # the pool's dead connections, then a refused connect
                    r = await clients[name].request(method, path, headers=admin, **kwargs)
                    assert r.status_code == 503, (name, r.status_code, r.text)
                    assert r.headers["content-type"].startswith("application/problem+json")
                    body = r.json()
                    assert "База данных" in body["detail"] and "недоступна" in body["detail"], (
                        name,
                        body,
                    )
                    assert body["status"] == 503
                    assert len(body.get("trace_id", "")) == 32, (name, body)
                    assert r.headers["retry-after"].isdigit()
        finally:
            await asyncio.to_thread(private_postgres.start)

        for name, (method, path, kwargs) in READS.items():  # back by itself, no restart
            r = await clients[name].request(method, path, headers=admin, **kwargs)
            assert r.status_code < 500, (name, r.status_code, r.text)
