"""pytest plugin: real PostgreSQL and RabbitMQ for integration, e2e and browser tests.

Servers: testcontainers where a Docker engine answers, else the local servers named by
``CLIENTOPS_PG_DSN`` / ``CLIENTOPS_AMQP_URL`` (localhost defaults). Each test run gets its own
databases (``clientops_<service>_t<run>``) and its own RabbitMQ virtual host, so runs never
see each other's data; both are dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
import aio_pika.exceptions
import httpx
import pytest

from clientops_shared.auth import issue_token
from clientops_shared.devtools import SERVICES, Service, create_databases, drop_databases, migrate
from clientops_shared.settings import (
    DEFAULT_AMQP_URL,
    DEFAULT_PG_DSN,
    DEV_JWT_SECRET,
    DEV_MODE_FLAG,
)

# tests run the services with the public development secret: the explicit dev flag
os.environ.setdefault(DEV_MODE_FLAG, "1")


def _docker_engine() -> bool:
    if os.environ.get("CLIENTOPS_NO_CONTAINERS") == "1" or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class Servers:
    pg_dsn: str
    amqp_url: str  # with this run's virtual host
    run_id: str
    databases: dict[str, str] = field(default_factory=dict)
    jwt_secret: str = DEV_JWT_SECRET
    vhost_admin: Any = None  # callable(*rabbitmqctl args) on the broker's host

    def with_private_vhost(self, name: str) -> Servers:
        """The same servers and databases with a RabbitMQ virtual host of its own."""
        user = urlsplit(self.amqp_url).username or "guest"
        self.vhost_admin("add_vhost", name)
        self.vhost_admin("set_permissions", "-p", name, user, ".*", ".*", ".*")
        return Servers(pg_dsn=self.pg_dsn, amqp_url=_with_vhost(self.amqp_url, name),
                       run_id=self.run_id, databases=dict(self.databases),
                       jwt_secret=self.jwt_secret, vhost_admin=self.vhost_admin)

    def env(self) -> dict[str, str]:
        """Environment that points every service process at this run's servers."""
        env = {"CLIENTOPS_PG_DSN": self.pg_dsn, "CLIENTOPS_AMQP_URL": self.amqp_url,
               "CLIENTOPS_JWT_SECRET": self.jwt_secret}
        for service in SERVICES:
            env[f"{service.env_prefix}DATABASE"] = self.databases[service.name]
        return env

    def token(self, username: str, role: str) -> str:
        # long-lived so a slow run's cached headers stay valid; web's own tokens live 15 min
        return issue_token(self.jwt_secret, username, role, ttl=timedelta(hours=12))

    def auth(self, username: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, role)}"}


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, ""))


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    run_id = uuid.uuid4().hex[:8]
    stack = contextlib.ExitStack()
    vhost: str | None = None
    if _docker_engine():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.rabbitmq import RabbitMqContainer

        pg = stack.enter_context(PostgresContainer("postgres:15", driver=None))
        rabbit = stack.enter_context(RabbitMqContainer("rabbitmq:3.10-management"))
        pg_dsn = pg.get_connection_url()
        amqp_url = (f"amqp://{rabbit.username}:{rabbit.password}@"
                    f"{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(rabbit.port)}/")

        def admin(*args: str) -> None:
            rabbit.exec(["rabbitmqctl", "-q", *args])
    else:
        pg_dsn = os.environ.get("CLIENTOPS_PG_DSN", DEFAULT_PG_DSN)
        base_amqp = os.environ.get("CLIENTOPS_AMQP_URL", DEFAULT_AMQP_URL)
        vhost = f"clientops-test-{run_id}"
        user = urlsplit(base_amqp).username or "guest"
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        amqp_url = _with_vhost(base_amqp, vhost)
        admin = _rabbitmqctl
    s = Servers(pg_dsn=pg_dsn, amqp_url=amqp_url, run_id=run_id, vhost_admin=admin)
    s.databases = {svc.name: f"clientops_{svc.name}_t{run_id}" for svc in SERVICES}
    asyncio.run(create_databases(list(s.databases.values()), pg_dsn))
    try:
        for svc in SERVICES:
            migrate(svc, s.databases[svc.name], pg_dsn)
        yield s
    finally:
        asyncio.run(drop_databases(list(s.databases.values()), pg_dsn))
        if vhost is not None:
            with contextlib.suppress(Exception):
                _rabbitmqctl("delete_vhost", vhost)
        stack.close()


