"""Lists a page at a time: my day, the task list and the timeline follow their cursors to the
end, every row once, in order; counts stop at the cap; a forged cursor is a 422."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clientops_shared.db import make_engine
from clientops_shared.settings import database_url

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2026, 12, 21, 12, 0, tzinfo=MSK)


async def execute(svc: Any, sql: str, **params: Any) -> None:
    engine = make_engine(database_url(svc.database, svc.servers.pg_dsn))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql), params)
    finally:
        await engine.dispose()


async def seed_tasks(svc: Any, person: str, overdue: int, today: int) -> None:
    """``overdue`` tasks due before AT (some sharing a due time), ``today`` due later today."""
    await execute(svc, """
        INSERT INTO task (id, kind, action, function, title, assignee, due_at, created_at,
                          priority, state)
        SELECT gen_random_uuid(), 'call', 'call', 'billing', 'Позвонить ' || g, :person,
               CAST(:at AS timestamptz) - make_interval(mins => 1 + g / 3),
               CAST(:at AS timestamptz) - interval '10 days',
               (ARRAY['low', 'normal', 'high'])[1 + g % 3], 'open'
        FROM generate_series(1, :overdue) AS g
        UNION ALL
        SELECT gen_random_uuid(), 'call', 'call', 'billing', 'Сегодня ' || g, :person,
               CAST(:at AS timestamptz) + make_interval(mins => g),
               CAST(:at AS timestamptz), 'normal', 'open'
        FROM generate_series(1, :today) AS g""",
                  person=person, at=AT, overdue=overdue, today=today)


def ids(groups: list[dict[str, Any]]) -> list[str]:
    return [t["id"] for g in groups for t in g["tasks"]]


async def walk_my_day(svc: Any, person: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of my day, following ``next_cursor``: the pages' day dicts."""
    pages: list[dict[str, Any]] = []
    params = {"at": AT.isoformat(), **params}
    while True:
        r = await svc.http.get("/api/my/tasks", headers=svc.auth(person, "manager"),
                               params=params)
        assert r.status_code == 200, r.text
        day = r.json()
        assert r.headers.get("X-Next-Cursor") == day["next_cursor"]
        pages.append(day)
        if day["next_cursor"] is None:
            return pages
        assert 'rel="next"' in r.headers["Link"]
        params["after"] = day["next_cursor"]


async def test_my_day_pages_through_overdue_then_today_every_task_once(service: Any) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, person, overdue=25, today=8)
        pages = await walk_my_day(svc, person, limit=10)
        assert [len(ids(d["overdue"])) + len(ids(d["today"])) for d in pages] == [10, 10, 10, 3]
        assert all(d["counts"] == {"overdue": 25, "today": 8, "later": 0, "snoozed": 0}
                   for d in pages)
        late = [t for d in pages for t in (t for g in d["overdue"] for t in g["tasks"])]
        today = [t for d in pages for t in (t for g in d["today"] for t in g["tasks"])]
        assert len(late) == 25 and len({t["id"] for t in late}) == 25
        assert len(today) == 8 and len({t["id"] for t in today}) == 8
        # overdue all come before today's: a page holding today's has no overdue after it
        first_today = next(i for i, d in enumerate(pages) if d["today"])
        assert not any(d["overdue"] for d in pages[first_today + 1:])
        keys = [(t["due_at"], {"high": 0, "normal": 1, "low": 2}[t["priority"]], t["id"])
                for t in late]
        assert keys == sorted(keys), "overdue: by due time, the higher priority first"


async def test_the_default_page_is_the_same_size_for_a_small_and_a_huge_day(service: Any
                                                                           ) -> None:
    small, huge = f"m-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, small, overdue=30, today=40)
        await seed_tasks(svc, huge, overdue=1005, today=300)
        sizes = []
        for person in (small, huge):
            r = await svc.http.get("/api/my/tasks", headers=svc.auth(person, "manager"),
                                   params={"at": AT.isoformat()})
            day = r.json()
            sizes.append(len(ids(day["overdue"])) + len(ids(day["today"])))
            assert day["next_cursor"] and r.headers["X-Next-Cursor"] == day["next_cursor"]
        assert sizes == [50, 50]
        assert day["counts"]["overdue"] == day["counts_cap"] + 1 == 1001
        assert day["counts"]["today"] == 300
        assert (await svc.http.get("/api/my/tasks", headers=svc.auth(huge, "manager"),
                                   params={"limit": 501})).status_code == 422


