"""The fault suite's harness: private servers a test owns, the services as processes on them,
a workload driver, and a Jepsen-style checker.

Faults are injected only into servers started here (a private RabbitMQ node and a private
PostgreSQL cluster on free ports, in temporary directories) — never the machine's shared ones.

Sizes: ``CLIENTOPS_RELIABILITY=full`` (``make reliability``) runs the issue's figures; the
default is a smoke of under a thousand items across five of the scenarios, for ``make test``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from clientops_shared.devtools import SERVICES, Service, create_databases, migrate
from clientops_shared.testing import (
    Servers,
    System,
    free_port,
    purge_service_queues,
    restart_service,
    start_system,
    stop_system,
)

FULL = os.environ.get("CLIENTOPS_RELIABILITY", "smoke") == "full"


# the smoke leaves out the scenarios ``make reliability`` alone runs
full_only = pytest.mark.skipif(not FULL, reason="make reliability (CLIENTOPS_RELIABILITY=full)")


# contract signings carry their aggregate's version, so billing may handle several at once:
# a backlog drains that much faster, and what the consumer holds at once is bounded by the
# configured prefetch (read back from the broker); the default stays 1 elsewhere
BACKLOG_PREFETCH = 5


def size(smoke: int, full: int) -> int:
    """A scenario's size: the issue's figure under ``make reliability``, a smoke otherwise."""
    return full if FULL else smoke


def service(name: str) -> Service:
    return next(s for s in SERVICES if s.name == name)


# --- private servers ------------------------------------------------------------------------


def _as(user: str, cmd: list[str]) -> list[str]:
    """Run as ``user`` when we are root (PostgreSQL refuses root; RabbitMQ wants its cookie)."""
    return ["runuser", "-u", user, "--", *cmd] if os.geteuid() == 0 else cmd


def _binary(name: str, *candidates: str) -> str:
    for path in (*candidates, shutil.which(name)):
        if path and os.path.exists(path):
            return path
    pytest.skip(f"{name} not installed: no private server for this scenario")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (trust auth) on 127.0.0.1:<port>."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "data"
        self.log = root / "server.log"
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _pg(self, name: str) -> str:
        return _binary(name, f"/usr/lib/postgresql/15/bin/{name}")

    def _run(self, *args: str) -> None:
        subprocess.run(_as("postgres", list(args)), check=True, capture_output=True,
                       timeout=120)

    def init(self) -> None:
        self._run(self._pg("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync")
        self.start()

    def start(self) -> None:
        self._run(self._pg("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=300", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients disconnected, clean shutdown; ``immediate``: a crash."""
        self._run(self._pg("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def start_if_down(self) -> None:
        done = subprocess.run(_as("postgres", [self._pg("pg_ctl"), "-D", str(self.data),
                                               "status"]), capture_output=True, timeout=30)
        if done.returncode != 0:
            self.start()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="clientops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pg = PrivatePostgres(root, free_port())
    try:
        pg.init()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"cannot start a private PostgreSQL: {exc.stderr!r}")
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class PrivateRabbit:
    """A RabbitMQ node of its own (``<name>@localhost``) on free AMQP and distribution ports,
    its data, logs and config in a temporary directory, no plugins."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = f"clientops-fault-{uuid.uuid4().hex[:8]}@localhost"
        self.port, self.dist_port = free_port(), free_port()
        self.amqp_url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
            "disk_free_limit.absolute = 50MB\n")
        if os.geteuid() == 0:
            for path in (root, root / "enabled_plugins", root / "rabbitmq.conf"):
                shutil.chown(path, "rabbitmq", "rabbitmq")

    def _env(self) -> dict[str, str]:
        return {"RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.root / "log"),
                "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins")}

    def start(self) -> None:
        """Boot the node (the Erlang VM) and wait until RabbitMQ runs."""
        server = _binary("rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server")
        env = [f"{k}={v}" for k, v in self._env().items()]
        home = "/var/lib/rabbitmq" if os.geteuid() == 0 else os.environ.get("HOME", "/")
        out = (self.root / "console.log").open("ab")
        self.process = subprocess.Popen(
            _as("rabbitmq", ["env", f"HOME={home}", *env, server]), stdout=out,
            stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True)
        self._await_startup()

    def _await_startup(self, timeout: float = 240) -> None:
        """Until RabbitMQ runs on the node (the VM registers with epmd a moment after it
        starts, and boots slowly on a busy machine)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                tail = (self.root / "console.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"RabbitMQ node {self.name} exited: {tail}")
            try:
                self.ctl("await_startup", "--timeout", "60", timeout=90)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def ctl(self, *args: str, timeout: float = 120) -> str:
        """``rabbitmqctl -n <this node> ...`` (the Debian wrapper runs it as rabbitmq, with
        the cookie the node uses)."""
        ctl = shutil.which("rabbitmqctl") or "/usr/lib/rabbitmq/bin/rabbitmqctl"
        done = subprocess.run([ctl, "-n", self.name, "-q", *args], capture_output=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.decode()[-2000:]}")
        return done.stdout.decode()

    def stop_app(self) -> None:
        """RabbitMQ stops (every connection dropped, the port closed); the VM stays up."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app", timeout=240)
        self._await_startup()

    def restart_node(self) -> None:
        """The whole node stopped and booted again (what a server restart does)."""
        self.ctl("stop")
        if self.process is not None:
            self.process.wait(timeout=120)
        self.start()

    def start_if_down(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()
            return
        if not self.listening():  # the VM is up, RabbitMQ stopped (``stop_app``)
            self.start_app()

    def listening(self) -> bool:
        """RabbitMQ accepts connections (cheaper than ``rabbitmqctl``, which boots a VM)."""
        with socket.socket() as sock:
            sock.settimeout(5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def purge_service_queues(self) -> None:
        """Drop what an earlier scenario left queued (its items were judged by that scenario),
        so a scenario's quiescence is its own; dead-letter queues are kept."""
        asyncio.run(purge_service_queues(self.amqp_url, dead_letters=False))

    def close_all_connections(self) -> None:
        self.ctl("close_all_connections", "fault suite")

    def queue_depths(self) -> dict[str, int]:
        out = self.ctl("list_queues", "name", "messages")
        depths = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[1].strip().isdigit():
                depths[parts[0]] = int(parts[1])
        return depths

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.ctl("stop", timeout=60)
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(Exception):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@contextlib.contextmanager
def private_rabbit() -> Iterator[PrivateRabbit]:
    root = Path(tempfile.mkdtemp(prefix="clientops-rmq-"))
    rabbit = PrivateRabbit(root)
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.shutdown()
        shutil.rmtree(root, ignore_errors=True)


# --- the system on the private servers --------------------------------------------------------


@dataclass
class Faulty:
    """The private servers, the services' databases on them, and the running processes.

    Services outlive a scenario: the next scenario that asks for the same services with the
    same settings gets the running processes (every one alive and ready), its queues purged —
    starting three services costs a minute of a busy 2-core machine. Asked for others, the
    running ones are stopped first.
    """

    pg: PrivatePostgres
    rabbit: PrivateRabbit
    servers: Servers
    log_dir: Path
    system: System | None = None
    env: dict[str, str] = field(default_factory=dict)
    started_as: tuple[Any, ...] | None = None
    migrated: set[str] = field(default_factory=set)

    def start(self, names: Sequence[str], **extra_env: str) -> System:
        env = {"WEB_SEED_DEMO_USERS": "0", **extra_env}
        wanted = (tuple(names), tuple(sorted(env.items())))
        if self.system is not None and self.started_as == wanted and self._all_ready():
            return self.system
        self.stop()
        self.migrate(*names)
        self.env = env
        self.system = start_system(self.servers, self.log_dir,
                                   tuple(service(n) for n in names), extra_env=self.env)
        self.started_as = wanted
        return self.system

    def migrate(self, *names: str) -> None:
        """The named services' databases, created and migrated on first use (a run of the
        billing scenarios alone never pays for the other five)."""
        todo = [n for n in names if n not in self.migrated]
        if not todo:
            return
        asyncio.run(create_databases([self.servers.databases[n] for n in todo], self.pg.dsn))
        for name in todo:
            migrate(service(name), self.servers.databases[name], self.pg.dsn)
            self.migrated.add(name)

    def _all_ready(self) -> bool:
        system = self.running
        return all(p.poll() is None for p in system.processes.values()) and all(
            ready(url, broker=True) for url in system.urls.values())

    def stop(self) -> None:
        """Stop the running services (stopped ones resumed first so they can exit)."""
        if self.system is not None:
            self.resume_all()
            stop_system(self.system)
        self.system, self.started_as = None, None

    @property
    def running(self) -> System:
        assert self.system is not None, "start() the services first"
        return self.system

    def restart(self, name: str, label: str = "restarted") -> None:
        """Start the named service again on its port (after it was killed or stopped), with
        the settings the scenario started it with; ready again within two minutes."""
        restart_service(self.running, name, label=label, timeout=120)

    def resume_all(self) -> None:
        """SIGCONT every service process (a scenario may have stopped one)."""
        for proc in self.running.processes.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGCONT)

    def signal(self, name: str, sig: int) -> None:
        os.kill(self.running.processes[name].pid, sig)

    def dsn(self, name: str) -> str:
        self.migrate(name)  # a scenario may seed a database before it starts the service
        return f"postgresql://postgres@127.0.0.1:{self.pg.port}/{self.servers.databases[name]}"

    def query(self, name: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.dsn(name))
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()
        return asyncio.run(go())


@contextlib.contextmanager
def faulty_servers(log_dir: Path) -> Iterator[Faulty]:
    """A private RabbitMQ node and PostgreSQL cluster; each service's database is created and
    migrated when a scenario first starts that service (or calls ``Faulty.migrate``)."""
    with private_postgres() as pg, private_rabbit() as rabbit:
        run_id = uuid.uuid4().hex[:8]
        servers = Servers(pg_dsn=pg.dsn, amqp_url=rabbit.amqp_url, run_id=run_id,
                          vhost_admin=rabbit.ctl)
        servers.databases = {s.name: f"clientops_{s.name}" for s in SERVICES}
        faulty = Faulty(pg, rabbit, servers, log_dir)  # databases migrated as services start
        try:
            yield faulty
        finally:
            faulty.stop()


def ready(url: str, broker: bool = False) -> bool:
    try:
        r = httpx.get(f"{url}/health/ready", timeout=3)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and (not broker or r.json().get("broker") == "ok")


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last!r})")


