"""One request must not freeze the service: while a large bank statement is parsed (seconds of
CPU), ``/health/live`` keeps answering — the parse runs in a worker process, neither on the
loop nor in a worker thread of the service (which would hold the GIL and starve the loop)."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from billing.domain.bank_statement import parse_statement
from clientops_shared.testing import HeavyWorkWatch

pytestmark = pytest.mark.integration

SAMPLE = (Path(__file__).parent / "data" / "bank-statement-1c-sample.txt").read_bytes()
FIRST_DOCUMENT = "СекцияДокумент=Платежное поручение\r\n".encode("cp1251")


def big_statement(lines: int) -> bytes:
    """The sample statement with many lines the parser reads and ignores: parse-heavy,
    while the database work stays that of the sample's four payments."""
    padding = "".join(f"Пустое{i}=x\r\n" for i in range(lines)).encode("cp1251")
    return SAMPLE.replace(FIRST_DOCUMENT, FIRST_DOCUMENT + padding, 1)


async def health_latency(client: Any) -> float:
    started = time.perf_counter()
    r = await client.get("/health/live")
    assert r.status_code == 200
    return time.perf_counter() - started


async def test_health_answers_while_a_big_statement_is_parsed(bt: Any) -> None:
    # warm up: FastAPI builds a route's handling on its first request (a one-off stall), and
    # the worker process starts on the first parse
    r = await bt.client.post("/api/bank-statements", headers=bt.auth(),
                             files={"file": ("warm-up.txt", b"not a statement", "text/plain")})
    assert r.status_code == 422
    idle = [await health_latency(bt.client) for _ in range(10)]
    data = big_statement(300_000)  # ~4.5 MB: seconds of parsing on this machine
    busy: list[float] = []
    async with HeavyWorkWatch() as watch:
        upload = asyncio.create_task(bt.client.post(
            "/api/bank-statements", headers=bt.auth(),
            files={"file": ("big.txt", data, "text/plain")}))
        started = time.perf_counter()
        answered = [started]  # when each probe's answer came back
        while not upload.done():
            busy.append(await health_latency(bt.client))
            answered.append(time.perf_counter())
            await asyncio.sleep(0.05)
        took = time.perf_counter() - started
        r = await upload
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == 4
    stalled = max(b - a for a, b in itertools.pairwise(answered))
    print(f"statement {len(data) / 1e6:.1f} MB imported in {took:.1f} s; /health/live idle "
          f"median {statistics.median(idle) * 1000:.1f} ms, during the import median "
          f"{statistics.median(busy) * 1000:.1f} ms, max {max(busy) * 1000:.0f} ms over "
          f"{len(busy)} probes; longest gap between answers {stalled * 1000:.0f} ms; longest "
          f"loop heartbeat stall {watch.longest_stall * 1000:.0f} ms")
    for where, stall in sorted(watch.stalled_in.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  loop stalled {stall * 1000:.0f} ms in {where}")
    # the evidence, not a stopwatch: the parse never ran in this process (loop or thread),
    # while the probes kept being answered during it
    assert not watch.ran("parse_statement", "_decode"), sorted(watch.functions)[:50]
    assert len(busy) >= 2


async def test_the_watch_sees_a_parse_in_a_worker_thread() -> None:
    """The control: the same parse in a thread of this process is seen (the GIL-holding way
    the import used to run)."""
    async with HeavyWorkWatch() as watch:
        await asyncio.to_thread(parse_statement, big_statement(30_000))
    assert watch.ran("parse_statement")
