"""The benchmarks at tiny sizes, so they keep running (no timing is asserted: ``make bench``
prints the real ratios)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"
LINE = re.compile(r"^(\S+)\s+system=[\d,.]+/s\s+baseline=[\d,.]+/s\s+ratio=[\d.]+\s+target=")


# a guard against a hang, not a speed check: the twelve benches start and stop their own
# services, which takes minutes on a loaded 2-core machine (300 s was too short at load 15)
@pytest.mark.timeout(1500)
def test_every_benchmark_runs_at_smoke_size_and_prints_its_ratio_lines() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--smoke"],
                          capture_output=True, text=True, timeout=1400)
    assert done.returncode == 0, done.stdout + done.stderr
    names = {m.group(1) for line in done.stdout.splitlines() if (m := LINE.match(line))}
    assert {"invoice_run_50", "invoice_run_200", "dunning_500", "contracts_get_client",
            "billing_invoices_of_client", "outbox_relay_200", "event_latency_20",
            "notification_burst_100", "list_clients_10_vs_1000", "list_my_tasks_10_vs_500",
            "list_timeline_10_vs_50", "list_invoices_10_vs_1000"} <= names, done.stdout
