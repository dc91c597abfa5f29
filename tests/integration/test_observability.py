"""What an on-call follows, through real PostgreSQL and RabbitMQ with the services in-process:
a client-card page is one trace across the services web calls; one signing's access and
event log lines (as the JSON formatter writes them) carry one trace id; a 5xx problem carries
the trace id and the correlation id; idle services (relay polls, pool connects) make no spans;
per-route and per-event metrics."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientops_shared.events import Envelope
from clientops_shared.logs import formatter
from clientops_shared.testing import (
    Servers,
    eventually_async,
    free_port,
    random_inn,
    running_app,
)

pytestmark = pytest.mark.integration

MANAGER = ("manager1", "manager")


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """An in-process app (lifespan already running) on a real port, so httpx calls to it go
    through the instrumented HTTP transport like calls between deployed services."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)
    await eventually_async(started, timeout=10, interval=0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def json_lines(*loggers: str) -> Iterator[io.StringIO]:
    """The lines these loggers write, through the services' own JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("test"))
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)


async def _client_and_contract(contracts: Any, servers: Servers, inn: str, name: str
                               ) -> tuple[str, str]:
    manager = servers.auth(*MANAGER)
    r = await contracts.post("/api/clients", headers=manager, json={
        "name": name, "inn": inn, "email": "it@example.ru"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    r = await contracts.post("/api/contracts", headers=manager, json={
        "client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
        "monthly_fee": "9900.00", "auto_renew": False, "standard": True})
    assert r.status_code == 201, r.text
    return client_id, r.json()["id"]


async def test_a_client_card_render_is_one_trace_across_the_services_it_calls(
    servers: Servers, span_exporter: InMemorySpanExporter
) -> None:
    async with (running_app(servers, "contracts") as (contracts_app, contracts),
                running_app(servers, "billing") as (billing_app, _),
                running_app(servers, "notifications") as (notifications_app, _),
                served(contracts_app) as contracts_url, served(billing_app) as billing_url,
                served(notifications_app) as notifications_url):
        client_id, _ = await _client_and_contract(contracts, servers, "7728168971",
                                                  "АО Одна трасса")
        upstreams = {"contracts": contracts_url, "billing": billing_url,
                     "notifications": notifications_url, "field_ops": "http://127.0.0.1:1",
                     "logistics": "http://127.0.0.1:1"}
        async with running_app(servers, "web", seed_demo_users=True, cookie_secure=False,
                               upstreams=upstreams) as (_, web):
            await log_in(web)
            span_exporter.clear()
            card = await web.get(f"/clients/{client_id}")
            assert card.status_code == 200 and "АО Одна трасса" in card.text

    assert_the_card_render_is_one_trace(span_exporter)


def assert_the_card_render_is_one_trace(span_exporter: InMemorySpanExporter) -> None:
    finished = span_exporter.get_finished_spans()
    page_span = next(s for s in finished if s.kind == trace.SpanKind.SERVER
                     and s.name.startswith("GET /clients/{client_id}"))
    trace_id = page_span.context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    served_routes = {s.name for s in in_trace if s.kind == trace.SpanKind.SERVER}
    # each service the card calls answered inside the page's trace
    for route in ("GET /api/clients/{client_id}", "GET /api/contracts", "GET /api/invoices",
                  "GET /api/subscriptions", "GET /api/tasks",
                  "GET /api/clients/{client_id}/timeline"):
        assert any(name.startswith(route) for name in served_routes), (route, served_routes)
    calls = [s for s in in_trace if s.kind == trace.SpanKind.CLIENT
             and (s.attributes or {}).get("http.request.method", (s.attributes or {}).get(
                 "http.method"))]
    assert len(calls) >= 8, "web's calls to the services are client spans of the same trace"
    # and the render started no other trace: every server span of the render is in this one
    during = [s for s in finished if s.kind == trace.SpanKind.SERVER
              and s.start_time >= page_span.start_time and s.end_time <= page_span.end_time]
    assert {s.context.trace_id for s in during} == {trace_id}


async def log_in(web: Any, username: str = "manager1") -> None:
    page = await web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = await web.post("/login", data={"username": username, "password": f"{username}-demo",
                                       "next": "/", "csrf_token": token.group(1)})
    assert r.status_code == 303


class CuttableBroker:
    """A TCP proxy in front of RabbitMQ: ``cut`` drops every connection through it and
    refuses new ones (to the services, the broker is down); ``restore`` lets them in again."""

    def __init__(self, amqp_url: str) -> None:
        parts = urlsplit(amqp_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5672)
        self.port = free_port()
        self.url = urlunsplit(parts._replace(
            netloc=f"{parts.username}:{parts.password}@127.0.0.1:{self.port}"))
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port,
                                                 reuse_address=True)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        self.server = None

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                       ) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sink.transport.abort()
                self.writers.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


SERVICES_OF_THE_CARD = ("contracts", "billing", "notifications", "field_ops", "logistics")


async def test_broker_down_every_service_stays_ready_degraded_and_a_card_is_one_trace(
    private_broker: Servers, span_exporter: InMemorySpanExporter
) -> None:
    """RabbitMQ away: /health/ready of web and of every API answers 200 with the broker
    marked degraded (and clientops_broker_up 0), writes still work (into the outbox), a
    client card renders as one trace across the services it calls; the broker back, they
    reconnect by themselves and publish what waited."""
    broker = CuttableBroker(private_broker.amqp_url)
    await broker.restore()
    servers = replace(private_broker, amqp_url=broker.url)
    manager = servers.auth(*MANAGER)
    async with contextlib.AsyncExitStack() as stack:
        apps: dict[str, Any] = {}  # name -> its HTTP client
        services: dict[str, Any] = {}  # name -> the app
        upstreams: dict[str, str] = {}
        for name in SERVICES_OF_THE_CARD:
            services[name], apps[name] = await stack.enter_async_context(
                running_app(servers, name, queue_watch_seconds=0.5))
            upstreams[name] = await stack.enter_async_context(served(services[name]))
        services["web"], apps["web"] = await stack.enter_async_context(running_app(
            servers, "web", seed_demo_users=True, cookie_secure=False, upstreams=upstreams,
            queue_watch_seconds=0.5))
        contracts = apps["contracts"]
        client_id, _ = await _client_and_contract(contracts, servers, random_inn(),
                                                  "АО Брокер в отпуске")
        await log_in(apps["web"])

        await broker.cut()
        try:
            for name, client in apps.items():
                # the metric says so by itself, before any probe asks
                line = f'clientops_broker_up{{service="{services[name].state.runtime.service}"}}'

                async def metric_down(client: Any = client, line: str = line) -> bool:
                    return f"{line} 0.0" in (await client.get("/metrics")).text
                await eventually_async(metric_down, timeout=30)
                r = await client.get("/health/ready")
                assert r.status_code == 200, (name, r.text)
                body = r.json()
                assert (body["status"], body["database"]) == ("degraded", "ok"), (name, body)
                assert body["broker"].startswith("degraded"), (name, body)
            # a write still works: its event waits in the outbox
            r = await contracts.post("/api/clients", headers=manager, json={
                "name": "ООО Пока без брокера", "inn": random_inn(), "email": "a@example.ru"})
            assert r.status_code == 201, r.text
            outbox = (await contracts.get("/api/admin/outbox",
                                          headers=servers.auth("admin", "admin"))).json()
            assert outbox["pending"] >= 1

            span_exporter.clear()
            card = await apps["web"].get(f"/clients/{client_id}")
            assert card.status_code == 200 and "АО Брокер в отпуске" in card.text
            assert_the_card_render_is_one_trace(span_exporter)
        finally:
            await broker.restore()

        async def reconnected() -> bool:
            for name, client in apps.items():
                if (await client.get("/health/ready")).json()["broker"] != "ok":
                    return False
                service = services[name].state.runtime.service
                if f'clientops_broker_up{{service="{service}"}} 1.0' not in (
                        await client.get("/metrics")).text:
                    return False
            return True
        await eventually_async(reconnected, timeout=60, interval=0.5)

        async def published() -> bool:
            r = await contracts.get("/api/admin/outbox", headers=servers.auth("admin", "admin"))
            return r.json()["pending"] == 0
        await eventually_async(published, timeout=60, interval=0.5)


async def test_one_signings_access_and_event_lines_carry_one_trace_id_and_metrics_count_them(
    servers: Servers, span_exporter: InMemorySpanExporter
) -> None:
    manager = servers.auth(*MANAGER)
    correlation = "sign-7704211201"
    async with (running_app(servers, "contracts") as (_, contracts),
                running_app(servers, "billing") as (_, billing),
                running_app(servers, "notifications") as (_, notifications)):
        client_id, contract_id = await _client_and_contract(contracts, servers, "7704211201",
                                                            "ООО Журнал")
        with json_lines("clientops.access", "clientops.consumer") as stream:
            r = await contracts.post(f"/api/contracts/{contract_id}/sign", headers={
                **manager, "x-correlation-id": correlation}, json={"signed_on": "2026-12-01"})
            assert r.status_code == 200
            assert r.headers["x-correlation-id"] == correlation

            async def consumed() -> bool:
                subs = await billing.get("/api/subscriptions", headers=manager,
                                         params={"contract_id": contract_id})
                tasks = await notifications.get("/api/tasks", headers=manager,
                                                params={"client_id": client_id})
                return bool(subs.json()) and any(t["kind"] == "welcome_call"
                                                 for t in tasks.json())
            await eventually_async(consumed)
            await asyncio.sleep(0.5)  # the events the consumers emitted in turn
        metrics = {name: (await app.get("/metrics")).text
                   for name, app in (("contracts", contracts), ("billing", billing))}

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    signing = [x for x in lines if x.get("correlation_id") == correlation]
    access = [x for x in signing if x["logger"] == "clientops.access"]
    events = [x for x in signing if x["logger"] == "clientops.consumer"]
    assert len(access) == 1
    assert access[0]["route"] == "/api/contracts/{contract_id}/sign"
    assert access[0]["status"] == 200 and access[0]["method"] == "POST"
    assert access[0]["duration_ms"] >= 0
    signed = [x for x in events if x["event_type"] == "contracts.contract.signed"]
    assert len(signed) >= 2, "billing and notifications each log the signed event"
    assert {x["outcome"] for x in signed} == {"ok"}
    assert all(x["event_id"] and "duration_ms" in x for x in events)
    # every line of the signing carries one and the same trace id
    assert {x.get("trace_id") for x in signing} == {access[0]["trace_id"]}
    assert re.fullmatch(r"[0-9a-f]{32}", access[0]["trace_id"])
    # the metrics behind those lines: per route, per event type
    assert re.search(r'clientops_http_request_duration_seconds_count\{method="POST",'
                     r'route="/api/contracts/\{contract_id\}/sign",service="contracts",'
                     r'status="200"\} [1-9]', metrics["contracts"])
    assert re.search(r'clientops_consumer_handling_seconds_count\{'
                     r'event_type="contracts.contract.signed",outcome="ok",service="billing"\}'
                     r' [1-9]', metrics["billing"])


async def test_a_consumer_failure_line_carries_the_trace_id_message_id_and_event_type(
    private_broker: Servers,
) -> None:
    """A poison event (its payload breaks the contract) handled by billing: the failure's
    JSON line names the event type, its id, the producer's trace id and the error."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    envelope = Envelope(type="contracts.contract.signed", version=1, producer="contracts",
                        payload={"contract_id": "not-a-uuid"})
    async with running_app(private_broker, "billing", jobs_enabled=False):
        with json_lines("clientops.consumer", "clientops.messaging") as stream:
            connection = await aio_pika.connect(private_broker.amqp_url)
            async with connection:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await channel.get_exchange("clientops.events")
                await exchange.publish(aio_pika.Message(
                    envelope.model_dump_json().encode(), content_type="application/json",
                    message_id=str(envelope.event_id), type=envelope.type,
                    headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}),
                    routing_key=envelope.type)

            async def failure_logged() -> list[dict[str, Any]]:
                lines = [json.loads(x) for x in stream.getvalue().splitlines()]
                return [x for x in lines if x["logger"] == "clientops.consumer"
                        and x.get("event_id") == str(envelope.event_id)]
            (line,) = await eventually_async(failure_logged, timeout=30)
    assert line["level"] == "error"
    assert line["event_type"] == "contracts.contract.signed"
    assert line["outcome"] == "dead_lettered"
    assert line["trace_id"] == trace_id
    assert line["error_class"] == "PermanentFailure" and "contract_id" in line["error"]