def settle(probe: Callable[[], Any], timeout: float, quiet: float = 5.0) -> Any:
    """Quiescence: poll ``probe`` until its value stops changing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = probe(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = probe()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return last
    return last


# --- workload -------------------------------------------------------------------------------

_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn_for(n: int) -> str:
    """A valid organisation INN, unique per ``n`` (< 10^7)."""
    digits = [7, 7, *map(int, f"{n:07d}")]
    check = sum(d * w for d, w in zip(digits, _INN_WEIGHTS, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


@dataclass
class Signed:
    """One item of the signing workload: acknowledged = its sign call answered 2xx."""

    contract_id: str
    acknowledged: bool


class Desk:
    """The contracts API driven like a client that retries: every write carries an
    Idempotency-Key, and a failed call (5xx, connection refused, timeout) is tried again."""

    def __init__(self, faulty: Faulty, deadline_seconds: float = 300.0) -> None:
        system = faulty.running
        self.url = system.urls["contracts"]
        self.headers = faulty.servers.auth("manager1", "manager")
        self.deadline_seconds = deadline_seconds

    def call(self, client: httpx.Client, method: str, path: str, body: Any,
             key: str | None = None) -> httpx.Response:
        deadline = time.monotonic() + self.deadline_seconds
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        while True:
            try:
                r = client.request(method, f"{self.url}{path}", json=body, headers=headers,
                                   timeout=30)
                if r.status_code < 500:
                    return r
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: no answer within the deadline")
            time.sleep(0.5)

    def new_contract(self, client: httpx.Client, n: int, fee: str = "5000.00") -> str:
        tag = uuid.uuid4().hex
        r = self.call(client, "POST", "/api/clients", {
            "name": f"ООО Стойкость {n}", "inn": inn_for(n), "email": f"c{n}@example.ru"},
            key=f"client-{tag}")
        assert r.status_code == 201, r.text
        r = self.call(client, "POST", "/api/contracts", {
            "client_id": r.json()["id"], "kind": "subscription", "starts_on": "2026-12-01",
            "monthly_fee": fee, "auto_renew": False, "standard": True}, key=f"contract-{tag}")
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def sign(self, client: httpx.Client, contract_id: str) -> Signed:
        r = self.call(client, "POST", f"/api/contracts/{contract_id}/sign",
                      {"signed_on": "2026-12-01"})
        if r.status_code == 200:
            return Signed(contract_id, True)
        # an earlier attempt committed but its answer was lost: the contract says so
        assert r.status_code == 409, r.text
        return Signed(contract_id, False)

    def change_fee(self, client: httpx.Client, contract_id: str, fee: str) -> None:
        r = self.call(client, "POST", f"/api/contracts/{contract_id}/fee-change",
                      {"new_fee": fee, "effective_on": "2027-01-01"},
                      key=f"fee-{contract_id}")
        assert r.status_code == 201, r.text

    def status(self, client: httpx.Client, contract_id: str) -> str:
        r = self.call(client, "GET", f"/api/contracts/{contract_id}", None)
        assert r.status_code == 200, r.text
        return str(r.json()["status"])


def in_parallel(fn: Callable[[int], Any], n: int, workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(n)))


def sign_contracts(faulty: Faulty, n: int, base: int, workers: int = 8,
                   then: Callable[[httpx.Client, str], None] | None = None,
                   progress: list[Signed] | None = None) -> list[Signed]:
    """Create and sign ``n`` contracts (INNs from ``base``), ``workers`` at a time; each
    finished item is appended to ``progress`` as it completes."""
    desk = Desk(faulty)
    clients = [httpx.Client() for _ in range(workers)]

    def one(i: int) -> Signed:
        client = clients[i % workers]
        signed = desk.sign(client, desk.new_contract(client, base + i))
        if then is not None:
            then(client, signed.contract_id)
        if progress is not None:
            progress.append(signed)
        return signed
    try:
        return in_parallel(one, n, workers)
    finally:
        for c in clients:
            c.close()


class Background:
    """A workload run in a thread while the test injects faults."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._result = fn()
        except BaseException as exc:
            self._error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self, timeout: float) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"workload not finished within {timeout:.0f}s")
        if self._error is not None:
            raise self._error
        return self._result