async def test_counts_stop_at_the_cap(service: Any) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, person, overdue=1005, today=0)
        listed = await svc.http.get("/api/tasks", headers=svc.head,
                                    params={"assignee": person, "limit": 5})
        assert listed.headers["X-Total-Count"] == "1000+"


@pytest.mark.parametrize("sort", ["due", "priority", "created"])
async def test_the_task_list_follows_its_cursor_to_the_end(service: Any, sort: str) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, person, overdue=23, today=4)
        everything = (await svc.http.get("/api/tasks", headers=svc.head, params={
            "assignee": person, "sort": sort, "limit": 500})).json()
        paged: list[str] = []
        params: dict[str, Any] = {"assignee": person, "sort": sort, "limit": 6}
        while True:
            r = await svc.http.get("/api/tasks", headers=svc.head, params=params)
            assert r.status_code == 200, r.text
            paged += [t["id"] for t in r.json()]
            if "X-Next-Cursor" not in r.headers:
                break
            assert 'rel="next"' in r.headers["Link"]
            params["after"] = r.headers["X-Next-Cursor"]
        assert paged == [t["id"] for t in everything] and len(paged) == 27


async def seed_timeline(svc: Any, client_id: uuid.UUID, n: int) -> None:
    await execute(svc, """
        INSERT INTO timeline_entry (event_id, client_id, at, type, producer, summary,
                                    payload)
        SELECT gen_random_uuid(), :client, CAST(:at AS timestamptz)
               - make_interval(hours => g / 2), 'contracts.contract.signed', 'contracts',
               'Договор подписан ' || g, '{}'::jsonb
        FROM generate_series(1, :n) AS g""", client=str(client_id), at=AT, n=n)


async def test_the_timeline_pages_both_ways_and_refuses_a_forged_cursor(service: Any) -> None:
    client_id = uuid.uuid4()
    async with service(AT) as svc:
        await seed_timeline(svc, client_id, 13)
        for order in ("asc", "desc"):
            got: list[tuple[str, str]] = []
            params: dict[str, Any] = {"limit": 4, "order": order}
            while True:
                r = await svc.http.get(f"/api/clients/{client_id}/timeline", headers=svc.head,
                                       params=params)
                assert r.status_code == 200, r.text
                got += [(e["at"], e["summary"]) for e in r.json()]
                if "X-Next-Cursor" not in r.headers:
                    break
                params["after"] = r.headers["X-Next-Cursor"]
            assert len({summary for _, summary in got}) == 13
            stamps = [at for at, _ in got]
            assert stamps == sorted(stamps, reverse=order == "desc")
        bad = await svc.http.get(f"/api/clients/{client_id}/timeline", headers=svc.head,
                                 params={"after": "bm90LWEtY3Vyc29y"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "after"
        assert (await svc.http.get("/api/my/tasks", headers=svc.head, params={
            "after": "%%%"})).status_code == 422


async def test_the_timeline_answers_a_bounded_page_by_default_and_walks_every_entry_once(
    service: Any,
) -> None:
    client_id = uuid.uuid4()
    async with service(AT) as svc:
        await seed_timeline(svc, client_id, 130)
        sizes: list[int] = []
        seen: list[str] = []
        params: dict[str, Any] = {"order": "desc"}
        while True:  # the web's card: the newest page, then older ones by the cursor
            r = await svc.http.get(f"/api/clients/{client_id}/timeline", headers=svc.head,
                                   params=params)
            assert r.status_code == 200, r.text
            sizes.append(len(r.json()))
            seen += [e["summary"] for e in r.json()]
            if "X-Next-Cursor" not in r.headers:
                break
            params["after"] = r.headers["X-Next-Cursor"]
        assert sizes == [50, 50, 30]
        assert len(seen) == len(set(seen)) == 130
        assert seen[0] == "Договор подписан 1"  # the newest first
