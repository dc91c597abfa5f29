"""The client timeline at the contracts desk: a bounded page, newest first, the cursor walks
every entry exactly once (entries sharing a moment too), a forged cursor is a 422."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


async def test_the_timeline_pages_newest_first_and_walks_every_entry_once(desk: Any, db: Any
                                                                         ) -> None:
    client = await desk.client()
    await desk.contract(client["id"])
    async with db.engine.begin() as conn:  # 130 contacts, pairs of them at the same moment
        await conn.execute(sa.text("""
            INSERT INTO interaction (id, client_id, channel, "on", summary, created_at)
            SELECT gen_random_uuid(), :client, 'call', DATE '2027-01-01', 'Звонок ' || g,
                   TIMESTAMPTZ '2027-01-01 12:00+03' - make_interval(mins => g / 2)
            FROM generate_series(1, 130) AS g"""), {"client": client["id"]})

    sizes: list[int] = []
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        r = await desk.get(f"/api/clients/{client['id']}/timeline", params=params)
        assert r.status_code == 200, r.text
        sizes.append(len(r.json()))
        seen += r.json()
        if "X-Next-Cursor" not in r.headers:
            break
        assert 'rel="next"' in r.headers["Link"]
        params["after"] = r.headers["X-Next-Cursor"]
    assert sizes == [50, 50, 31]  # 130 contacts and the contract, 50 a page by default
    assert len({e["entity_id"] for e in seen}) == 131
    assert [e["type"] for e in seen].count("contract") == 1
    keys = [(e["at"], e["entity_id"]) for e in seen]
    assert keys == sorted(keys, reverse=True)

    small = await desk.get(f"/api/clients/{client['id']}/timeline", params={"limit": 7})
    assert len(small.json()) == 7
    bad = await desk.get(f"/api/clients/{client['id']}/timeline",
                         params={"after": "bm90LWEtY3Vyc29y"}, expect=None)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "after"
    assert (await desk.get(f"/api/clients/{client['id']}/timeline",
                           params={"limit": 501}, expect=None)).status_code == 422
