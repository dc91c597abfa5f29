"""Issue 14 at the page: my day and the client card's history show a bounded page of what
notifications answers and follow its cursor ("Дальше по списку", "Более ранние события"),
so a long day or a long history is all reachable, every entry once. Web in-process on the
real contracts and notifications services (in-process too, their own databases)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from clientops_shared.testing import Servers, eventually_async, random_inn, running_app

from .test_web_pages import closed_port, log_in

pytestmark = pytest.mark.integration

UPSTREAMS = {
    "contracts": "http://contracts",
    "notifications": "http://notifications",
    **{name: f"http://127.0.0.1:{closed_port()}" for name in ("billing", "field_ops",
                                                                "logistics")},
}


class Pages:
    def __init__(self, web: httpx.AsyncClient, contracts: httpx.AsyncClient,
                 notifications_app: Any, servers: Servers) -> None:
        self.web, self.contracts, self.servers = web, contracts, servers
        self.notifications = notifications_app.state.runtime.engine

    async def page(self, path: str) -> str:
        r = await self.web.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:800])
        return r.text

    async def sql(self, sql: str, **params: Any) -> None:
        async with self.notifications.begin() as conn:
            await conn.execute(sa.text(sql), params)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.notifications.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).scalar()


@pytest.fixture
async def pages(servers: Servers) -> AsyncIterator[Pages]:
    async with (
        running_app(servers, "contracts") as (contracts_app, contracts),
        running_app(servers, "notifications") as (notifications_app, _),
        running_app(servers, "web", seed_demo_users=True, cookie_secure=False,
                    upstreams=UPSTREAMS) as (web_app, web),
    ):
        web_app.state.http = httpx.AsyncClient(mounts={
            "http://contracts": httpx.ASGITransport(app=contracts_app),
            "http://notifications": httpx.ASGITransport(app=notifications_app)})
        try:
            assert (await log_in(web, "head")).status_code == 303
            yield Pages(web, contracts, notifications_app, servers)
        finally:
            await web_app.state.http.aclose()


def entries(html: str, section: str) -> list[str]:
    """The titles listed in one section/article of a page."""
    found = re.search(rf'<(?:section|article) id="{section}">(.*?)</(?:section|article)>',
                      html, re.S)
    assert found is not None, section
    return re.findall(r'<span class="task-title">([^<]+)</span>', found.group(1))


def link(html: str, testid: str) -> str | None:
    found = re.search(rf'href="([^"]+)" data-testid="{testid}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


async def test_my_day_shows_a_page_and_follows_the_cursor_to_every_task(pages: Pages
                                                                       ) -> None:
    await pages.sql("""
        INSERT INTO task (id, kind, action, function, title, assignee, due_at, created_at,
                          priority, state)
        SELECT gen_random_uuid(), 'call', 'call', 'contracts', 'Позвонить ' || g, 'head',
               now() - make_interval(hours => 2 + g), now() - interval '10 days', 'normal',
               'open'
        FROM generate_series(1, 70) AS g""")
    first = await pages.page("/")
    shown = entries(first, "overdue")
    assert len(shown) == 50 and "(70)" in first
    more = link(first, "my-day-more")
    assert more is not None and "after=" in more
    second = await pages.page(more)
    rest = entries(second, "overdue")
    assert len(rest) == 20 and link(second, "my-day-more") is None
    assert 'data-testid="my-day-paged"' in second
    assert sorted(shown + rest) == sorted(f"Позвонить {g}" for g in range(1, 71))


async def test_the_card_shows_the_newest_history_and_a_way_to_older_entries(pages: Pages
                                                                           ) -> None:
    r = await pages.contracts.post("/api/clients", headers=pages.servers.auth("head", "head"),
                                   json={"name": f"ООО «История {uuid.uuid4().hex[:4]}»",
                                         "inn": random_inn(), "email": "h@example.ru"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    # the registration reaches notifications' timeline through the broker: the newest entry
    registered = await eventually_async(lambda: pages.scalar(
        "SELECT summary FROM timeline_entry WHERE client_id = :c", c=client_id))
    await pages.sql("""
        INSERT INTO timeline_entry (event_id, client_id, at, type, producer, summary,
                                    payload)
        SELECT gen_random_uuid(), :client, now() - make_interval(mins => g),
               'contracts.contact.logged', 'contracts', 'Событие ' || g, '{}'::jsonb
        FROM generate_series(1, 120) AS g""", client=client_id)
    card = await pages.page(f"/clients/{client_id}")
    newest = entries(card, "timeline")
    expected = [registered] + [f"Событие {g}" for g in range(1, 121)]
    assert newest == expected[:50]  # the newest first
    seen = list(newest)
    older = link(card, "timeline-older")
    while older is not None:
        assert older.startswith(f"/clients/{client_id}/history?after=")
        html = await pages.page(older)
        found = re.search(r'data-testid="timeline-page">(.*?)</ul>', html, re.S)
        assert found is not None
        seen += re.findall(r'<span class="task-title">([^<]+)</span>', found.group(1))
        older = link(html, "timeline-older")
    assert seen == expected  # every entry once, in order, over 50 + 50 + 21
    assert "Это самые ранние события." in html
    # an old link's cursor that no longer reads: back to the newest page, not an error
    r = await pages.web.get(f"/clients/{client_id}/history", params={"after": "bm90"})
    assert r.status_code == 303 and r.headers["location"] == f"/clients/{client_id}/history"
