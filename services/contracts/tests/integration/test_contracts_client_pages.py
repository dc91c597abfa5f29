"""The client list a page at a time: the cursor walks every client once, by name, for the head
and for a manager (only theirs); a forged cursor is a 422; the total stops at the cap."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


async def seed_clients(db: Any, n: int) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("""
            INSERT INTO client (id, name, inn, manager, contacts, created_at)
            SELECT gen_random_uuid(), 'ООО Клиент ' || (g % 7), (7100000000 + g)::text,
                   CASE WHEN g % 2 = 0 THEN 'manager1' ELSE 'manager2' END, '[]'::jsonb, now()
            FROM generate_series(1, :n) AS g"""), {"n": n})


async def walk(desk: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 7, **params}
    while True:
        r = await desk.http.get("/api/clients", headers=headers, params=query)
        assert r.status_code == 200, r.text
        seen += r.json()
        if "X-Next-Cursor" not in r.headers:
            return seen
        query["after"] = r.headers["X-Next-Cursor"]


async def test_client_pages_walk_every_client_once_in_name_order(desk: Any, db: Any) -> None:
    await seed_clients(db, 40)
    everyone = await walk(desk, desk.head)
    assert len(everyone) == 40 and len({c["id"] for c in everyone}) == 40
    assert [(c["name"], c["id"]) for c in everyone] == sorted(
        (c["name"], c["id"]) for c in everyone)
    mine = await walk(desk, desk.auth("manager1", "manager"))
    assert len(mine) == 20 and {c["manager"] for c in mine} == {"manager1"}
    bad = await desk.http.get("/api/clients", headers=desk.head, params={"after": "e30"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "after"


async def test_the_total_is_counted_up_to_the_cap(desk: Any, db: Any) -> None:
    await seed_clients(db, 1003)
    r = await desk.http.get("/api/clients", headers=desk.head, params={"limit": 5})
    assert r.headers["X-Total-Count"] == "1000+" and len(r.json()) == 5
    r = await desk.http.get("/api/clients", headers=desk.head, params={"q": "Клиент 3"})
    assert r.headers["X-Total-Count"] == str(sum(1 for g in range(1, 1004) if g % 7 == 3))
