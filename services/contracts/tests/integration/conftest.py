"""Fixtures for the contracts service against real PostgreSQL and RabbitMQ.

The ``servers`` fixture (clientops_shared.testing) gives one database per service for the whole
run, so tests make their own data: ``new_inn()`` draws a fresh valid INN every time.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, random_inn, running_app

INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_rng = random.Random()


def new_inn() -> str:
    return random_inn()


class Desk:
    """The contracts API as a test drives it: a client, roles, and a settable business day."""

    def __init__(self, app: Any, client: httpx.AsyncClient, servers: Servers,
                 storage_dir: Path) -> None:
        self.app, self.http, self.servers, self.storage_dir = app, client, servers, storage_dir
        self.today = date(2026, 11, 23)
        app.state.clock = lambda: self.today

    @staticmethod
    def new_inn() -> str:
        return new_inn()

    def auth(self, username: str = "manager1", role: str = "manager") -> dict[str, str]:
        return self.servers.auth(username, role)

    @property
    def head(self) -> dict[str, str]:
        return self.auth("head1", "head")

    @property
    def admin(self) -> dict[str, str]:
        return self.auth("ops", "admin")

    async def post(self, path: str, body: Any = None, *, as_: dict[str, str] | None = None,
                   expect: int | None = None, **kwargs: Any) -> httpx.Response:
        r = await self.http.post(path, json=body, headers=as_ or self.auth(), **kwargs)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    async def get(self, path: str, *, as_: dict[str, str] | None = None,
                  expect: int | None = 200, **kwargs: Any) -> httpx.Response:
        r = await self.http.get(path, headers=as_ or self.auth(), **kwargs)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    async def client(self, manager: str = "manager1", **extra: Any) -> dict[str, Any]:
        body = {"name": f"ООО «Тест {uuid.uuid4().hex[:6]}»", "inn": new_inn(),
                "email": "buh@example.ru", **extra}
        r = await self.post("/api/clients", body, as_=self.auth(manager, "manager"), expect=201)
        return dict(r.json())

    async def full_client(self, manager: str = "manager1") -> dict[str, Any]:
        """A client whose card has everything documents print."""
        return await self.client(
            manager, name="ООО «Ромашка & Сыновья»", kpp="770701001",
            legal_address="125009, г. Москва, ул. Цветочная, д. 5",
            phone="+7 916 123 45 67", ogrn="1027700132195",
            bank={"bank_name": "АО «ТБанк»", "bik": "044525974",
                  "account": "40702810600000004567", "corr_account": "30101810145250000974"},
            signatory={"position": "Директор", "full_name": "Смирнова Анна Петровна",
                       "in_person_of": "Директора Смирновой Анны Петровны", "female": True},
            contacts=[{"name": "Петрова Ольга", "role": "accountant",
                       "phone": "8 (495) 765-43-21"}])

    async def site(self, client_id: str, manager: str = "manager1", **extra: Any
                   ) -> dict[str, Any]:
        body = {"name": "Парковка ТЦ", "address": "г. Москва, Ленинградский пр-т, д. 10",
                "access_points": 2, **extra}
        r = await self.post(f"/api/clients/{client_id}/sites", body,
                            as_=self.auth(manager, "manager"), expect=201)
        return dict(r.json())

    async def contract(self, client_id: str, manager: str = "manager1", **terms: Any
                       ) -> dict[str, Any]:
        body = {"client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
                "ends_on": "2027-11-30", "monthly_fee": "12500.00", "auto_renew": False,
                "standard": True, **terms}
        r = await self.post("/api/contracts", body, as_=self.auth(manager, "manager"),
                            expect=201)
        return dict(r.json())

    async def sign(self, contract_id: str, signed_on: str, manager: str = "manager1",
                   expect: int = 200) -> httpx.Response:
        return await self.post(f"/api/contracts/{contract_id}/sign", {"signed_on": signed_on},
                               as_=self.auth(manager, "manager"), expect=expect)

    async def signed_contract(self, manager: str = "manager1", signed_on: str = "2026-12-01",
                              **terms: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        client = await self.client(manager)
        contract = await self.contract(client["id"], manager, **terms)
        await self.sign(contract["id"], signed_on, manager)
        return client, await self.contract_state(contract["id"])

    async def contract_state(self, contract_id: str) -> dict[str, Any]:
        return dict((await self.get(f"/api/contracts/{contract_id}", as_=self.admin)).json())

    async def run_day(self, on: date | str) -> dict[str, Any]:
        r = await self.post("/api/jobs/daily", {"on": str(on)}, as_=self.admin, expect=200)
        return dict(r.json())


def _admin_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))


@pytest.fixture(scope="session")
def contracts_template(servers: Servers) -> Iterator[str]:
    """A migrated contracts database that each test copies (CREATE DATABASE … TEMPLATE).

    The daily job runs once per date for the whole database, so tests that run days must not
    share one: each gets a fresh copy, in a fraction of a second.
    """
    name = f"clientops_contracts_tpl_{servers.run_id}"
    service = next(s for s in SERVICES if s.name == "contracts")
    asyncio.run(create_databases([name], servers.pg_dsn))
    try:
        migrate(service, name, servers.pg_dsn)
        yield name
    finally:
        asyncio.run(drop_databases([name], servers.pg_dsn))


@pytest.fixture
async def contracts_database(servers: Servers, contracts_template: str) -> AsyncIterator[str]:
    name = f"clientops_contracts_t{servers.run_id}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_admin_dsn(servers.pg_dsn))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{contracts_template}"')
    finally:
        await conn.close()
    yield name
    await drop_databases([name], servers.pg_dsn)


@pytest.fixture
async def desk(servers: Servers, contracts_database: str, tmp_path: Path
               ) -> AsyncIterator[Desk]:
    """The contracts service in-process on its own database; its daily tick is off (tests
    run days explicitly through the API)."""
    storage = tmp_path / "files"
    async with running_app(servers, "contracts", database=contracts_database,
                           jobs_enabled=False, storage_dir=str(storage),
                           max_upload_bytes=64 * 1024) as (app, http):
        yield Desk(app, http, servers, storage)


class Db:
    def __init__(self, servers: Servers, database: str) -> None:
        self.engine = make_engine(database_url(database, servers.pg_dsn))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]

    async def counts(self) -> dict[str, int]:
        """Rows in every table a write could touch: "nothing written" compares these."""
        tables = ("client", "site", "contract", "contract_number_seq", "amendment",
                  "change_request", "claim", "deal", "feedback", "interaction",
                  "stored_document", "outbox_message", "audit_log", "idempotency_key")
        return {t: int(await self.scalar(f"SELECT count(*) FROM {t}")) for t in tables}

    async def events(self, routing_key: str, **payload: str) -> list[dict[str, Any]]:
        where = " AND ".join(f"body->'payload'->>'{k}' = :{k}" for k in payload)
        sql = "SELECT body FROM outbox_message WHERE routing_key = :rk" + (
            f" AND {where}" if where else "") + " ORDER BY id"
        return [r["body"] for r in await self.rows(sql, rk=routing_key, **payload)]


@pytest.fixture
async def db(servers: Servers, contracts_database: str) -> AsyncIterator[Db]:
    handle = Db(servers, contracts_database)
    yield handle
    await handle.engine.dispose()


class Probe:
    """A private queue bound to every contracts event on the run's virtual host."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.seen: list[dict[str, Any]] = []
        # per message as delivered: routing key, delivery mode, content type, message id
        self.properties: list[dict[str, Any]] = []

    async def drain(self) -> None:
        while (message := await self.queue.get(fail=False, timeout=1)) is not None:
            await message.ack()
            self.seen.append(json.loads(message.body))
            self.properties.append({"routing_key": message.routing_key,
                                    "delivery_mode": message.delivery_mode,
                                    "content_type": message.content_type,
                                    "message_id": message.message_id})

    async def wait_for(self, count: int, *, within: float = 30, **match: Any
                       ) -> list[dict[str, Any]]:
        """Wait until ``count`` messages match ``match`` (envelope keys or payload.<key>)."""

        def matches(body: dict[str, Any]) -> bool:
            for key, value in match.items():
                actual = body["payload"].get(key) if key != "type" else body["type"]
                if actual != value:
                    return False
            return True

        async def enough() -> list[dict[str, Any]] | None:
            await self.drain()
            found = [b for b in self.seen if matches(b)]
            return found if len(found) >= count else None

        found: list[dict[str, Any]] = await eventually_async(enough, timeout=within,
                                                             interval=0.1)
        return found


@pytest.fixture
async def probe(servers: Servers) -> AsyncIterator[Probe]:
    await messaging.declare_topology(servers.amqp_url, 5)
    connection = await aio_pika.connect(servers.amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(f"probe-contracts-{uuid.uuid4().hex[:8]}",
                                        exclusive=True)
    await queue.bind(messaging.EXCHANGE, routing_key="contracts.#")
    yield Probe(queue)
    await connection.close()


@pytest.fixture
def pdf_to_text(tmp_path: Path) -> Iterator[Any]:
    import shutil
    import subprocess

    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"

    def convert(data: bytes) -> str:
        source = tmp_path / f"{uuid.uuid4().hex}.pdf"
        source.write_bytes(data)
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(source), "-"],
                             capture_output=True, check=True, timeout=60)
        return " ".join(out.stdout.decode("utf-8").split())

    yield convert
