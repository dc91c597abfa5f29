"""One request must not freeze the service: while a large bank statement is parsed (seconds of
CPU), ``/health/live`` keeps answering — the parse runs in a worker thread, not on the loop."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

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
    # warm up: FastAPI builds a route's handling on its first request (a one-off stall)
    r = await bt.client.post("/api/bank-statements", headers=bt.auth(),
                             files={"file": ("warm-up.txt", b"not a statement", "text/plain")})
    assert r.status_code == 422
    idle = [await health_latency(bt.client) for _ in range(10)]
    data = big_statement(300_000)  # ~4.5 MB: seconds of parsing on this machine
    upload = asyncio.create_task(bt.client.post(
        "/api/bank-statements", headers=bt.auth(),
        files={"file": ("big.txt", data, "text/plain")}))
    started = time.perf_counter()
    busy: list[float] = []
    answered = [started]  # when each probe's answer came back
    while not upload.done():
        busy.append(await health_latency(bt.client))
        answered.append(time.perf_counter())
        await asyncio.sleep(0.05)
    took = time.perf_counter() - started
    r = await upload
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == 4
    # a probe is sent 50 ms after the last answer: the longest wait between answers is how
    # long the loop was unavailable (a blocked loop delays the probe, not only its answer)
    stalled = max(b - a for a, b in itertools.pairwise(answered))
    print(f"statement {len(data) / 1e6:.1f} MB imported in {took:.1f} s; /health/live idle "
          f"median {statistics.median(idle) * 1000:.1f} ms, during the import median "
          f"{statistics.median(busy) * 1000:.1f} ms; longest gap between answers "
          f"{stalled * 1000:.0f} ms")
    # the heavy request really was heavy, and the loop kept answering meanwhile
    assert took > 0.5, took
    # on the loop the parse alone stalls it for most of the import (measured: a 6.1 s gap
    # in a 6.4 s import); off it, the longest gap is the scheduling noise of a busy machine
    # (measured 0.1-0.8 s with ~8 test runs sharing two cores)
    # blocking the loop stalls it for the whole import (6 s measured before the fix); a worker
    # thread leaves only scheduling gaps, which grow on a loaded machine
    assert stalled < took / 2 and stalled < 3.0, (stalled, took)
    assert statistics.median(busy) < 0.1, busy
