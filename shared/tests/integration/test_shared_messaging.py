"""Outbox, inbox, dead-lettering and bad input, through real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.events import Envelope, Event
from clientops_shared.events import contracts as c
from clientops_shared.settings import database_url
from clientops_shared.testing import (
    NoDatabaseUnitOfWork,
    Servers,
    eventually_async,
    running_app,
)

pytestmark = pytest.mark.integration

MANAGER = ("manager1", "manager")


async def _count(servers: Servers, service: str, sql: str, **params: Any) -> int:
    engine = make_engine(database_url(servers.databases[service], servers.pg_dsn))
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(sql), params)).scalar_one())
    finally:
        await engine.dispose()


async def _new_client_and_contract(client: Any, servers: Servers, inn: str) -> tuple[str, str]:
    headers = servers.auth(*MANAGER)
    r = await client.post("/api/clients", headers=headers, json={
        "name": f"ООО Тест {inn}", "inn": inn, "email": "buh@example.ru"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    r = await client.post("/api/contracts", headers=headers, json={
        "client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
        "monthly_fee": "12500.00", "auto_renew": True, "standard": True})
    assert r.status_code == 201, r.text
    return client_id, r.json()["id"]


@pytest.fixture
async def probe_queue(servers: Servers) -> Any:
    """A private queue bound to contract signings, declared after the shared topology."""
    connection = await aio_pika.connect(servers.amqp_url)
    channel = await connection.channel()
    await messaging.declare_topology(servers.amqp_url, 5)
    queue = await channel.declare_queue(f"probe-{uuid.uuid4().hex[:6]}", exclusive=True)
    await queue.bind(messaging.EXCHANGE, routing_key="contracts.contract.signed")
    yield queue
    await connection.close()


async def test_signing_succeeds_with_broker_down_and_event_is_delivered_when_it_is_back(
    servers: Servers, probe_queue: Any
) -> None:
    # the relay starts pointed at a closed port: the broker is "down"
    async with running_app(servers, "contracts") as (app, client):
        runtime = app.state.runtime
        runtime.relay.amqp_url = "amqp://guest:guest@127.0.0.1:1/"
        await runtime.relay.close()
        _, contract_id = await _new_client_and_contract(client, servers, "7736207543")
        r = await client.post(f"/api/contracts/{contract_id}/sign",
                              headers=servers.auth(*MANAGER), json={"signed_on": "2026-12-01"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "active"

        async def failed_attempt() -> bool:
            return await _count(servers, "contracts",
                                "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL "
                                "AND attempts > 0 AND body->'payload'->>'contract_id' = :cid",
                                cid=contract_id) == 1
        await eventually_async(failed_attempt, timeout=15)

        # the broker "comes back": the same relay now reaches it and delivers the event
        runtime.relay.amqp_url = servers.amqp_url
        await runtime.relay.close()
        runtime.relay.wake()

        async def delivered() -> dict[str, Any] | None:
            message = await probe_queue.get(fail=False, timeout=1)
            if message is None:
                return None
            await message.ack()
            body = json.loads(message.body)
            return body if body["payload"]["contract_id"] == contract_id else None
        body = await eventually_async(delivered, timeout=30)
        assert body["type"] == "contracts.contract.signed"
        assert body["payload"]["monthly_fee"] == "12500.00"
        assert await _count(servers, "contracts",
                            "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL") == 0


async def _publish(servers: Servers, envelope: Envelope) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        await exchange.publish(aio_pika.Message(
            envelope.model_dump_json().encode(), content_type="application/json",
            message_id=str(envelope.event_id), type=envelope.type), routing_key=envelope.type)


async def test_same_event_twice_creates_one_subscription_and_one_task(servers: Servers) -> None:
    contract_id, client_id = uuid.uuid4(), uuid.uuid4()
    event = c.ContractSigned(
        contract_id=contract_id, number="2026-9001", client_id=client_id,
        client_name="ООО Дубль", client_inn="7740000076", manager="manager1",
        kind="subscription", status="active", signed_on="2026-12-01", starts_on="2026-12-01",
        monthly_fee="12500.00")
    envelope = Envelope.wrap(event, "contracts")
    async with running_app(servers, "billing"), running_app(servers, "notifications"):
        await _publish(servers, envelope)
        await _publish(servers, envelope)

        async def processed() -> bool:
            seen = [await _count(servers, service,
                                 "SELECT count(*) FROM inbox_message WHERE event_id = :e",
                                 e=envelope.event_id) for service in ("billing", "notifications")]
            return seen == [1, 1]
        await eventually_async(processed)
        await asyncio.sleep(1.0)  # give the duplicate every chance to be (wrongly) applied
        assert await _count(servers, "billing",
                            "SELECT count(*) FROM subscription WHERE contract_id = :c",
                            c=contract_id) == 1
        assert await _count(servers, "billing",
                            "SELECT count(*) FROM outbox_message WHERE routing_key = "
                            "'billing.subscription.opened' AND body->'payload'->>'contract_id' "
                            "= :c", c=str(contract_id)) == 1
        assert await _count(servers, "notifications",
                            "SELECT count(*) FROM task WHERE kind = 'welcome_call' "
                            "AND client_id = :c", c=str(client_id)) == 1


class ProbeFailed(Event):
    TYPE = "test.probe.failed"
    n: int


class ProbeVersioned(Event):
    TYPE = "test.probe.versioned"
    n: int


async def test_failing_handler_ends_in_dead_letter_queue_after_delivery_limit(
    servers: Servers,
) -> None:
    from clientops_shared.messaging import EventHandlers

    service = f"probe{uuid.uuid4().hex[:6]}"
    calls: list[int] = []
    handlers: EventHandlers[Any] = EventHandlers(service)

    @handlers.on(ProbeFailed)
    async def always_fails(event: ProbeFailed, envelope: Envelope, uow: Any) -> None:
        calls.append(event.n)
        raise RuntimeError("this handler always fails")

    @handlers.on(ProbeVersioned)
    async def knows_v1_only(event: ProbeVersioned, envelope: Envelope, uow: Any) -> None:
        calls.append(-1)

    limit = 3
    broker = messaging.make_broker(servers.amqp_url)
    messaging.subscribe(broker, handlers, NoDatabaseUnitOfWork, limit)  # type: ignore[arg-type]
    original_claim = messaging.inbox.claim

    async def claim(*args: Any, **kwargs: Any) -> bool:
        return True
    messaging.inbox.claim = claim  # type: ignore[assignment]
    try:
        await messaging.declare_topology(servers.amqp_url, limit, consumers={
            service: ("test.probe.#",)})
        await broker.start()
        await _publish(servers, Envelope.wrap(ProbeFailed(n=1), "test"))
        # a version this consumer does not know goes straight to the dead-letter queue
        await _publish(servers, Envelope.wrap(ProbeVersioned(n=2), "test").model_copy(
            update={"version": 2}))

        async def dead_lettered() -> bool:
            q = await channel.declare_queue(messaging.dlq_name(service), passive=True)
            return q.declaration_result.message_count == 2
        connection = await aio_pika.connect(servers.amqp_url)
        async with connection:
            channel = await connection.channel()
            await eventually_async(dead_lettered, timeout=30)
        before = len(calls)
        await asyncio.sleep(1.5)
        assert len(calls) == before, "the message kept coming back after dead-lettering"
        # delivered once and then redelivered up to the limit; never endlessly
        assert -1 not in calls, "an unknown version must not reach the v1 handler"
        assert limit <= len(calls) <= limit + 1
    finally:
        messaging.inbox.claim = original_claim  # type: ignore[assignment]
        await broker.stop()


@pytest.mark.parametrize("body, fields", [
    ({}, {"client_id", "kind", "starts_on", "monthly_fee"}),
    ({"kind": "lease", "monthly_fee": "-5.00", "starts_on": "2026-13-01"},
     {"kind", "monthly_fee", "starts_on", "client_id"}),
    ({"monthly_fee": "100.005", "client_id": "not-a-uuid", "kind": "rent",
      "starts_on": "2026-12-01"}, {"monthly_fee", "client_id"}),
    ({"monthly_fee": 12500.5, "client_id": str(uuid.uuid4()), "kind": "rent",
      "starts_on": "2026-12-01"}, {"monthly_fee"}),
])
async def test_bad_contract_input_is_422_problem_naming_fields_and_writes_nothing(
    servers: Servers, body: dict[str, Any], fields: set[str]
) -> None:
    async with running_app(servers, "contracts") as (_, client):
        before = await _count(servers, "contracts", "SELECT count(*) FROM contract")
        outbox_before = await _count(servers, "contracts", "SELECT count(*) FROM outbox_message")
        r = await client.post("/api/contracts", headers=servers.auth(*MANAGER), json=body)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 422
        assert {e["field"] for e in problem["errors"]} == fields
        assert await _count(servers, "contracts", "SELECT count(*) FROM contract") == before
        assert await _count(servers, "contracts",
                            "SELECT count(*) FROM outbox_message") == outbox_before


async def test_bad_client_input_names_the_field(servers: Servers) -> None:
    async with running_app(servers, "contracts") as (_, client):
        r = await client.post("/api/clients", headers=servers.auth(*MANAGER), json={
            "name": "ООО Ошибка", "inn": "7707083894", "email": "not-an-email"})
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"inn", "email"}
        r = await client.post("/api/clients", json={"name": "x"})
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("service", ["contracts", "billing", "notifications", "web",
                                     "field_ops", "logistics"])
async def test_openapi_and_operator_routes(servers: Servers, service: str) -> None:
    async with running_app(servers, service) as (_, client):
        assert (await client.get("/openapi.json")).status_code == 200
        admin = servers.auth("admin", "admin")
        r = await client.get("/api/admin/outbox", headers=admin)
        assert r.status_code == 200 and set(r.json()) == {"pending", "failing"}
        assert (await client.get("/api/admin/audit", headers=admin)).status_code == 200
        assert (await client.get("/api/admin/dead-letters", headers=admin)).status_code == 200
        manager = servers.auth("manager1", "manager")
        assert (await client.get("/api/admin/outbox", headers=manager)).status_code == 403
        metrics = (await client.get("/metrics")).text
        assert "clientops_outbox_pending" in metrics
        if service != "web":

            async def lag_reported() -> bool:
                text = (await client.get("/metrics")).text
                return f'clientops_consumer_lag_messages{{service="{service}"}}' in text
            await eventually_async(lag_reported, timeout=10)