def when(progress: Sequence[Any], count: int, workload: Background, timeout: float = 600
         ) -> None:
    """Wait until ``count`` items are done (the moment to inject the next fault)."""
    wait_until(lambda: len(progress) >= count or not workload.running, timeout,
               f"{count} items done")


# --- the checker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Every expected item sorted by what became of it (Jepsen-style)."""

    scenario: str
    expected: int
    ok: int
    lost: int
    duplicated: int
    double_applied: int
    unexpected: int = 0
    lost_ids: tuple[str, ...] = ()
    double_ids: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.double_applied == 0

    def check(self) -> None:
        assert self.passed, (f"{self.scenario}: {self.lost} lost (e.g. {self.lost_ids[:5]}), "
                             f"{self.double_applied} double-applied "
                             f"(e.g. {self.double_ids[:5]})")


def classify(expected_ids: Iterable[Any], observed_rows: Iterable[Any],
             deliveries: Iterable[Any] = (), scenario: str = "") -> Outcome:
    """Sort each expected item: ``ok`` (its effect once), ``lost`` (no effect),
    ``double-applied`` (the effect more than once), ``duplicated`` (delivered or published more
    than once but applied once — harmless, counted to show the dedup at work).

    ``observed_rows``: one id per effect row found (a subscription, a task, an invoice...);
    ``deliveries``: one id per delivery/publication seen, where the scenario can see them.
    Observed ids nobody expected are counted as ``unexpected``.
    """
    expected = [str(i) for i in expected_ids]
    effects = Counter(str(r) for r in observed_rows)
    seen = Counter(str(d) for d in deliveries)
    want = set(expected)
    lost = tuple(i for i in expected if effects[i] == 0)
    double = tuple(i for i in expected if effects[i] > 1)
    duplicated = sum(1 for i in expected if effects[i] == 1 and seen[i] > 1)
    return Outcome(scenario=scenario, expected=len(expected),
                   ok=len(expected) - len(lost) - len(double), lost=len(lost),
                   duplicated=duplicated, double_applied=len(double),
                   unexpected=sum(1 for i in effects if i not in want),
                   lost_ids=lost, double_ids=double)


