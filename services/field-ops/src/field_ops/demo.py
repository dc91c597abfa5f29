"""Demo work orders for ``make run`` (called by ``clientops_shared.devtools seed-demo``).

Goes through field-ops' own HTTP API as the demo dispatcher and head, after contracts' demo
clients and sites have reached field-ops as events. Idempotent: skipped when tech1 already
has orders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx

from clientops_shared.jobs import business_today


def seed(url: str, login: Callable[[str], dict[str, str]], timeout: float = 60.0) -> None:
    api = f"{url}/api"
    dispatcher, head = login("dispatcher"), login("head")
    httpx.put(f"{api}/technicians/tech1", headers=dispatcher, json={
        "username": "tech1", "full_name": "Сергей Техников", "phone": "+79161234567",
    }).raise_for_status()
    deadline = time.monotonic() + timeout
    while not (sites := httpx.get(f"{api}/sites", headers=dispatcher).json()):
        if time.monotonic() > deadline:
            print("demo: field-ops has no sites yet; no work orders seeded")
            return
        time.sleep(1)
    if httpx.get(f"{api}/work-orders", headers=dispatcher,
                 params={"technician": "tech1"}).json():
        print("demo: work orders already there")
        return
    today = business_today(datetime.now(UTC))
    plan: list[tuple[str, str, date | None]] = [
        ("repair", "Терминал не принимает карты", today),
        ("reinforce", "Укрепить стойку шлагбаума", today + timedelta(days=1)),
        ("emergency", "Шлагбаум не открывается, очередь на въезде", today),
        ("repaint", "Покрасить стойку терминала", None),     # approved, date still open
        ("maintenance", "Плановое обслуживание турникетов", None),  # a draft for the head
    ]
    for n, (kind, description, visit_on) in enumerate(plan):
        site = sites[n % len(sites)]
        order = httpx.post(f"{api}/work-orders", headers=dispatcher, json={
            "client_id": str(site["client_id"]), "site_id": str(site["site_id"]),
            "kind": kind, "description": description}).raise_for_status().json()
        if kind == "maintenance":
            continue
        httpx.post(f"{api}/work-orders/{order['id']}/approve", headers=head).raise_for_status()
        if visit_on is not None:
            httpx.post(f"{api}/work-orders/{order['id']}/schedule", headers=dispatcher, json={
                "visit_on": visit_on.isoformat(), "window": "10:00-13:00", "technician": "tech1",
                "site_contact": {"name": "Иван Петров", "phone": "+74951234567"},
            }).raise_for_status()
    httpx.post(f"{api}/downtime", headers=dispatcher, json={
        "site_id": str(sites[0]["site_id"]), "source": "monitoring",
        "started_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "description": "Терминал не выходит на связь"}).raise_for_status()
    print(f"demo: {len(plan)} work orders and a downtime incident for the field desks")
