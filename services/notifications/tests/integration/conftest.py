"""Harness for the notifications service under test: the real app (running_app) on this run's
PostgreSQL and RabbitMQ vhost, events published to the exchange as producers do, a clock the
test sets, a local SMTP server (aiosmtpd) and a stand-in billing serving invoice PDFs."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import aio_pika
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Header, Response

from clientops_shared import messaging
from clientops_shared.auth import Unauthorized, decode_token
from clientops_shared.db import make_engine
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.events import Envelope, Event
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, running_app
from notifications.adapters.clock import ManualClock

PDF_PREFIX = b"%PDF-1.4\n% invoice "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP -----------------------------------------------------------------------------------


class SmtpInbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


class SmtpServer:
    """A local SMTP server on a fixed port that the test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = SmtpInbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- stand-in billing -----------------------------------------------------------------------


@dataclass
class StandInBilling:
    """Serves `GET /api/invoices/{id}/pdf` like billing, only to a valid service token."""

    secret: str
    port: int = field(default_factory=free_port)
    pdfs: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (invoice_id, caller)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/invoices/{invoice_id}/pdf")
        async def pdf(invoice_id: str, authorization: str = Header(default="")) -> Response:
            try:
                principal = decode_token(self.secret, authorization.removeprefix("Bearer "))
            except Unauthorized:
                return Response(status_code=401)
            if principal.role != "service":
                return Response(status_code=403)
            self.requests.append((invoice_id, principal.username))
            if invoice_id not in self.pdfs:
                return Response(status_code=404)
            return Response(self.pdfs[invoice_id], media_type="application/pdf")

        return app


@pytest.fixture
async def billing_stand_in(servers: Servers) -> AsyncIterator[StandInBilling]:
    stand_in = StandInBilling(servers.jwt_secret)
    server = uvicorn.Server(uvicorn.Config(stand_in.app(), host="127.0.0.1", port=stand_in.port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)
    await eventually_async(started, timeout=10, interval=0.05)
    try:
        yield stand_in
    finally:
        server.should_exit = True
        await task


# --- a fresh database --------------------------------------------------------------------------


@pytest.fixture
def fresh_database(servers: Servers) -> Iterator[str]:
    """A notifications database of its own (numbers over all tasks need an empty start)."""
    name = f"clientops_notifications_t{servers.run_id}_{uuid.uuid4().hex[:6]}"
    service = next(s for s in SERVICES if s.name == "notifications")
    asyncio.run(create_databases([name], servers.pg_dsn))
    migrate(service, name, servers.pg_dsn)
    try:
        yield name
    finally:
        asyncio.run(drop_databases([name], servers.pg_dsn))


# --- the service ------------------------------------------------------------------------------


@dataclass
class Notifications:
    servers: Servers
    app: Any
    http: httpx.AsyncClient
    clock: ManualClock
    database: str
    published: list[Envelope] = field(default_factory=list)

    def auth(self, username: str, role: str) -> dict[str, str]:
        return self.servers.auth(username, role)

    @property
    def head(self) -> dict[str, str]:
        return self.auth("head", "head")

    async def publish(self, event: Event, *, producer: str | None = None,
                      wait: bool = True) -> Envelope:
        """Publish as the producer's relay does; wait until the consumer committed it."""
        envelope = Envelope.wrap(event, producer or event.TYPE.split(".")[0])
        await self.publish_envelope(envelope, wait=wait)
        self.published.append(envelope)
        return envelope

    async def publish_envelope(self, envelope: Envelope, *, wait: bool = True) -> None:
        connection = await aio_pika.connect(self.servers.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(messaging.EXCHANGE)
            await exchange.publish(aio_pika.Message(
                envelope.model_dump_json().encode(), content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(envelope.event_id), type=envelope.type),
                routing_key=envelope.type)
        if wait:
            await self.wait_processed(envelope.event_id)

    async def wait_processed(self, event_id: uuid.UUID) -> None:
        async def processed() -> bool:
            return await self.scalar("SELECT count(*) FROM inbox_message WHERE event_id = :e",
                                     e=event_id) == 1
        await eventually_async(processed, timeout=20, interval=0.05)

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = make_engine(database_url(self.database, self.servers.pg_dsn))
        try:
            async with engine.connect() as conn:
                return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]
        finally:
            await engine.dispose()

    async def scalar(self, sql: str, **params: Any) -> Any:
        rows = await self.rows(sql, **params)
        return next(iter(rows[0].values())) if rows else None

    async def tasks(self, **params: Any) -> list[dict[str, Any]]:
        r = await self.http.get("/api/tasks", headers=self.head,
                                params={"limit": 500, **params})
        assert r.status_code == 200, r.text
        result: list[dict[str, Any]] = r.json()
        return result

    async def run_job(self, job: str, at: datetime | None = None, **extra: Any
                      ) -> dict[str, Any]:
        body = {"at": at.isoformat() if at else None, **extra}
        r = await self.http.post(f"/api/jobs/{job}/run", headers=self.head, json=body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result


@contextlib.asynccontextmanager
async def notifications_service(servers: Servers, at: datetime, **overrides: Any
                                ) -> AsyncIterator[Notifications]:
    """The service on a clock standing at `at`; periodic jobs off unless asked for."""
    overrides.setdefault("jobs_enabled", False)
    async with running_app(servers, "notifications", **overrides) as (app, http):
        clock = ManualClock(at)
        app.state.deps.clock = clock
        database = overrides.get("database", servers.databases["notifications"])
        yield Notifications(servers, app, http, clock, database)


@pytest.fixture
def service(servers: Servers) -> Any:
    """`async with service(at, **settings) as svc`: the service on a clock standing at `at`."""

    def start(at: datetime, **overrides: Any) -> contextlib.AbstractAsyncContextManager[
            Notifications]:
        return notifications_service(servers, at, **overrides)

    return start