RESULTS: list[Outcome] = []
RESULTS_FILE = os.environ.get("CLIENTOPS_FAULT_RESULTS")
"""Where a run writes its outcomes as JSON (``tests/reliability/run.py`` joins two runs)."""


def save_results(path: str | Path) -> None:
    Path(path).write_text(json.dumps([dataclasses.asdict(o) for o in RESULTS],
                                     ensure_ascii=False, indent=1))


def load_results(path: str | Path) -> list[Outcome]:
    if not Path(path).exists():
        return []
    return [Outcome(**{**o, "lost_ids": tuple(o["lost_ids"]),
                       "double_ids": tuple(o["double_ids"])})
            for o in json.loads(Path(path).read_text())]


def record(outcome: Outcome) -> Outcome:
    """Keep the outcome for the end-of-run table, then assert it passed."""
    RESULTS.append(outcome)
    print(table([outcome]))
    return outcome


def table(outcomes: Sequence[Outcome]) -> str:
    head = ("scenario", "expected", "ok", "lost", "duplicated", "double-applied", "result")
    rows = [(o.scenario, str(o.expected), str(o.ok), str(o.lost), str(o.duplicated),
             str(o.double_applied), "PASS" if o.passed else "FAIL") for o in outcomes]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


# --- what the consumers did -----------------------------------------------------------------


