"""Fault suite: 10,000 events queued for a stopped consumer — billing drains them with its
memory bounded (the broker holds it to the prefetch) and drops none (issue 9 §5). The longest
scenario: ``make reliability`` runs it beside the others (tests/reliability/run.py)."""

from __future__ import annotations

import itertools
import time

import pytest

from .harness import (
    BACKLOG_PREFETCH,
    Faulty,
    applied,
    classify,
    contract_ids,
    converge,
    full_only,
    publish,
    record,
    rss_mb,
    signing_envelopes,
    size,
    subscriptions,
    wait_until,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


@full_only
def test_backlog_for_a_stopped_consumer_is_drained_with_bounded_memory(
        faulty: Faulty) -> None:
    n = size(300, 10_000)
    faulty.start(("billing",), BILLING_CONSUMER_PREFETCH=str(BACKLOG_PREFETCH))
    proc = faulty.running.processes["billing"]
    proc.terminate()
    proc.wait(timeout=30)
    envelopes = signing_envelopes(n, "BACKLOG")
    ids = contract_ids(envelopes)
    publish(faulty, envelopes)
    # queued, none dropped (the broker's queue statistics lag a few seconds)
    wait_until(lambda: faulty.rabbit.queue_depths().get("billing.events") == n, 60,
               f"{n} queued", interval=2.0)
    started = time.monotonic()
    faulty.restart("billing", "on-backlog")
    pid = faulty.running.processes["billing"].pid
    assert _consumer_prefetch(faulty, "billing.events") == BACKLOG_PREFETCH
    start_rss = rss_mb(pid)
    peak_rss, peak_unacked = start_rss, 0
    deadline = time.monotonic() + 1200
    for probe in itertools.count():
        if applied(faulty, ids) >= n or time.monotonic() > deadline:
            break
        peak_rss = max(peak_rss, rss_mb(pid))
        if probe % 5 == 0:  # rabbitmqctl boots a VM: half a second of CPU each time
            unacked = faulty.rabbit.ctl("list_queues", "name", "messages_unacknowledged")
            for line in unacked.splitlines():
                name, _, count = line.partition("\t")
                if name == "billing.events" and count.strip().isdigit():
                    peak_unacked = max(peak_unacked, int(count))
        time.sleep(3)
    converge(lambda: applied(faulty, ids), n, timeout=60)
    print(f"backlog of {n}: drained in {time.monotonic() - started:.0f} s at prefetch "
          f"{BACKLOG_PREFETCH}; billing RSS {start_rss:.0f} MB at start, peak "
          f"{peak_rss:.0f} MB; at most {peak_unacked} unacknowledged at once")
    record(classify(ids, subscriptions(faulty, ids),
                    scenario=f"{n} events queued for a stopped consumer")).check()
    # the consumer never hoards the backlog: the broker holds it to the prefetch
    assert peak_unacked <= BACKLOG_PREFETCH
    assert peak_rss - start_rss < 150, (start_rss, peak_rss)


def _consumer_prefetch(faulty: Faulty, queue: str) -> int:
    out = faulty.rabbit.ctl("list_consumers", "queue_name", "prefetch_count")
    counts = [int(c) for q, _, c in (line.partition("\t") for line in out.splitlines())
              if q == queue and c.strip().isdigit()]
    assert counts, out
    return max(counts)
