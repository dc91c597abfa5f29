"""What every benchmark shares: A/B pairs, medians, one line per result.

A benchmark measures the system and a baseline that does the same amount of raw work, in the
same run and alternating (A B A B …), because these machines are noisy: only the ratio of the
two medians means anything. Each line reads

    name  system=…/s  baseline=…/s  ratio=…  target=…  cpu_s=…  [extra=…]

where ``ratio`` is system throughput over baseline throughput (1.0 = as fast as the floor) and
``target`` says which side of it the design wants to be. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from clientops_shared.devtools import SERVICES, create_databases, migrate
from clientops_shared.settings import (
    DEFAULT_AMQP_URL,
    DEFAULT_PG_DSN,
    DEV_MODE_FLAG,
    common,
    database_url,
)

# the services under test refuse the public development secrets outside development mode; a
# bench is a development run (its child processes inherit this)
os.environ.setdefault(DEV_MODE_FLAG, "1")


@dataclass
class Sample:
    """One measured side of a pair: ``units`` of work in ``seconds``."""

    units: float
    seconds: float
    cpu_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Result:
    name: str
    system: list[Sample]
    baseline: list[Sample]
    target: float
    """The wanted ratio; ``higher`` says whether the ratio must reach it or stay under it."""
    higher: bool = True
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def system_rate(self) -> float:
        return statistics.median(s.rate for s in self.system)

    @property
    def baseline_rate(self) -> float:
        return statistics.median(s.rate for s in self.baseline)

    @property
    def ratio(self) -> float:
        return self.system_rate / self.baseline_rate

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.higher else self.ratio <= self.target

    def line(self) -> str:
        cpu = statistics.median(s.cpu_s for s in self.system)
        extra = {k: statistics.median(s.extra[k] for s in self.system if k in s.extra)
                 for k in self.system[0].extra}
        extra.update(self.extra)
        cols = [f"{self.name:<34}", f"system={self.system_rate:,.1f}/s",
                f"baseline={self.baseline_rate:,.1f}/s", f"ratio={self.ratio:.2f}",
                f"target={'>=' if self.higher else '<='}{self.target:g}"
                f"{'' if self.met else ' (missed)'}",
                f"cpu_s={cpu:.2f}"]
        cols += [f"{k}={v:,.3g}" for k, v in extra.items()]
        return "  ".join(cols)


async def pairs(system: Callable[[], Awaitable[Sample]],
                baseline: Callable[[], Awaitable[Sample]], n: int = 3
                ) -> tuple[list[Sample], list[Sample]]:
    """``n`` interleaved pairs, system first in each."""
    a: list[Sample] = []
    b: list[Sample] = []
    for _ in range(n):
        a.append(await system())
        b.append(await baseline())
    return a, b


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def cpu_seconds() -> float:
    """User + system CPU of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU another process (a server under test) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    """This process's peak RSS since it started its program.

    ``VmHWM`` of this address space, not ``ru_maxrss``: Linux keeps ``ru_maxrss`` across
    ``execve``, so a child started by a parent holding hundreds of MB (the bench itself, after
    reading the rows for its COPY baseline) would report the parent's size as its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Wall and CPU time of a block."""

    def __enter__(self) -> Timer:
        self.started, self.cpu_started = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_s = cpu_seconds() - self.cpu_started


def pg_dsn(database: str) -> str:
    """A plain asyncpg DSN for one of the bench's databases."""
    return database_url(database).replace("postgresql+asyncpg://", "postgresql://")


def bench_database(what: str) -> str:
    return f"clientops_bench_{what}_{uuid.uuid4().hex[:8]}"


def private_vhost() -> tuple[str, str]:
    """A RabbitMQ virtual host of the bench's own and its URL; ``drop_vhost`` removes it."""
    name = f"clientops-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*",
                    ".*"], check=True)
    return name, common("AMQP_URL", DEFAULT_AMQP_URL).rstrip("/") + "/" + name


def drop_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False)


def server() -> str:
    return common("PG_DSN", DEFAULT_PG_DSN)


def describe(results: list[Result]) -> dict[str, Any]:
    return {r.name: {"ratio": r.ratio, "target": r.target, "met": r.met} for r in results}


def main_with_private_vhost(doc: str, default_n: int,
                            measure: Callable[[int, int, str], Awaitable[Result]]) -> None:
    """The command line of a benchmark that needs a RabbitMQ virtual host of its own:
    ``[N] [--pairs 3]``; prints the load average, runs ``measure(n, pairs, amqp_url)`` on a
    fresh vhost (removed afterwards, whatever happens) and prints its line."""
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=default_n)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("CLIENTOPS_LOG_LEVEL", "WARNING")
    print(load_average())
    vhost, amqp = private_vhost()
    try:
        print(asyncio.run(measure(args.n, args.pairs, amqp)).line())
    finally:
        drop_vhost(vhost)


# --- services under test: what read_endpoints and notification_burst share ------------------


async def migrated_databases(services: Sequence[str]) -> dict[str, str]:
    """A fresh bench database per service, migrated to head: ``{service: database}``
    (``drop_databases(list(result.values()))`` removes them)."""
    dbs = {name: bench_database(name) for name in services}
    await create_databases(list(dbs.values()))
    for service in SERVICES:
        if service.name in dbs:
            await asyncio.to_thread(migrate, service, dbs[service.name])
    return dbs


def service_env(service: str, database: str, port: int, amqp_url: str,
                **extra: str) -> dict[str, str]:
    """The environment one service gets in a bench: as ``make run`` starts it, on its own
    database, port and RabbitMQ vhost, with its periodic jobs off (nothing mails out, no
    sweep runs in the timing window) and only warnings logged."""
    prefix = service.upper()
    return {**os.environ, "CLIENTOPS_AMQP_URL": amqp_url, "CLIENTOPS_LOG_LEVEL": "WARNING",
            DEV_MODE_FLAG: "1", f"{prefix}_DATABASE": database, f"{prefix}_PORT": str(port),
            f"{prefix}_JOBS_ENABLED": "0", **extra}


def launch(cmd: Sequence[str], env: dict[str, str], *, cwd: Path | None = None,
           log: IO[Any] | None = None) -> subprocess.Popen[bytes]:
    """A process under test (``[sys.executable, "-m", service]`` for a service); its output
    into ``log`` if given (stderr with it)."""
    return subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT if log is not None else None)


def launch_service(service: str, env: dict[str, str], *, log: IO[Any] | None = None
                   ) -> subprocess.Popen[bytes]:
    """One service as ``make run`` starts it: ``python -m <service>`` (uvicorn, its consumer,
    relay, auth, telemetry, problem handlers, metrics)."""
    return launch([sys.executable, "-m", service], env, log=log)


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Until ``url`` answers below 500 (e.g. ``/health/live``); exits if the process dies or
    two minutes pass."""
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            if proc.poll() is not None:
                raise SystemExit(f"{url} exited with {proc.returncode}")
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def settled(pid: int, *, busy: float = 0.05, window: float = 1.0,
                  at_most: float = 90.0) -> None:
    """Until a started process under test idles (under ``busy`` of a core over ``window``
    seconds): a service still importing in the background at start-up (billing preloads
    WeasyPrint in a thread) would otherwise be measured competing with itself."""
    deadline = time.monotonic() + at_most
    while time.monotonic() < deadline:
        before = process_cpu_seconds(pid)
        await asyncio.sleep(window)
        if process_cpu_seconds(pid) - before < busy * window:
            return


def stop(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process under test, then wait (killing one that takes over 15 s)."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