def subscriptions(faulty: Faulty, contract_ids: Sequence[str]) -> list[str]:
    """One contract id per subscription billing opened for those contracts."""
    return [r[0] for r in faulty.query(
        "billing", "SELECT contract_id::text FROM subscription "
        "WHERE contract_id = ANY($1::uuid[])", list(contract_ids))]


def applied(faulty: Faulty, contract_ids: Sequence[str]) -> int:
    """How many of those contracts billing opened a subscription for."""
    return len(subscriptions(faulty, contract_ids))


def welcome_tasks(faulty: Faulty, contract_ids: Sequence[str]) -> list[str]:
    """One contract id per welcome-call task notifications created (any state)."""
    keys = [f"welcome_call:{c}" for c in contract_ids]
    return [r[0].split(":", 1)[1] for r in faulty.query(
        "notifications", "SELECT dedupe_key FROM task WHERE kind = 'welcome_call' "
        "AND dedupe_key = ANY($1::text[])", keys)]


def converge(probe: Callable[[], int], target: int, timeout: float, quiet: float = 15.0
             ) -> int:
    """Wait for ``probe`` to reach ``target``; if it stalls short of it for ``quiet`` seconds
    (quiescence) or time runs out, return what it reached — the checker sorts the rest."""
    deadline = time.monotonic() + timeout
    last, since = probe(), time.monotonic()
    while last < target and time.monotonic() < deadline:
        time.sleep(1.0)
        now = probe()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def dead_letters(faulty: Faulty, *services: str) -> dict[str, int]:
    depths = faulty.rabbit.queue_depths()
    return {s: depths.get(f"{s}.events.dlq", 0) for s in services}


def signing_envelopes(n: int, tag: str) -> list[Any]:
    """``n`` contract signings as contracts' relay would publish them (one aggregate step
    each), for scenarios that drive a consumer straight from the broker."""
    from datetime import date

    from clientops_shared.events import Envelope
    from clientops_shared.events import contracts as c

    return [Envelope.wrap(c.ContractSigned(
        contract_id=uuid.uuid4(), number=f"{tag}-{i:06d}", client_id=uuid.uuid4(),
        client_name=f"ООО Поток {i}", client_inn="7707083893", kind="subscription",
        status="active", signed_on=date(2026, 12, 1), starts_on=date(2026, 12, 1),
        monthly_fee="5000.00"), "contracts") for i in range(n)]


def publish(faulty: Faulty, envelopes: Sequence[Any], batch: int = 200) -> list[str]:
    """Publish as contracts' relay would (persistent, confirmed), ``batch`` confirms awaited
    together rather than one round trip each (10,000 events in seconds, not minutes); the
    order within a batch is not promised — use it for events of distinct aggregates."""
    from clientops_shared import messaging

    async def go() -> list[str]:
        import aio_pika

        connection = await aio_pika.connect(faulty.servers.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(messaging.EXCHANGE)
            for start in range(0, len(envelopes), batch):
                await asyncio.gather(*(exchange.publish(aio_pika.Message(
                    e.model_dump_json().encode(), content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(e.event_id),
                    type=e.type), routing_key=e.type) for e in envelopes[start:start + batch]))
        return [str(e.event_id) for e in envelopes]
    return asyncio.run(go())


def contract_ids(envelopes: Sequence[Any]) -> list[str]:
    return [str(e.payload["contract_id"]) for e in envelopes]


def inbox_events(faulty: Faulty, service_name: str, event_ids: Sequence[str]) -> list[str]:
    """One event id per inbox row (the consumer's record that it applied the event)."""
    return [r[0] for r in faulty.query(
        service_name, "SELECT event_id::text FROM inbox_message "
        "WHERE event_id = ANY($1::uuid[])", list(event_ids))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