async def test_a_5xx_problem_carries_the_trace_id_and_the_correlation_id(
    servers: Servers, span_exporter: InMemorySpanExporter
) -> None:
    async with running_app(servers, "contracts") as (app, contracts):
        async def boom() -> None:
            raise RuntimeError("the database said no")
        app.add_api_route("/api/test-boom", boom)
        r = await contracts.get("/api/test-boom", headers={"x-correlation-id": "boom-1"})
        assert r.status_code == 500
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["x-correlation-id"] == "boom-1"
        body = r.json()
        assert re.fullmatch(r"[0-9a-f]{32}", body["trace_id"])
        server = [s for s in span_exporter.get_finished_spans()
                  if s.kind == trace.SpanKind.SERVER and s.name.startswith("GET /api/test-boom")]
        assert format(server[-1].context.trace_id, "032x") == body["trace_id"]
        # no correlation id sent: the one made up is answered even on an error
        r = await contracts.get("/api/test-boom")
        assert r.status_code == 500 and len(r.headers["x-correlation-id"]) == 36


async def test_idle_services_start_no_traces(
    servers: Servers, span_exporter: InMemorySpanExporter
) -> None:
    async with running_app(servers, "contracts", outbox_poll_seconds=0.05):
        span_exporter.clear()
        await asyncio.sleep(1.5)  # ~30 empty relay polls, pool connects, queue checks
        idle = span_exporter.get_finished_spans()
    assert idle == (), [s.name for s in idle]


@pytest.mark.parametrize("service, lines", [
    ("billing", (r'clientops_payments\{service="billing",status="unmatched"\} ',
                 r'clientops_invoices_issued\{period="\d{4}-\d{2}",service="billing"\} ',
                 r'clientops_invoice_run_failed_periods\{service="billing"\} ')),
    ("notifications", (r'clientops_tasks_overdue\{service="notifications"\} ',
                       r'clientops_mail_deliveries\{service="notifications",state="pending"\} ',
                       r'clientops_mail_deliveries\{service="notifications",state="sending"\} ')),
])
async def test_business_gauges_come_from_the_services_database(
    servers: Servers, service: str, lines: tuple[str, ...]
) -> None:
    async with running_app(servers, service) as (app, client):
        job = next(j for j in app.state.runtime.periodic if j.name == "business-metrics")
        await job.run()
        text = (await client.get("/metrics")).text
    for line in lines:
        assert re.search(line + r"\d", text), line
