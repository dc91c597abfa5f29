"""Fixtures for field-ops against real PostgreSQL and RabbitMQ.

Clients, sites and contracts reach field-ops only as contracts' events, so the tests publish
those events to the run's broker and wait for the projections, exactly as in production.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aio_pika
import httpx
import pytest
import sqlalchemy as sa

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.events import Envelope, Event
from clientops_shared.events import contracts as c
from clientops_shared.jobs import MOSCOW
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, running_app

_rng = random.Random()


def new_inn() -> str:
    digits = [7, 7] + [_rng.randrange(10) for _ in range(7)]
    check = sum(d * w for d, w in zip(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8), strict=True)) % 11
    return "".join(map(str, digits)) + str(check % 10)


def _pdf_text(data: bytes) -> str:
    import subprocess

    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                         capture_output=True, check=True, timeout=60)
    return " ".join(out.stdout.decode("utf-8").split())


@pytest.fixture
def pdf_text() -> Any:
    """The words of a PDF (poppler's pdftotext), whitespace collapsed."""
    return _pdf_text


class Field:
    """field-ops in-process, a settable clock, the broker to publish contracts' events."""

    def __init__(self, app: Any, http: httpx.AsyncClient, servers: Servers,
                 channel: aio_pika.abc.AbstractChannel, engine: Any) -> None:
        self.app, self.http, self.servers, self.channel, self.engine = (
            app, http, servers, channel, engine)
        self.now = datetime(2026, 11, 27, 10, 0, tzinfo=MOSCOW)
        app.state.clock = lambda: self.now

    def auth(self, username: str, role: str) -> dict[str, str]:
        return self.servers.auth(username, role)

    @property
    def head(self) -> dict[str, str]:
        return self.auth("head1", "head")

    @property
    def dispatcher(self) -> dict[str, str]:
        return self.auth("dispatcher", "dispatcher")

    async def post(self, path: str, body: Any = None, *, as_: dict[str, str] | None = None,
                   expect: int | None = None) -> httpx.Response:
        r = await self.http.post(path, json=body, headers=as_ or self.dispatcher)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    async def get(self, path: str, *, as_: dict[str, str] | None = None,
                  expect: int | None = 200, **kwargs: Any) -> httpx.Response:
        r = await self.http.get(path, headers=as_ or self.dispatcher, **kwargs)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    async def publish(self, event: Event, occurred_at: datetime | None = None,
                      **extra: Any) -> Envelope:
        """Publish as its producer would; ``extra`` adds payload fields (additive ones another
        branch's contract carries)."""
        envelope = Envelope.wrap(event, event.TYPE.split(".", 1)[0])
        envelope.payload.update({k: str(v) for k, v in extra.items()})
        if occurred_at is not None:
            envelope.occurred_at = occurred_at
        exchange = await self.channel.get_exchange(messaging.EXCHANGE)
        await exchange.publish(aio_pika.Message(
            json.dumps(envelope.model_dump(mode="json")).encode(),
            content_type="application/json", message_id=str(envelope.event_id),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=event.TYPE)
        return envelope

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]

    async def events(self, routing_key: str, **payload: str) -> list[dict[str, Any]]:
        where = "".join(f" AND body->'payload'->>'{k}' = :{k}" for k in payload)
        return [r["body"] for r in await self.rows(
            "SELECT body FROM outbox_message WHERE routing_key = :rk" + where + " ORDER BY id",
            rk=routing_key, **payload)]

    async def counts(self) -> dict[str, int]:
        tables = ("work_order", "work_order_report", "work_order_problem", "equipment",
                  "downtime_incident", "journal_counter", "outbox_message", "audit_log")
        return {t: int(await self.scalar(f"SELECT count(*) FROM {t}")) for t in tables}

    async def site(self, *, manager: str = "manager1", sla_days: int | None = None,
                   kind: str = "maintenance", contract: bool = True) -> dict[str, Any]:
        """A client with a site (and a signed contract on it) known to field-ops."""
        client_id, site_id, contract_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        name = f"ООО «Поле {client_id.hex[:6]}»"
        await self.publish(c.ClientRegistered(client_id=client_id, name=name, inn=new_inn(),
                                              email="it@example.ru", manager=manager))
        await self.publish(c.SiteRegistered(
            site_id=site_id, client_id=client_id, name="Парковка ТЦ",
            address="г. Москва, Ленинградский пр-т, д. 10", access_points=2,
            contact_name="Иван Петров", contact_phone="+74951234567"))
        if contract:
            await self.publish(self.signed(client_id, name, contract_id, kind=kind,
                                           sla_days=sla_days, site_id=site_id))
        await self.wait_sql("SELECT count(*) FROM site_directory WHERE site_id = :s", s=site_id)
        if contract:
            await self.wait_sql("SELECT count(*) FROM contract_terms WHERE contract_id = :c",
                                c=contract_id)
        return {"client_id": str(client_id), "site_id": str(site_id),
                "contract_id": str(contract_id), "name": name}

    def signed(self, client_id: uuid.UUID, name: str, contract_id: uuid.UUID, *,
               kind: str = "subscription", sla_days: int | None = None,
               site_id: uuid.UUID | None = None, replaces_id: uuid.UUID | None = None
               ) -> c.ContractSigned:
        return c.ContractSigned(
            contract_id=contract_id, number=f"2026-{_rng.randrange(10000):04d}",
            client_id=client_id, client_name=name, client_inn=new_inn(), manager="manager1",
            kind=kind, status="active", signed_on="2026-11-20", starts_on="2026-12-01",
            monthly_fee="12500.00", site_id=site_id, emergency_sla_days=sla_days,
            replaces_id=replaces_id)

    async def wait_sql(self, sql: str, count: int = 1, within: float = 20, **params: Any
                       ) -> None:
        async def enough() -> bool:
            return int(await self.scalar(sql, **params)) >= count

        await eventually_async(enough, timeout=within, interval=0.1)

    async def technician(self, username: str = "tech1") -> None:
        await self.http.put(f"/api/technicians/{username}", json={
            "username": username, "full_name": f"Техник {username}", "phone": "+79161234567"},
            headers=self.dispatcher)

    async def order(self, site: dict[str, Any], kind: str = "repair", **extra: Any
                    ) -> dict[str, Any]:
        body = {"client_id": site["client_id"], "site_id": site["site_id"], "kind": kind,
                "description": "Терминал не включается", **extra}
        return dict((await self.post("/api/work-orders", body, expect=201)).json())

    async def approved(self, site: dict[str, Any], kind: str = "repair") -> dict[str, Any]:
        order = await self.order(site, kind)
        await self.post(f"/api/work-orders/{order['id']}/approve", as_=self.head, expect=200)
        return order

    def schedule_body(self, visit_on: str = "2026-11-30", technician: str = "tech1"
                      ) -> dict[str, Any]:
        return {"visit_on": visit_on, "window": "10:00-13:00", "technician": technician,
                "site_contact": {"name": "Иван Петров", "phone": "+7 495 123-45-67"}}

    async def scheduled(self, site: dict[str, Any], kind: str = "repair") -> dict[str, Any]:
        order = await self.approved(site, kind)
        await self.technician()
        await self.post(f"/api/work-orders/{order['id']}/schedule", self.schedule_body(),
                        expect=200)
        return order

    async def clock(self, at: datetime) -> dict[str, Any]:
        r = await self.post("/api/jobs/clock", {"at": at.isoformat()},
                            as_=self.auth("ops", "admin"), expect=200)
        return dict(r.json())


@pytest.fixture
async def field(servers: Servers) -> AsyncIterator[Field]:
    async with running_app(servers, "field_ops", jobs_enabled=False) as (app, http):
        connection = await aio_pika.connect(servers.amqp_url)
        engine = make_engine(database_url(servers.databases["field_ops"], servers.pg_dsn))
        try:
            channel = await connection.channel()
            yield Field(app, http, servers, channel, engine)
        finally:
            await connection.close()
            await engine.dispose()
