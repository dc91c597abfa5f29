"""One trace from the HTTP request in contracts through the outbox to billing and notifications."""

from __future__ import annotations

import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientops_shared.testing import Servers, eventually_async, running_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    return span_exporter


async def test_signing_trace_contains_consumer_spans_of_billing_and_notifications(
    servers: Servers, spans: InMemorySpanExporter
) -> None:
    manager = servers.auth("manager2", "manager")
    async with (running_app(servers, "contracts") as (_, contracts),
                running_app(servers, "billing") as (_, billing),
                running_app(servers, "notifications") as (_, notifications)):
        r = await contracts.post("/api/clients", headers=manager, json={
            "name": "АО Трасса", "inn": "7712040126", "email": "it@trassa.ru"})
        client_id = r.json()["id"]
        r = await contracts.post("/api/contracts", headers=manager, json={
            "client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
            "monthly_fee": "9900.00", "auto_renew": False, "standard": True})
        contract_id = r.json()["id"]
        spans.clear()
        r = await contracts.post(f"/api/contracts/{contract_id}/sign", headers=manager,
                                 json={"signed_on": "2026-12-01"})
        assert r.status_code == 200

        async def both_consumed() -> bool:
            subs = await billing.get("/api/subscriptions", headers=manager,
                                     params={"contract_id": contract_id})
            tasks = await notifications.get("/api/tasks", headers=manager,
                                            params={"client_id": client_id})
            return bool(subs.json()) and any(t["kind"] == "welcome_call" for t in tasks.json())
        await eventually_async(both_consumed)

    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.kind == trace.SpanKind.SERVER
                   and s.name.startswith("POST /api/contracts/{contract_id}/sign"))
    trace_id = request.context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert "contracts.contract.signed publish" in names
    consumers = {(s.attributes or {}).get("clientops.consumer"): s for s in in_trace
                 if s.kind == trace.SpanKind.CONSUMER
                 and s.name.endswith("contracts.contract.signed process")}
    assert {"billing", "notifications"} <= set(consumers), consumers
    # the database work the consumers did is part of the same trace
    assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in in_trace
               if s.start_time > request.end_time), "consumer DB spans missing from the trace"
    assert uuid.UUID(contract_id)
