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
from typing import Any

import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientops_shared.logs import formatter
from clientops_shared.testing import Servers, eventually_async, free_port, running_app

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
            page = await web.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            r = await web.post("/login", data={"username": "manager1",
                                               "password": "manager1-demo", "next": "/",
                                               "csrf_token": token.group(1)})
            assert r.status_code == 303
            span_exporter.clear()
            card = await web.get(f"/clients/{client_id}")
            assert card.status_code == 200 and "АО Одна трасса" in card.text

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