def settings_for(servers: Servers, service: str, **overrides: Any) -> Any:
    """Build the named service's settings pointed at this run's database and vhost."""
    import importlib

    svc = next(s for s in SERVICES if s.name == service)
    config = importlib.import_module(f"{svc.package}.config")
    cls = next(v for k, v in vars(config).items() if k.endswith("Settings")
               and k != "ServiceSettings")
    values = {"database": servers.databases[service], "amqp_url": servers.amqp_url,
              "jwt_secret": servers.jwt_secret, **overrides}
    with _env({"CLIENTOPS_PG_DSN": servers.pg_dsn}):
        settings = cls(**values)
        _ = settings.database_url  # resolve now, while the env var is set
    settings.database_url_override = settings.database_url
    return settings


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.asynccontextmanager
async def running_app(servers: Servers, service: str, **overrides: Any
                      ) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """A service built in this process (lifespan started) with an HTTP client on it."""
    import importlib

    from asgi_lifespan import LifespanManager

    svc = next(s for s in SERVICES if s.name == service)
    bootstrap = importlib.import_module(f"{svc.package}.bootstrap")
    app = bootstrap.build(settings_for(servers, service, **overrides))
    # hang guards, not speed checks: at load 20 a billing stopping its worker pool took over
    # 30 s (a fresh-clone run at four suites at once)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=120):
        runtime = app.state.runtime
        await asyncio.wait_for(runtime.broker_started.wait(), 120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
            yield app, client


async def publish_envelopes(amqp_url: str, envelopes: Any) -> list[uuid.UUID]:
    """Publish event envelopes straight to the events exchange (persistent, confirmed), as
    the outbox relay would, in the given order; returns their ids."""
    from clientops_shared import messaging

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        for envelope in envelopes:
            await exchange.publish(aio_pika.Message(
                envelope.model_dump_json().encode(), content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(envelope.event_id), type=envelope.type),
                routing_key=envelope.type)
    return [e.event_id for e in envelopes]


def numbered_envelopes(events: Any, producer: str = "contracts") -> list[Any]:
    """Envelopes of one aggregate's steps numbered 1, 2, ... as the producer's unit of work
    numbers them at commit (for tests that publish them in another order)."""
    from clientops_shared.events import Envelope

    out = []
    for version, event in enumerate(events, start=1):
        envelope = Envelope.wrap(event, producer)
        envelope.aggregate_version = version
        out.append(envelope)
    return out


class NoDatabaseUnitOfWork:
    """For consumer tests whose handlers touch no database (patch ``inbox.claim`` too)."""

    session: Any = None
    tables: Any = type("Tables", (), {"inbox": None})()

    async def __aenter__(self) -> NoDatabaseUnitOfWork:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    async def commit(self) -> None:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class System:
    """Every service started as its own process (``python -m <package>``)."""

    servers: Servers
    urls: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]]
    log_dir: Path
    # the environment the services were started with: a restarted one gets the same settings
    env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, username: str | None = None, role: str | None = None
               ) -> httpx.Client:
        headers = self.servers.auth(username, role) if username and role else {}
        return httpx.Client(base_url=self.urls[service], headers=headers, timeout=30)


def start_system(servers: Servers, log_dir: Path, services: tuple[Service, ...] = SERVICES,
                 extra_env: dict[str, str] | None = None) -> System:
    env = {**os.environ, **servers.env(), "CLIENTOPS_LOG_JSON": "1", **(extra_env or {})}
    urls: dict[str, str] = {}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    log_dir.mkdir(parents=True, exist_ok=True)
    for svc in services:
        port = free_port()
        env[f"{svc.env_prefix}PORT"] = str(port)
        urls[svc.name] = f"http://127.0.0.1:{port}"
    for svc in services:
        log = (log_dir / f"{svc.name}.log").open("wb")
        processes[svc.name] = subprocess.Popen([sys.executable, "-m", svc.package], env=env,
                                               stdout=log, stderr=subprocess.STDOUT)
    system = System(servers, urls, processes, log_dir, env)
    # generous: on a loaded 2-core machine importing six services can take over a minute
    deadline = time.monotonic() + 240
    pending = set(urls)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            if processes[name].poll() is not None:
                stop_system(system)
                raise RuntimeError(f"{name} exited at start; see {log_dir / name}.log")
            try:
                # ready (database) and connected to the broker, so its topology is declared
                r = httpx.get(f"{urls[name]}/health/ready", timeout=2)
                if r.status_code == 200 and r.json().get("broker") == "ok":
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        stop_system(system)
        raise RuntimeError(f"not ready in time: {sorted(pending)}; logs in {log_dir}")
    return system


