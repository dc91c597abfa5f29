"""One service process: FastAPI app + its event consumer + its outbox relay + its jobs.

Everything is built here from settings (no module-level engines or brokers), so tests can
build as many runtimes as they like against their own databases and virtual hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from prometheus_client import Gauge, Histogram

from clientops_shared import messaging, telemetry
from clientops_shared.auth import Principal, require_roles
from clientops_shared.db import make_engine, make_sessions, shared_tables
from clientops_shared.http import install_correlation, install_metrics, install_problem_handlers
from clientops_shared.messaging import EventHandlers
from clientops_shared.outbox import OutboxRelay, backoff
from clientops_shared.settings import ServiceSettings
from clientops_shared.uow import UnitOfWork

log = logging.getLogger("clientops.runtime")
JOB_DURATION = Histogram("clientops_job_duration_seconds", "Periodic job run time",
                         ["service", "job", "outcome"])
CONSUMER_LAG = Gauge("clientops_consumer_lag_messages", "Events waiting in the service queue",
                     ["service"])
DLQ_DEPTH = Gauge("clientops_dead_letters", "Events in the service's dead-letter queue",
                  ["service"])
BROKER_UP = Gauge("clientops_broker_up",
                  "1 while the broker answers; 0 = degraded (writes wait in the outbox)",
                  ["service"])
# module level: FastAPI resolves string annotations in the module's namespace
Admin = Annotated[Principal, Depends(require_roles("admin"))]
HeadOrAdmin = Annotated[Principal, Depends(require_roles("head", "admin"))]
U = TypeVar("U", bound=UnitOfWork)


@dataclass(frozen=True)
class Periodic:
    """A job the process wakes every ``every_seconds``; the job decides whether today is due."""

    name: str
    every_seconds: float
    run: Callable[[], Awaitable[Any]]


class ServiceRuntime(Generic[U]):
    def __init__(self, settings: ServiceSettings, metadata: sa.MetaData, uow_class: type[U],
                 handlers: EventHandlers[U] | None = None,
                 periodic: Sequence[Periodic] = (),
                 on_start: Sequence[Callable[[], Awaitable[Any]]] = ()) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.tracer_provider = telemetry.setup_tracing(self.service, settings.otlp_endpoint)
        self.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.sessions = make_sessions(self.engine)
        self.tables = shared_tables(metadata)
        self.uow_class = uow_class
        self.handlers = handlers
        self.periodic = list(periodic)
        self.on_start = list(on_start)
        self.relay = OutboxRelay(self.engine, self.tables.outbox, settings.amqp_url, self.service,
                                 batch=settings.outbox_batch,
                                 poll_seconds=settings.outbox_poll_seconds)
        self.broker: RabbitBroker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.broker_started = asyncio.Event()
        self.failures = messaging.ConsumerFailures(self.engine, self.tables.consumer_failure,
                                                   self.service)

    @property
    def consumer_prefetch(self) -> int:
        """Handler concurrency: the configured prefetch, or the database pool's size."""
        return self.settings.consumer_prefetch or self.settings.db_pool_size

    def uow(self) -> U:
        return self.uow_class(self.sessions, self.tables, self.service, on_commit=self.relay.wake)

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        for hook in self.on_start:
            await hook()
        self._tasks.append(asyncio.create_task(self._run_broker(), name=f"{self.service}-broker"))
        if self.settings.relay_enabled:
            self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.service}-relay"))
        self._tasks.append(asyncio.create_task(self._watch_queues(),
                                               name=f"{self.service}-queue-metrics"))
        if self.settings.jobs_enabled:
            for job in self.periodic:
                self._tasks.append(asyncio.create_task(self._run_periodic(job),
                                                       name=f"{self.service}-{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await self.broker.stop()
            self.broker = None
        await self.engine.dispose()

    async def _run_broker(self) -> None:
        """Connect, declare the topology before any traffic, then consume; retry while away."""
        attempt = 0
        while True:
            broker = messaging.make_broker(self.settings.amqp_url, self.tracer_provider)
            if self.handlers is not None and self.settings.consumers_enabled:
                messaging.subscribe(broker, self.handlers, self.uow, self.settings.delivery_limit,
                                    self.consumer_prefetch,
                                    retry_delays=self.settings.retry_delays,
                                    failures=self.failures, database_up=self.database_up,
                                    pause_max_seconds=self.settings.consumer_pause_max_seconds)
            try:
                await messaging.declare_topology(self.settings.amqp_url,
                                                 self.settings.delivery_limit,
                                                 retry_delays=self.settings.retry_delays)
                await broker.start()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await broker.stop()
                raise
            except Exception as exc:
                attempt += 1
                log.warning("broker not available (attempt %s): %s", attempt, exc)
                with contextlib.suppress(Exception):
                    await broker.stop()
                await asyncio.sleep(backoff(attempt, base=0.5, cap=10))
                continue
            self.broker = broker
            self.broker_started.set()
            log.info("broker connected, topology declared, consuming")
            return  # aio-pika's robust connection reconnects by itself from here on

    async def _run_periodic(self, job: Periodic) -> None:
        while True:
            started = time.perf_counter()
            outcome = "ok"
            try:
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                outcome = "failed"
                log.exception("periodic job %s failed; it runs again next tick", job.name)
            JOB_DURATION.labels(self.service, job.name, outcome).observe(
                time.perf_counter() - started)
            await asyncio.sleep(job.every_seconds)

    async def _watch_queues(self, every_seconds: float = 15.0) -> None:
        """Consumer lag and dead-letter depth of this service's queues, for /metrics."""
        if self.service not in messaging.CONSUMERS:
            return
        while True:
            try:
                depths = await messaging.queue_depths(self.settings.amqp_url, self.service)
                CONSUMER_LAG.labels(self.service).set(depths["queue"])
                DLQ_DEPTH.labels(self.service).set(depths["dlq"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("queue depth check failed: %s", exc)
            await asyncio.sleep(every_seconds)

    async def database_up(self) -> bool:
        try:
            async with asyncio.timeout(5):
                async with self.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def readiness(self) -> dict[str, str]:
        """The database decides readiness; a broker outage only degrades the service (writes
        wait in the outbox, consumers resume on reconnect)."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {type(exc).__name__}"
        try:
            ok = self.broker is not None and await self.broker.ping(timeout=2)
            checks["broker"] = "ok" if ok else "degraded: not connected"
        except Exception as exc:
            checks["broker"] = f"degraded: {type(exc).__name__}"
        BROKER_UP.labels(self.service).set(1 if checks["broker"] == "ok" else 0)
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    # --- HTTP --------------------------------------------------------------------------------
    def create_app(self, title: str, routers: Sequence[APIRouter], **state: Any) -> FastAPI:
        app = FastAPI(title=title, lifespan=self.lifespan)
        app.state.runtime = self
        app.state.jwt_secret = self.settings.jwt_secret
        for key, value in state.items():
            setattr(app.state, key, value)
        install_problem_handlers(app)
        install_correlation(app)
        install_metrics(app)
        app.include_router(self._ops_router())
        for router in routers:
            app.include_router(router)
        telemetry.instrument(app, self.tracer_provider)
        return app

    def _ops_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/health/live")
        async def live() -> dict[str, str]:
            return {"status": "ok", "service": self.service}

        @router.get("/health/ready")
        async def ready() -> JSONResponse:
            checks = await self.readiness()
            ready = checks["database"] == "ok"
            status = ("ok" if all(v == "ok" for v in checks.values())
                      else "degraded" if ready else "unavailable")
            return JSONResponse({"status": status, **checks}, status_code=200 if ready else 503)

        @router.get("/api/admin/dead-letters")
        async def dead_letters(_: Admin, limit: int = 50) -> list[dict[str, Any]]:
            if self.service not in messaging.CONSUMERS:
                return []  # a service that consumes nothing has no dead-letter queue
            return await messaging.peek_dead_letters(self.settings.amqp_url, self.service, limit)

        @router.post("/api/admin/dead-letters/replay")
        async def replay(_: Admin, limit: int = 1000) -> dict[str, int]:
            if self.service not in messaging.CONSUMERS:
                return {"replayed": 0}
            return {"replayed": await messaging.replay_dead_letters(self.settings.amqp_url,
                                                                    self.service, limit)}

        @router.get("/api/admin/consumer-failures")
        async def consumer_failures(_: Admin, open_only: bool = True,
                                    limit: int = Query(100, ge=1, le=1000),
                                    offset: int = Query(0, ge=0, le=1_000_000)
                                    ) -> list[dict[str, Any]]:
            """Events this service failed to handle: id, type, error, what became of them."""
            return await self.failures.listing(open_only, limit, offset)

        @router.get("/api/admin/outbox")
        async def outbox(_: Admin) -> dict[str, Any]:
            o = self.tables.outbox
            async with self.engine.connect() as conn:
                pending, failing = (await conn.execute(sa.select(
                    sa.func.count(), sa.func.count().filter(o.c.attempts > 0)
                ).where(o.c.sent_at.is_(None)))).one()
            return {"pending": pending, "failing": failing}

        @router.get("/api/admin/audit")
        async def audit(_: HeadOrAdmin, entity: str | None = None,
                        entity_id: str | None = None, actor: str | None = None,
                        limit: int = Query(100, ge=1, le=1000),
                        offset: int = Query(0, ge=0)) -> list[dict[str, Any]]:
            """Who changed what and when, with the state before and after."""
            a = self.tables.audit
            query = sa.select(a).order_by(a.c.id.desc()).limit(limit).offset(offset)
            if entity:
                query = query.where(a.c.entity == entity)
            if entity_id:
                query = query.where(a.c.entity_id == entity_id)
            if actor:
                query = query.where(a.c.actor == actor)
            async with self.engine.connect() as conn:
                return [dict(r) for r in (await conn.execute(query)).mappings()]

        return router


def runtime_of(request: Request) -> ServiceRuntime[Any]:
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    return runtime
