"""``make reliability``: the full fault suite as three pytest runs at once, each on a private
RabbitMQ node and PostgreSQL cluster of its own, then one table of every item sorted.

The scenarios that sign contracts through the whole system (contracts, billing,
notifications) run in one part; the 10,000-event backlog (billing alone, one process, at most
one core) in another; the other scenarios that drive billing alone straight from the broker or
its database in the third. Much of each scenario is waiting — a node restarting, a process
stopped for 60 s, a queue draining at one consumer's pace — so the parts overlap well even on
two cores.

    python tests/reliability/run.py [pytest arguments...]

Each part's output is printed as it comes, prefixed with its name; the exit status is
non-zero if any part failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import load_results, table  # noqa: E402

GROUPS: dict[str, list[str]] = {
    "system": ["test_fault_broker.py", "test_fault_consumer_down.py", "test_fault_database.py",
               "test_fault_order.py"],
    "backlog": ["test_fault_backlog.py"],
    # the invoice runs last of billing's scenarios on its database: a signing after a run of
    # its month is invoiced at once (two periods here), which would slow every event after it
    "billing": ["test_fault_processes.py", "test_fault_run_killed.py",
                "test_reliability_database_down.py", "test_database_unreachable_is_503.py"],
}

OK = (0, 5)  # passed, or nothing selected in that part (``-k`` naming scenarios of another)


def _check_groups() -> None:
    """Every test file of the suite runs in exactly one part (a new one must be placed)."""
    files = sorted(p.name for p in HERE.glob("test_*.py"))
    placed = sorted(f for group in GROUPS.values() for f in group)
    if files != placed:
        raise SystemExit(f"tests/reliability/run.py: GROUPS must list every test file once: "
                         f"files {files}, listed {placed}")


def _pump(name: str, stream: object, out: list[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        out.append(line)
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a SIGTERM (a timeout) stops the parts as Ctrl-C does


def main(args: list[str]) -> int:
    _check_groups()
    signal.signal(signal.SIGTERM, _interrupt)
    results = Path(tempfile.mkdtemp(prefix="clientops-faults-"))
    env = {**os.environ, "CLIENTOPS_RELIABILITY": os.environ.get("CLIENTOPS_RELIABILITY", "full")}
    started = time.monotonic()
    runs: dict[str, tuple[subprocess.Popen[str], threading.Thread, list[str]]] = {}
    for name, files in GROUPS.items():
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:warnings", "-m", "reliability",
             "--durations=0", "--durations-min=1", *[str(HERE / f) for f in files], *args],
            env={**env, "CLIENTOPS_FAULT_RESULTS": str(results / f"{name}.json")},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE.parent.parent)
        lines: list[str] = []
        pump = threading.Thread(target=_pump, args=(name, proc.stdout, lines), daemon=True)
        pump.start()
        runs[name] = (proc, pump, lines)
    finished: dict[str, tuple[int, float]] = {}
    try:
        while len(finished) < len(runs):
            for name, (proc, _, _) in runs.items():
                if name not in finished and proc.poll() is not None:
                    finished[name] = (proc.returncode, time.monotonic() - started)
            time.sleep(1.0)
    except KeyboardInterrupt:
        # each part stops as pytest does on Ctrl-C: its fixtures stop the private servers
        for proc, _, _ in runs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc, _, _ in runs.values():
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise
    for _, pump, _ in runs.values():
        pump.join(timeout=10)
    outcomes = [o for name in GROUPS for o in load_results(results / f"{name}.json")]
    shutil.rmtree(results, ignore_errors=True)
    print("\n" + "=" * 30 + " fault suite: every item sorted " + "=" * 30)
    print(table(outcomes) if outcomes else "(no scenario recorded an outcome)")
    for name, (code, took) in finished.items():
        print(f"{name}: {'passed' if code in OK else f'FAILED (exit {code})'} in "
              f"{took / 60:.1f} min")
    print(f"fault suite: {(time.monotonic() - started) / 60:.1f} min in all")
    failed = any(code not in OK for code, _ in finished.values())
    return 1 if failed or not all(o.passed for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
