"""Secrets never leave through logs, traces, events, audit rows or error bodies.

Test secrets (passwords, the JWT secret, a PlanFact API key) go through log-in, failed log-ins,
bad input, a password change and a failing outside call; then every captured log record, span
(name, attributes, events), outbox event, audit row and response body is searched for them.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientops_shared.testing import Servers, running_app

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def span_text(exporter: InMemorySpanExporter) -> str:
    parts = []
    for span in exporter.get_finished_spans():
        parts.append(span.name)
        parts.append(json.dumps(dict(span.attributes or {}), default=str))
        for event in span.events:
            parts.append(event.name + json.dumps(dict(event.attributes or {}), default=str))
    return "\n".join(parts)


async def test_no_secret_in_logs_spans_events_audit_or_bodies(
        servers_of_its_own: Servers, spans: InMemorySpanExporter,
        caplog: pytest.LogCaptureFixture) -> None:
    from web.service_layer import handlers

    # databases of its own: the sweep reads every outbox and audit row there is, and what
    # other tests left must decide neither what it reads nor how long that takes
    servers = servers_of_its_own

    caplog.set_level(logging.DEBUG)
    password = f"Пароль-{uuid.uuid4().hex}"
    new_password = f"Новый-{uuid.uuid4().hex}"
    api_key = f"pf-key-{uuid.uuid4().hex}"
    secrets = [password, new_password, api_key, servers.jwt_secret]
    bodies: list[str] = []

    async with running_app(servers, "web") as (web_app, web):
        username = f"s{uuid.uuid4().hex[:8]}"
        async with web_app.state.runtime.uow() as uow:
            await handlers.create_user(uow, username, "manager", "Секрет", password)
        for data in ({"username": username, "password": password},
                     {"username": username, "password": password + "x"},
                     {"username": "nobody-" + username, "password": password},
                     {"username": username, "password": password + "\x00"}):
            bodies.append((await web.post("/api/auth/token", data=data)).text)
        for raw in (json.dumps({"username": username, "password": password * 10}),
                    json.dumps({"username": [password], "password": password}),
                    '{"username": "' + username + '", "password": "' + password + '"'):
            bodies.append((await web.post("/api/auth/token", content=raw, headers={
                "content-type": "application/json"})).text)
        bad_token = "Bearer " + api_key + ".x.y"  # a header is ASCII
        bodies.append((await web.get("/api/auth/me", headers={"Authorization": bad_token})).text)
        async with web_app.state.runtime.uow() as uow:
            await handlers.update_user(uow, username, role="manager", full_name="Секрет",
                                       active=True, password=new_password)
        runtime = web_app.state.runtime
        async with runtime.engine.connect() as conn:
            stored = [json.dumps(dict(r), default=str) for r in (await conn.execute(
                sa.select(runtime.tables.outbox.c.body, runtime.tables.outbox.c.headers)
            )).mappings()]
            stored += [json.dumps(dict(r), default=str) for r in (await conn.execute(
                sa.select(runtime.tables.audit))).mappings()]

    # the periodic jobs stay off: on or after the 15th billing's scheduled run would bill
    # every contract in the database while the test waits, and none of them is its subject
    async with running_app(servers, "billing", planfact_url="http://127.0.0.1:9",
                           planfact_api_key=api_key, jobs_enabled=False) as (_, billing):
        accountant = servers.auth("acc", "accountant")
        # a payable of its own, so that the failing PlanFact call (with the key) surely happens
        r = await billing.post("/api/payables", headers=accountant, json={
            "supplier_name": "ООО Шлагбаумы Оптом", "supplier_inn": "7702070139",
            "number": f"S-{uuid.uuid4().hex[:6]}", "issued_on": "2026-11-20",
            "amount": "12000.00", "vat": "2000.00", "category": "equipment",
            "description": "Шлагбаум, 2 шт."})
        assert r.status_code == 201, r.text
        assert r.json()["planfact_state"] == "failed", r.text  # the call was made, and failed
        bodies.append(r.text)
        r = await billing.post("/api/payables/planfact-sync", json={}, headers=accountant)
        bodies.append(r.text)

    assert any(username in line for line in stored)  # the event and audit rows were written
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {getattr(r, '__dict__', '')}"
                     for r in caplog.records)
    assert logs and span_text(spans)  # something was captured to search
    for secret in secrets:
        for where, text in (("logs", logs), ("spans", span_text(spans)),
                            ("events and audit", "\n".join(stored)),
                            ("response bodies", "\n".join(bodies))):
            assert secret not in text, f"a secret leaked into {where}"
