"""Paginated lists: the first page at a big size against the same page at a small size.

Each list is read through its service's real route (in process, over ASGI: auth, the view,
the capped total, the keyset cursor), one request at a time, alternating big and small:
``GET contracts /api/clients`` (1k vs 100k clients), ``GET notifications /api/my/tasks`` for
one person (1k vs 50k open tasks), ``GET notifications /api/clients/{id}/timeline`` (100 vs
5k events of one client, newest first) and ``GET billing /api/invoices`` (1k vs 100k
invoices). The deep page (the cursor of the middle row) is read as well on the keyset lists.
``ratio`` is big-size req/s over small-size req/s (target ≥ 0.83, i.e. p50 big ≤ 1.2× small);
``p50_ratio`` is p50 at the big size over p50 at the small size (target ≤ 1.2).

    .venv/bin/python bench/lists.py [--scale 1.0] [--requests 200] [--pairs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Result, Sample, bench_database, load_average, pairs, pg_dsn

from clientops_shared.auth import issue_token
from clientops_shared.devtools import (
    SERVICES,
    _admin_dsn,
    create_databases,
    drop_databases,
    migrate,
    server_dsn,
)
from clientops_shared.settings import DEV_JWT_SECRET

CLIENT = uuid.UUID("00000000-0000-4000-8000-000000000001")

SEED = {
    "contracts": """
        INSERT INTO client (id, name, inn, kpp, email, phone, manager, legal_address, contacts,
                            created_at)
        SELECT md5('client' || g)::uuid, 'ООО Клиент ' || md5(g::text), (7700000000 + g)::text,
               '770701001', 'buh' || g || '@example.ru', '+74951234567', 'manager' || (g % 20),
               'Москва, ул. Ленина, ' || g, '[]'::jsonb, now()
        FROM generate_series(1, $1) AS g""",
    "billing": """
        INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id, period,
            revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on)
        SELECT md5('inv' || g)::uuid, 'СЧ-' || lpad(g::text, 7, '0'), 'invoice',
               md5('contract' || g)::uuid, '2026-' || g, md5('client' || (g % 1000))::uuid,
               to_char(DATE '2024-01-01' + ((g % 36) || ' month')::interval, 'YYYY-MM'), 0,
               'on_top', 12500, 2750, 15250, 0, 'issued', DATE '2026-11-15', DATE '2026-12-18'
        FROM generate_series(1, $1) AS g""",
    "tasks": """
        INSERT INTO task (id, kind, action, function, title, assignee, due_at, created_at,
                          priority, client_id, dedupe_key, state)
        SELECT gen_random_uuid(), 'call_client', 'call', 'billing', 'Позвонить ' || g,
               'manager1', now() - ((g % 60) || ' days')::interval + (g || ' seconds')::interval,
               now() - interval '90 days', 'normal', md5('client' || (g % 500))::uuid::text,
               'k' || g, 'open'
        FROM generate_series(1, $1) AS g""",
    "timeline": f"""
        INSERT INTO timeline_entry (event_id, client_id, at, type, producer, summary, payload)
        SELECT gen_random_uuid(), '{CLIENT}', now() - (g || ' minutes')::interval,
               'billing.invoice.issued', 'billing', 'Выставлен счёт ' || g, '{{}}'::jsonb
        FROM generate_series(1, $1) AS g""",
}

# name → (service, seed, small, big, path)
LISTS: dict[str, tuple[str, str, int, int, str]] = {
    "list_clients": ("contracts", "contracts", 1000, 100_000, "/api/clients"),
    "list_my_tasks": ("notifications", "tasks", 1000, 50_000, "/api/my/tasks"),
    "list_timeline": ("notifications", "timeline", 100, 5000,
                      f"/api/clients/{CLIENT}/timeline?order=desc"),
    "list_invoices": ("billing", "billing", 1000, 100_000, "/api/invoices"),
}


async def clone(template: str, name: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(server_dsn()))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()


def build(service: str, db: str) -> Any:
    os.environ.setdefault("CLIENTOPS_DEV_MODE", "1")
    if service == "contracts":
        from contracts.bootstrap import build as b
        from contracts.config import ContractsSettings as S
    elif service == "billing":
        from billing.bootstrap import build as b  # type: ignore[assignment]
        from billing.config import BillingSettings as S  # type: ignore[assignment]
    else:
        from notifications.bootstrap import build as b  # type: ignore[assignment]
        from notifications.config import NotificationsSettings as S  # type: ignore[assignment]
    return b(S(database=db, jobs_enabled=False, consumers_enabled=False, relay_enabled=False))


async def timed(http: httpx.AsyncClient, url: str, requests: int) -> Sample:
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        t = time.perf_counter()
        r = await http.get(url)
        latencies.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise SystemExit(f"{url}: {r.status_code} {r.text[:300]}")
    return Sample(requests, time.perf_counter() - started,
                  extra={"p50_ms": statistics.median(latencies) * 1000})


async def deep_url(http: httpx.AsyncClient, path: str, depth: int) -> str | None:
    """The first page after about ``depth`` rows, reached by cursors of 500-row pages."""
    sep = "&" if "?" in path else "?"
    url, walked, cursor = f"{path}{sep}limit=500", 0, None
    while walked + 500 <= max(depth, 500):
        r = await http.get(url)
        cursor = r.headers.get("X-Next-Cursor")
        if r.status_code != 200 or cursor is None:
            return None
        walked += 500
        url = f"{path}{sep}limit=500&after={cursor}"
    return f"{path}{sep}after={cursor}"


async def measure(scale: float, requests: int, n_pairs: int) -> list[Result]:
    services = sorted({s for s, *_ in LISTS.values()})
    templates = {s: bench_database(f"lists_{s}") for s in services}
    made: list[str] = list(templates.values())
    await create_databases(made)
    results = []
    apps: list[Any] = []
    try:
        for svc in SERVICES:
            if svc.name in templates:
                await asyncio.to_thread(migrate, svc, templates[svc.name])
        token = issue_token(os.environ.get("CLIENTOPS_JWT_SECRET", DEV_JWT_SECRET), "manager1",
                            "head")
        for name, (service, seed, small, big, path) in LISTS.items():
            sizes = {"small": max(10, int(small * scale)), "big": max(20, int(big * scale))}
            clients: dict[str, httpx.AsyncClient] = {}
            for size, n in sizes.items():
                db = bench_database(f"{name}_{size}")
                await clone(templates[service], db)
                made.append(db)
                conn = await asyncpg.connect(pg_dsn(db))
                try:
                    await conn.execute(SEED[seed], n)
                    await conn.execute("ANALYZE")
                finally:
                    await conn.close()
                app = build(service, db)
                apps.append(app)
                clients[size] = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://bench",
                    headers={"Authorization": f"Bearer {token}"}, timeout=60)
            try:
                for c in clients.values():  # warm up: connections, statements, caches
                    await timed(c, path, 5)
                cases = [(name, path, path)]
                deep = await deep_url(clients["big"], path, sizes["big"] // 2)
                shallow = await deep_url(clients["small"], path, sizes["small"] // 2)
                if name != "list_my_tasks" and deep and shallow:
                    cases.append((f"{name}_deep", deep, shallow))
                big, small = clients["big"], clients["small"]
                for label, big_url, small_url in cases:
                    a, b = await pairs(lambda c=big, u=big_url: timed(c, u, requests),
                                       lambda c=small, u=small_url: timed(c, u, requests),
                                       n_pairs)
                    p50 = (statistics.median(s.extra["p50_ms"] for s in a)
                           / statistics.median(s.extra["p50_ms"] for s in b))
                    results.append(Result(f"{label}_{sizes['small']}_vs_{sizes['big']}", a, b,
                                          target=0.83, extra={"p50_ratio": p50}))
                    print(results[-1].line(), flush=True)
            finally:
                for c in clients.values():
                    await c.aclose()
    finally:
        for app in apps:
            await app.state.runtime.engine.dispose()
        await drop_databases(made)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the sizes (smoke: 0.01)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    print(load_average())
    asyncio.run(measure(args.scale, args.requests, args.pairs))


if __name__ == "__main__":
    main()
