"""Every benchmark, one after the other: ``make bench`` (full sizes) or ``--smoke`` (tiny N, so
they cannot rot; ``make test`` runs that). Each prints one line per measure:

    name  system=…/s  baseline=…/s  ratio=…  target=…  cpu_s=…

    .venv/bin/python bench/run.py [--smoke] [--only NAME …]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name → (full run, smoke run): arguments of bench/<name>.py
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "invoice_run": (["20000", "100000", "--pairs", "3"], ["50", "200", "--pairs", "1"]),
    "dunning": (["100000", "--pairs", "3"], ["500", "--pairs", "1"]),
    "read_endpoints": (["--seconds", "5", "--pairs", "3"], ["--seconds", "0.3", "--pairs", "1"]),
    "outbox_relay": (["5000", "--pairs", "3"], ["200", "--pairs", "1"]),
    "event_latency": (["300", "--pairs", "3"], ["20", "--pairs", "1"]),
    "notification_burst": (["20000", "--pairs", "3", "--settle", "60"],
                           ["100", "--pairs", "1", "--settle", "1"]),
    "lists": (["--requests", "200", "--pairs", "3"],
              ["--scale", "0.01", "--requests", "5", "--pairs", "1"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES))
    args = parser.parse_args()
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
          f"{' (smoke: tiny sizes, ratios mean nothing)' if args.smoke else ''}", flush=True)
    failed = []
    for name in args.only or list(BENCHES):
        full, smoke = BENCHES[name]
        print(f"== {name}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / f"{name}.py"),
                               *(smoke if args.smoke else full)])
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