def restart_service(system: System, name: str, *, label: str = "restarted",
                    timeout: float = 240.0) -> None:
    """Start one service of a running system again, on its port and with the settings the
    system was started with (a restart with other settings changes what later tests see).

    Its output goes to ``<name>-<label>.log`` in the system's log folder (``-2``, ``-3``... when
    the service is restarted again under the same label); ``timeout``: seconds to be ready
    (database and broker) again."""
    svc = next(s for s in SERVICES if s.name == name)
    old = system.processes[name]
    if old.poll() is None:
        old.terminate()
        old.wait(timeout=30)
    env = {**system.env, f"{svc.env_prefix}PORT": system.urls[name].rsplit(":", 1)[1]}
    path = system.log_dir / f"{name}-{label}.log"
    again = itertools.count(2)
    while path.exists():
        path = system.log_dir / f"{name}-{label}-{next(again)}.log"
    log = path.open("wb")
    system.processes[name] = subprocess.Popen([sys.executable, "-m", svc.package], env=env,
                                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if system.processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited at restart; see {path}")
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.get(f"{system.urls[name]}/health/ready", timeout=2)
            if r.status_code == 200 and r.json().get("broker") == "ok":
                return
        time.sleep(0.3)
    raise RuntimeError(f"{name} not ready again within {timeout:.0f} s; see {path}")


def stop_system(system: System) -> None:
    for proc in system.processes.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in system.processes.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def eventually(check: Any, timeout: float = 20.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns a truthy value (asynchronous flows settle over time)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def eventually_async(check: Any, timeout: float = 20.0,  # noqa: ASYNC109
                           interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@pytest.fixture(scope="session")
def span_exporter() -> Any:
    """Every span this test process finishes, in memory (one provider per process: the one
    the services install, or this one, which they then use)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def private_broker(servers: Servers) -> Iterator[Servers]:
    """For a test whose events must not reach other tests' consumers (e.g. bulk runs)."""
    name = f"clientops-test-{servers.run_id}-{uuid.uuid4().hex[:6]}"
    private = servers.with_private_vhost(name)
    try:
        yield private
    finally:
        with contextlib.suppress(Exception):
            servers.vhost_admin("delete_vhost", name)


@pytest.fixture
def servers_of_its_own(servers: Servers) -> Iterator[Servers]:
    """The same servers with databases and a RabbitMQ virtual host of the test's own, for a
    test that reads everything there is (a walk over every page, a sweep of every row): what
    other tests left in the run's databases must not decide whether it passes."""
    tag = uuid.uuid4().hex[:6]
    vhost = f"clientops-test-{servers.run_id}-{tag}"
    own = servers.with_private_vhost(vhost)
    own.databases = {svc.name: f"clientops_{svc.name}_t{servers.run_id}_{tag}"
                     for svc in SERVICES}
    try:
        asyncio.run(create_databases(list(own.databases.values()), own.pg_dsn))
        for svc in SERVICES:
            migrate(svc, own.databases[svc.name], own.pg_dsn)
        yield own
    finally:
        asyncio.run(drop_databases(list(own.databases.values()), own.pg_dsn))
        with contextlib.suppress(Exception):
            servers.vhost_admin("delete_vhost", vhost)


@pytest.fixture(scope="session")
def system(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system as processes (demo users seeded), shared by e2e and browser tests."""
    log_dir = Path(os.environ.get("CLIENTOPS_TEST_LOGS", str(tmp_path_factory.mktemp("logs"))))
    # a vhost of its own: what integration tests published earlier never reaches it
    vhost = f"clientops-test-{servers.run_id}-system"
    private = servers.with_private_vhost(vhost)
    try:
        # inside the try: a system that fails to start must not leave its vhost behind
        started = start_system(private, log_dir, extra_env={"WEB_SEED_DEMO_USERS": "1",
                                                           # invoices issued today fall due later
                                                           "BILLING_DUNNING_AHEAD_DAYS": "31"})
        try:
            yield started
        finally:
            stop_system(started)
    finally:
        with contextlib.suppress(Exception):
            servers.vhost_admin("delete_vhost", vhost)


async def purge_service_queues(amqp_url: str, *, dead_letters: bool = True) -> None:
    """Empty every service's event queue (and its dead-letter queue unless told not to), over
    one AMQP connection."""
    from clientops_shared import messaging

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for service in messaging.CONSUMERS:
            names = [messaging.queue_name(service)]
            if dead_letters:
                names.append(messaging.dlq_name(service))
            for name in names:
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                    await queue.purge()
                except aio_pika.exceptions.ChannelClosed:
                    pass  # not declared yet in this run's vhost
                finally:
                    if not channel.is_closed:
                        await channel.close()


@pytest.fixture(autouse=True)
def _no_events_from_earlier_tests(request: pytest.FixtureRequest) -> None:
    """Integration tests share the run's vhost: drop what earlier tests left in the queues.

    Not for tests on the running ``system``, whose processes consume continuously.
    """
    if "servers" in request.fixturenames and "system" not in request.fixturenames:
        servers: Servers = request.getfixturevalue("servers")
        asyncio.run(purge_service_queues(servers.amqp_url))


_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
# a generator of its own: pytest-randomly reseeds the global one before every test, which
# would give every test the same "random" INNs
_rng = random.Random()


def random_inn() -> str:
    """A random organisation INN with a valid check digit (region 77): tests that share a
    database never collide on the unique INN."""
    digits = [7, 7] + [_rng.randrange(10) for _ in range(7)]
    check = sum(d * w for d, w in zip(digits, _INN_WEIGHTS, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


class HeavyWorkWatch:
    """Where CPU-heavy work runs while a request is served in this process (issue 9 §4).

    A sampler thread looks at every other thread's stack every few milliseconds and keeps the
    names of the functions it finds; a heartbeat task on the loop records the longest time the
    loop missed its beat. ``ran("parse_statement")`` is true if that function ran in this
    process at all — on the loop or in a worker thread (where it would hold the GIL and starve
    the loop); work moved to a worker process is never seen. No wall-clock bound is asserted:
    the stall is a figure to report, the samples are the evidence.

    ``longest_stall`` is wall-clock time between two beats, which on a loaded machine includes
    the time the OS ran other processes; ``longest_busy`` is the loop thread's own CPU time
    between two beats (the longest stretch of work the loop did without a pause), which load
    does not inflate. ``busy_in`` keeps, by the loop's innermost frames, the longest such
    stretch the sampler caught there: where the loop works without a pause.
    """

    def __init__(self, interval: float = 0.002) -> None:
        import threading

        self.interval = interval
        self.functions: set[str] = set()
        self.longest_stall = 0.0
        self.longest_busy = 0.0
        self.stalled_in: dict[str, float] = {}  # the loop's innermost frames when it stalled
        self.busy_in: dict[str, float] = {}  # ... when it had worked long without a pause
        self._loop_thread = 0
        self._loop_clock = time.CLOCK_THREAD_CPUTIME_ID
        self._beat = time.monotonic()
        self._beat_cpu = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._heart: asyncio.Task[None] | None = None

    def ran(self, *names: str) -> bool:
        return any(n in self.functions for n in names)

    def _sample(self) -> None:
        import threading

        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            stall = time.monotonic() - self._beat
            busy = time.clock_gettime(self._loop_clock) - self._beat_cpu
            self.longest_stall = max(self.longest_stall, stall)
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                if ident == self._loop_thread and (stall > 0.05 or busy > 0.02):
                    where = " < ".join(f"{g.f_code.co_name}:{g.f_lineno}" for g in
                                       _frames(frame, 6))
                    if stall > 0.05:
                        self.stalled_in[where] = max(self.stalled_in.get(where, 0.0), stall)
                    if busy > 0.02:
                        self.busy_in[where] = max(self.busy_in.get(where, 0.0), busy)
                f: Any = frame
                while f is not None:
                    self.functions.add(f.f_code.co_name)
                    f = f.f_back

    async def _heartbeat(self) -> None:
        self._beat_cpu = time.thread_time()
        while True:
            now, cpu = time.monotonic(), time.thread_time()
            # the loop's own view too: a C call holding the GIL hides a stall from the sampler
            self.longest_stall = max(self.longest_stall, now - self._beat - 0.005)
            self.longest_busy = max(self.longest_busy, cpu - self._beat_cpu)
            self._beat, self._beat_cpu = now, cpu
            await asyncio.sleep(0.005)

    async def __aenter__(self) -> HeavyWorkWatch:
        import threading

        self._loop_thread = threading.get_ident()
        self._loop_clock = time.pthread_getcpuclockid(self._loop_thread)
        self._heart = asyncio.create_task(self._heartbeat())
        await asyncio.sleep(0)
        self._sampler.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._stop.set()
        self._sampler.join()
        if self._heart is not None:
            self._heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heart


def _frames(frame: Any, depth: int) -> list[Any]:
    out: list[Any] = []
    while frame is not None and len(out) < depth:
        out.append(frame)
        frame = frame.f_back
    return out
