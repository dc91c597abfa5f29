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


async def test_my_day_pages_through_every_overdue_task_once_in_due_order(service: Any) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, person, overdue=25, today=3)
        seen: list[dict[str, Any]] = []
        params: dict[str, Any] = {"at": AT.isoformat(), "limit": 10}
        pages = 0
        while True:
            r = await svc.http.get("/api/my/tasks", headers=svc.auth(person, "manager"),
                                   params=params)
            assert r.status_code == 200, r.text
            day = r.json()
            pages += 1
            seen += [t for g in day["overdue"] for t in g["tasks"]]
            assert day["counts"] == {"overdue": 25, "today": 3, "later": 0, "snoozed": 0}
            assert len(ids(day["today"])) == 3
            if day["next_overdue"] is None:
                break
            params["after"] = day["next_overdue"]
        assert pages == 3
        assert len(seen) == 25 and len({t["id"] for t in seen}) == 25
        keys = [(t["due_at"], {"high": 0, "normal": 1, "low": 2}[t["priority"]], t["id"])
                for t in seen]
        assert keys == sorted(keys), "overdue: by due time, the higher priority first"


async def test_counts_stop_at_the_cap_and_the_page_stays_small(service: Any) -> None:
    person = f"m-{uuid.uuid4().hex[:6]}"
    async with service(AT) as svc:
        await seed_tasks(svc, person, overdue=1005, today=0)
        r = await svc.http.get("/api/my/tasks", headers=svc.auth(person, "manager"),
                               params={"at": AT.isoformat()})
        day = r.json()
        assert day["counts"]["overdue"] == day["counts_cap"] + 1 == 1001
        assert len(ids(day["overdue"])) == 200 and day["next_overdue"]
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


async def test_the_timeline_pages_both_ways_and_refuses_a_forged_cursor(service: Any) -> None:
    client_id = uuid.uuid4()
    async with service(AT) as svc:
        await execute(svc, """
            INSERT INTO timeline_entry (event_id, client_id, at, type, producer, summary,
                                        payload)
            SELECT gen_random_uuid(), :client, CAST(:at AS timestamptz)
                   - make_interval(hours => g / 2), 'contracts.contract.signed', 'contracts',
                   'Договор подписан ' || g, '{}'::jsonb
            FROM generate_series(1, 13) AS g""", client=str(client_id), at=AT)
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
