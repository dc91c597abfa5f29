"""The admin's dead-letter page in-process against stand-in services: each service's DLQ
with the error and x-death, replay and drop sent to that service with the reason, a service
whose broker is away said so, and nobody but the admin gets in."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .test_web_back_office import StandIns, web  # noqa: F401  (the fixture)
from .test_web_pages import csrf, log_in

pytestmark = pytest.mark.integration

PORTS = {8001: "contracts", 8002: "billing", 8003: "field_ops", 8004: "logistics",
         8005: "notifications"}
LETTER: dict[str, Any] = {
    "message_id": "6f1c2d1e-0000-4000-8000-000000000001",
    "event_type": "contracts.contract.signed", "queue": "billing.events",
    "dead_lettered_at": "2026-12-01T09:00:00+00:00", "reason": "rejected", "deliveries": 1,
    "first_failed_at": "2026-12-01T08:59:59+00:00", "last_failed_at": "2026-12-01T09:00:00+00:00",
    "error": "1 validation error for ContractSigned contract_id", "error_class": "ValidationError",
    "failures": 1, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "trace_url": "http://127.0.0.1:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
    "correlation_id": None, "producer": "contracts", "headers": {"traceparent": "00-4b…"},
    "death": [{"queue": "billing.events", "reason": "rejected", "count": 1}],
    "body": {"type": "contracts.contract.signed"}}


def by_service(seen: list[httpx.Request], service: str, method: str) -> list[httpx.Request]:
    return [r for r in seen if PORTS.get(r.url.port or 0) == service and r.method == method]


async def test_the_admin_sees_each_services_dead_letters_and_replays_or_drops_with_a_reason(
        web: tuple[httpx.AsyncClient, StandIns]) -> None:  # noqa: F811
    client, services = web
    posted: list[tuple[str, str, Any]] = []

    def dead_letters(request: httpx.Request) -> httpx.Response:
        service = PORTS.get(request.url.port or 0)
        if service == "billing":
            return httpx.Response(200, json=[LETTER])
        if service == "notifications":
            return httpx.Response(503, json={"title": "Broker unavailable", "status": 503,
                                             "detail": "cannot reach the broker: OSError"})
        return httpx.Response(200, json=[])

    def act(action: str) -> Any:
        def handler(request: httpx.Request) -> httpx.Response:
            posted.append((PORTS[request.url.port or 0], action, json.loads(request.content)))
            return httpx.Response(200, json={"count": 1})
        return handler

    services.on("GET", "/api/admin/dead-letters", dead_letters)
    services.on("POST", "/api/admin/dead-letters/replay", act("replay"))
    services.on("POST", "/api/admin/dead-letters/drop", act("drop"))

    await log_in(client, "head")
    assert (await client.get("/admin/dead-letters")).status_code == 403
    await client.post("/logout", data={})
    client.cookies.clear()
    await log_in(client, "admin")
    page = await client.get("/admin/dead-letters")
    assert page.status_code == 200
    html = page.text
    assert "Недоставленные события" in html
    assert html.count('data-message="6f1c2d1e-0000-4000-8000-000000000001"') == 1
    assert "<strong>ValidationError</strong>: 1 validation error for ContractSigned" in html
    assert "01.12.2026 12:00" in html  # the last failure in Moscow time
    assert "отклонено обработчиком" in html
    assert LETTER["trace_url"] in html
    assert '"queue": "billing.events"' in html  # x-death as JSON
    assert "Брокер сообщений недоступен: cannot reach the broker" in html
    assert html.count("Очередь пуста.") == 3

    token = csrf(html)
    r = await client.post("/admin/dead-letters/billing/replay", data={
        "csrf_token": token, "message_id": LETTER["message_id"], "reason": "ок"})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    assert posted == []  # no reason, nothing sent
    r = await client.post("/admin/dead-letters/billing/replay", data={
        "csrf_token": token, "message_id": LETTER["message_id"],
        "reason": "исправлен обработчик"})
    assert r.status_code == 303
    r = await client.post("/admin/dead-letters/billing/drop", data={
        "csrf_token": token, "message_id": LETTER["message_id"], "reason": "тестовое событие"})
    assert r.status_code == 303
    assert posted == [
        ("billing", "replay", {"reason": "исправлен обработчик", "limit": 1,
                               "message_ids": [LETTER["message_id"]]}),
        ("billing", "drop", {"reason": "тестовое событие", "limit": 1,
                             "message_ids": [LETTER["message_id"]]})]
    done = await client.get(r.headers["location"])
    assert "Биллинг: удалено — 1." in done.text
    # only billing's page when asked for, filtered by type
    filtered = await client.get("/admin/dead-letters", params={
        "service": "billing", "type": "contracts.contract.signed"})
    assert 'data-testid="all-of-type"' in filtered.text
    assert filtered.text.count("<section") == 1
    last = by_service(services.seen, "billing", "GET")[-1]
    assert last.url.params["type"] == "contracts.contract.signed"
    # a filtered set: every dead letter of that type in billing, at most 100
    r = await client.post("/admin/dead-letters/billing/replay", data={
        "csrf_token": token, "type": "contracts.contract.signed",
        "back_type": "contracts.contract.signed", "reason": "исправлен контракт"})
    assert r.status_code == 303 and "type=contracts.contract.signed" in r.headers["location"]
    assert posted[-1] == ("billing", "replay", {"reason": "исправлен контракт", "limit": 100,
                                                "type": "contracts.contract.signed"})
