"""A long acceptance act renders in a worker process: ``/health/live`` is answered meanwhile,
and the rendering never runs in the service's own process (issue 9 §4). The act's length is
bounded at the door (at most 200 lines)."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import pytest

from clientops_shared.testing import HeavyWorkWatch
from contracts.documents.context import MAX_ACT_LINES

pytestmark = pytest.mark.integration


def _lines(n: int) -> list[dict[str, str]]:
    return [{"name": f"Терминал оплаты парковки {i}", "serial": f"TP-{i:05d}",
             "unit_price": "150000.00"} for i in range(n)]


async def test_a_long_act_renders_off_the_loop(desk: Any) -> None:
    client = await desk.full_client()
    site = await desk.site(client["id"])
    contract = await desk.contract(client["id"], site_id=site["id"], vat_mode="inclusive")
    await desk.sign(contract["id"], "2026-11-25")
    path = f"/api/contracts/{contract['id']}/documents/acceptance-act"
    facts = {"number": "А-1", "handed_on": "2026-12-03"}
    # bounded: an act longer than the limit is refused before any rendering
    r = await desk.post(path, {**facts, "lines": _lines(3000)}, expect=422)
    assert r.json()["errors"][0]["field"] == "lines"
    await desk.post(f"{path}?format=pdf", {**facts, "lines": _lines(1)}, expect=200)  # warm-up

    busy: list[float] = []
    async with HeavyWorkWatch() as watch:
        act = asyncio.create_task(desk.http.post(
            f"{path}?format=pdf", json={**facts, "lines": _lines(MAX_ACT_LINES)},
            headers=desk.auth()))
        started = time.perf_counter()
        while not act.done():
            t0 = time.perf_counter()
            assert (await desk.http.get("/health/live")).status_code == 200
            busy.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
        took = time.perf_counter() - started
        r = await act
    assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:300]
    print(f"act of {MAX_ACT_LINES} lines rendered in {took:.1f} s; /health/live median "
          f"{statistics.median(busy) * 1000:.1f} ms, max {max(busy) * 1000:.0f} ms over "
          f"{len(busy)} probes; longest loop heartbeat stall {watch.longest_stall * 1000:.0f} ms")
    assert not watch.ran("render_pdf", "write_pdf", "render_docx"), sorted(watch.functions)
