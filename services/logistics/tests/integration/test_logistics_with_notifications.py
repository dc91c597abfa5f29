"""Late originals through the real producers and consumers: contracts registers the client,
logistics learns it from the event, the daily control runs, and notifications makes exactly one
reminder for the client's manager and exactly one escalation for the head — and nothing for
originals returned on time. Low stock puts one task in the logistics queue."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from clientops_shared.testing import eventually_async, running_app

pytestmark = pytest.mark.integration


def fresh_inn() -> str:
    digits = [int(d) for d in f"77{uuid.uuid4().int % 10**7:07d}"]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


async def test_late_originals_make_one_reminder_and_one_escalation(servers: Any) -> None:
    manager = f"mgr-{uuid.uuid4().hex[:6]}"
    as_manager = servers.auth(manager, "manager")
    desk = servers.auth("logist1", "logistics")
    head = servers.auth("head", "head")
    async with (running_app(servers, "contracts") as (_, contracts),
                running_app(servers, "logistics", jobs_enabled=False) as (_, logistics),
                running_app(servers, "notifications", jobs_enabled=False) as (_, notes)):
        clients = []
        for name in ("ООО «Поздние оригиналы»", "ООО «Вовремя»"):
            r = await contracts.post("/api/clients", headers=as_manager, json={
                "name": name, "inn": fresh_inn(), "email": "office@example.ru",
                "manager": manager})
            assert r.status_code == 201, r.text
            clients.append(r.json()["id"])

        async def known() -> bool:
            r = await logistics.get("/api/clients", headers=desk, params={"limit": 500})
            return set(clients) <= {c["client_id"] for c in r.json()}
        await eventually_async(known, timeout=30)

        deliveries = []
        for client_id in clients:
            r = await logistics.post("/api/document-deliveries", headers=desk, json={
                "client_id": client_id, "originals_due_on": "2026-12-10",
                "documents": ["Договор № 5/2026"]})
            delivery = r.json()["id"]
            await logistics.post(f"/api/document-deliveries/{delivery}/handed", headers=desk,
                                 json={"courier": "Сидоров", "handed_on": "2026-12-01"})
            await logistics.post(f"/api/document-deliveries/{delivery}/delivered",
                                 headers=desk, json={"delivered_on": "2026-12-02"})
            deliveries.append(delivery)
        await logistics.post(f"/api/document-deliveries/{deliveries[1]}/returned",
                             headers=desk, json={"returned_on": "2026-12-09"})

        for on in ("2026-12-11", "2026-12-11", "2026-12-14", "2026-12-16", "2026-12-17"):
            r = await logistics.post("/api/jobs/originals-control", headers=desk,
                                     json={"on": on})
            assert r.status_code == 200, r.text

        async def work(client_id: str) -> list[dict[str, Any]]:
            r = await notes.get("/api/tasks", headers=head, params={"client_id": client_id})
            return list(r.json())

        async def both() -> list[dict[str, Any]]:
            found = await work(clients[0])
            kinds = sorted(t["kind"] for t in found)
            return found if kinds == ["escalation", "originals_reminder"] else []
        tasks = await eventually_async(both, timeout=30)
        reminder = next(t for t in tasks if t["kind"] == "originals_reminder")
        escalation = next(t for t in tasks if t["kind"] == "escalation")
        assert reminder["assignee"] == manager and escalation["assignee"] == "head"

        # everything logistics published has gone out and been handled: still one of each
        async def relayed() -> bool:
            r = await logistics.get("/api/admin/outbox", headers=servers.auth("ops", "admin"))
            return bool(r.json()["pending"] == 0)
        await eventually_async(relayed, timeout=30)
        r = await notes.get("/api/admin/dead-letters", headers=servers.auth("ops", "admin"))
        assert r.json() == []
        assert sorted(t["kind"] for t in await work(clients[0])) == ["escalation",
                                                                    "originals_reminder"]
        assert await work(clients[1]) == []

        # low stock: one task in the logistics queue, whatever else happens to the item
        r = await logistics.post("/api/items", headers=desk, json={
            "sku": f"LOW-{uuid.uuid4().hex[:6]}", "name": "Пульт ДУ", "kind": "part",
            "tracking": "count", "min_stock": 5})
        sku = r.json()["sku"]
        await logistics.post("/api/stock/receipts", headers=desk,
                             json={"item": sku, "quantity": 3})
        await logistics.post("/api/stock/receipts", headers=desk,
                             json={"item": sku, "quantity": 1})

        async def queued() -> list[dict[str, Any]]:
            r = await notes.get("/api/tasks", headers=head,
                                params={"kind": "low_stock", "q": sku})
            return list(r.json())
        (task,) = await eventually_async(queued, timeout=30)
        assert task["assignee"] == "queue:logistics" and sku in task["title"]
