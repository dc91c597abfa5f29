"""One service process: FastAPI app + its event consumer + its outbox relay + its jobs.

Everything is built here from settings (no module-level engines or brokers), so tests can
build as many runtimes as they like against their own databases and virtual hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from prometheus_client import Gauge, Histogram
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from clientops_shared import context, messaging, observability, revocation, telemetry
from clientops_shared.auth import Principal, require_roles
from clientops_shared.db import (
    make_engine,
    make_read_sessions,
    make_sessions,
    read_engine,
    shared_tables,
)
from clientops_shared.dead_letters import MAX_CAP, DeadLetters, Selection
from clientops_shared.errors import NotFound
from clientops_shared.http import install_correlation, install_metrics, install_problem_handlers
from clientops_shared.messaging import EventHandlers
from clientops_shared.outbox import OutboxRelay, backoff
from clientops_shared.settings import ServiceSettings, check_secrets
from clientops_shared.types import MAX_OFFSET
from clientops_shared.uow import UnitOfWork

log = logging.getLogger("clientops.runtime")
# the job's label is job_name: "job" is the label Prometheus gives every scraped series (its
# scrape job), so a metric label "job" would be renamed exported_job and never match a rule
JOB_DURATION = Histogram("clientops_job_duration_seconds", "Periodic job run time",
                         ["service", "job_name", "outcome"])
CONSUMER_LAG = Gauge("clientops_consumer_lag_messages", "Events waiting in the service queue",
                     ["service"])
DLQ_DEPTH = Gauge("clientops_dead_letters", "Events in the service's dead-letter queue",
                  ["service"])
BROKER_UP = Gauge("clientops_broker_up",
                  "1 while the broker answers; 0 = degraded (writes wait in the outbox)",
                  ["service"])
# module level: FastAPI resolves string annotations in the module's namespace
Admin = Annotated[Principal, Depends(require_roles("admin"))]
EventTypeQuery = Annotated[str | None, Query(max_length=200, pattern=r"^[a-z0-9_.]+$")]
MessageIdQuery = Annotated[str | None, Query(max_length=200)]
SinceQuery = Annotated[AwareDatetime | None, Query(description="died at or after (ISO 8601)")]
HeadOrAdmin = Annotated[Principal, Depends(require_roles("head", "admin"))]
U = TypeVar("U", bound=UnitOfWork)


class DeadLetterAction(BaseModel):
    """Which dead letters to replay or drop (ids, or a type and/or since), how many at most,
    and why (kept in the audit log)."""

    message_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_CAP)
    type: Annotated[str, Field(max_length=200, pattern=r"^[a-z0-9_.]+$")] | None = None
    since: AwareDatetime | None = None
    limit: int = Field(default=100, ge=1, le=MAX_CAP)
    reason: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _says_which(self) -> DeadLetterAction:
        if not (self.message_ids or self.type or self.since):
            raise ValueError("name the messages: message_ids, or type and/or since")
        return self

    def selection(self) -> Selection:
        return Selection(frozenset(self.message_ids), self.type, self.since)


@dataclass(frozen=True)
class Periodic:
    """A job the process wakes every ``every_seconds``; the job decides whether today is due."""

    name: str
    every_seconds: float
    run: Callable[[], Awaitable[Any]]


def preload(*modules: str) -> Callable[[], Awaitable[None]]:
    """An ``on_start`` hook: import slow modules (WeasyPrint takes seconds) in a thread of their
    own while the service starts, so that the first document someone downloads is not the one
    that waits for the import (it did past the web's upstream timeout: a 503)."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the route that needs it reports the failure
                log.exception("preloading %s failed", name)

    async def hook() -> None:
        threading.Thread(target=load, name="preload", daemon=True).start()

    return hook


class ServiceRuntime(Generic[U]):
    def __init__(self, settings: ServiceSettings, metadata: sa.MetaData, uow_class: type[U],
                 handlers: EventHandlers[U] | None = None,
                 periodic: Sequence[Periodic] = (),
                 on_start: Sequence[Callable[[], Awaitable[Any]]] = ()) -> None:
        self.settings = settings
        self.service = settings.service_name
        check_secrets(settings)
        self.tracer_provider = telemetry.setup_tracing(self.service, settings.otlp_endpoint)
        self.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.sessions = make_sessions(self.engine)
        # the read side: no BEGIN/ROLLBACK (sessions, or Core connections for hot reads)
        self.reads = make_read_sessions(self.engine)
        self.read_engine = read_engine(self.engine)
        self.tables = shared_tables(metadata)
        self.uow_class = uow_class
        self.handlers = handlers
        self.revocations = revocation.Revocations(self.engine,
                                                  revocation.revocation_table(metadata))
        if handlers is not None:
            revocation.subscribe(handlers, self.revocations.table, self.revocations)
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

    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.settings.amqp_url, self.service, self.engine, self.tables.audit,
                           self.tables.consumer_failure)

    @property
    def consumer_prefetch(self) -> int:
        """Events in flight: the configured prefetch, or by default one transaction per pool
        connection (the pool's size), each of ``consumer_group`` events."""
        return (self.settings.consumer_prefetch
                or self.settings.db_pool_size * self.settings.consumer_group)

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
            # the event log line and metrics; failures are on record in consumer_failure
            # (messaging), which the dead-letter view reads
            broker.add_middleware(observability.consumer_observer(self.service))
            if self.handlers is not None and self.settings.consumers_enabled:
                messaging.subscribe(broker, self.handlers, self.uow, self.settings.delivery_limit,
                                    self.consumer_prefetch,
                                    group=self.settings.consumer_group,
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

    async def _watch_queues(self) -> None:
        """For /metrics, whether or not a probe asks: the broker's state, and the consumer lag
        and dead-letter depth of this service's queues."""
        while True:
            try:
                await self.broker_state()
                if self.service in messaging.CONSUMERS:
                    depths = await messaging.queue_depths(self.settings.amqp_url, self.service)
                    CONSUMER_LAG.labels(self.service).set(depths["queue"])
                    DLQ_DEPTH.labels(self.service).set(depths["dlq"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("queue depth check failed: %s", exc)
            await asyncio.sleep(self.settings.queue_watch_seconds)

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
        checks["broker"] = await self.broker_state()
        return checks

    async def broker_state(self) -> str:
        """``ok`` or ``degraded: why``; kept in ``clientops_broker_up`` too."""
        try:
            ok = self.broker is not None and await self.broker.ping(timeout=2)
            state = "ok" if ok else "degraded: not connected"
        except Exception as exc:
            state = f"degraded: {type(exc).__name__}"
        BROKER_UP.labels(self.service).set(1 if state == "ok" else 0)
        return state

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
        app.state.revocations = self.revocations
        for key, value in state.items():
            setattr(app.state, key, value)
        install_problem_handlers(app)
        install_correlation(app)
        install_metrics(app)
        observability.install_access_log(app, self.service)
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
        async def dead_letters(_: Admin, type: EventTypeQuery = None,
                               since: SinceQuery = None, message_id: MessageIdQuery = None,
                               limit: Annotated[int, Query(ge=1, le=MAX_CAP)] = 50,
                               ) -> list[dict[str, Any]]:
            """The service's dead letters: type, id, error and its class, first and last
            failure, deliveries, headers, trace link, ``death`` (x-death) as JSON."""
            if self.service not in messaging.CONSUMERS:
                return []  # a service that consumes nothing has no dead-letter queue
            selection = Selection(frozenset({message_id} if message_id else ()), type, since)
            return [d.as_json() for d in await self.dead_letters().peek(selection, limit)]

        @router.get("/api/admin/dead-letters/{message_id}")
        async def dead_letter(_: Admin, message_id: Annotated[str, Path(max_length=200)]
                              ) -> dict[str, Any]:
            letter = (await self.dead_letters().get(message_id)
                      if self.service in messaging.CONSUMERS else None)
            if letter is None:
                raise NotFound(f"no dead letter {message_id} in {self.service}")
            return letter.as_json()

        @router.post("/api/admin/dead-letters/replay")
        async def replay(principal: Admin, body: DeadLetterAction) -> dict[str, Any]:
            """Back onto the queue each message died in (only there), once; audited."""
            if self.service not in messaging.CONSUMERS:
                return {"replayed": [], "count": 0, "queue": None}
            moved = await self.dead_letters().replay(
                body.selection(), cap=body.limit, actor=principal.username, reason=body.reason,
                correlation_id=context.correlation_id.get())
            return {"replayed": [d.message_id for d in moved], "count": len(moved),
                    "queue": messaging.queue_name(self.service)}

        @router.post("/api/admin/dead-letters/drop")
        async def drop(principal: Admin, body: DeadLetterAction) -> dict[str, Any]:
            """Remove dead letters for good, with the reason in the audit log."""
            if self.service not in messaging.CONSUMERS:
                return {"dropped": [], "count": 0}
            dropped = await self.dead_letters().drop(
                body.selection(), cap=body.limit, actor=principal.username, reason=body.reason,
                correlation_id=context.correlation_id.get())
            return {"dropped": [d.message_id for d in dropped], "count": len(dropped)}

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
                        offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[dict[str, Any]]:
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
