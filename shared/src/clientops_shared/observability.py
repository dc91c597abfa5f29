"""What an on-call follows: an access log line per request, a line per handled event, the
metrics behind both, failures on record for the dead-letter view, and business gauges.

Every line is a structlog JSON line that carries ``trace_id`` (``logs._add_trace``), so one
search by trace id finds the request, the events it caused and their handling in every service.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException
from opentelemetry import trace
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientops_shared.http import HttpMiddleware

access_log = logging.getLogger("clientops.access")
consumer_log = logging.getLogger("clientops.consumer")
log = logging.getLogger("clientops.observability")

HTTP_REQUESTS = Histogram(
    "clientops_http_request_duration_seconds", "HTTP requests by route: rate, errors, latency",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
EVENTS_HANDLED = Histogram(
    "clientops_consumer_handling_seconds", "Event handling time by type and outcome",
    ["service", "event_type", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
# the one failure counter (alerts and the dashboard read it): every failed handling, per
# service and event type, with what became of the event (retrying: parked in a delay queue;
# failing: requeued towards the delivery limit; dead_lettered) and the exception's class
CONSUMER_FAILURES = Counter(
    "clientops_consumer_failures_total",
    "Event handling failures by service, event type, what became of the event and error class",
    ["service", "event_type", "outcome", "error_class"])
# what the consumer decided about the message being handled (the observer's log line and
# handling-time outcome): a failure parked for a retry returns normally, yet is no "ok"
_decided: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "clientops_consumer_decided", default=None)


def count_failure(service: str, event_type: str, outcome: str, exc: BaseException) -> None:
    """Count one failed handling (messaging calls it for every failure it reports)."""
    CONSUMER_FAILURES.labels(service, event_type, outcome, type(exc).__name__).inc()
    decided = _decided.get()
    if decided is not None:
        decided["outcome"] = outcome


def trace_id() -> str | None:
    span = trace.get_current_span().get_span_context()
    return format(span.trace_id, "032x") if span.is_valid else None


# --- HTTP ---------------------------------------------------------------------------------------


def install_access_log(app: FastAPI, service: str) -> None:
    """One line and one histogram sample per request (health and metrics probes excepted)."""
    app.add_middleware(AccessLog, service=service)


_UNLOGGED_PREFIXES = ("/health/", "/static/")


class AccessLog(HttpMiddleware):
    """The access line and ``clientops_http_request_duration_seconds``, as plain ASGI (see
    ``http.Correlation`` for why not ``BaseHTTPMiddleware``). The status is the one sent; an
    exception is answered inside (``http.CatchAll``), so a 500 is logged as one."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        super().__init__(app)
        self.service = service

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path.startswith(_UNLOGGED_PREFIXES) or path == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %s", method, path, status, extra={
                    "method": method, "path": path, "route": route, "status": status,
                    "duration_ms": round(elapsed * 1000, 1), "trace_id": trace_id(),
                    "correlation_id": scope.get("state", {}).get("correlation_id")})


# --- events -------------------------------------------------------------------------------------


def _error_text(exc: BaseException) -> tuple[str, str]:
    """(class, text) of a failure; a bare reject names what made the consumer reject."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, HandlerException) and cause is not None:
        return type(cause).__name__, str(cause)[:2000]
    if isinstance(exc, HandlerException):
        return type(exc).__name__, "rejected by the consumer: no handler for this contract " \
                                   "version, or not an event envelope"
    return type(exc).__name__, str(exc)[:2000]


def consumer_observer(service: str) -> type[BaseMiddleware]:
    """A FastStream middleware: per handled event a log line (type, id, outcome, duration,
    trace id) and its metrics (the failure itself is on record in consumer_failure)."""

    class ConsumerObserver(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            raw = getattr(msg, "raw_message", None)
            event_type = (getattr(raw, "type", None) or getattr(raw, "routing_key", None)
                          or "unknown")
            message_id = str(msg.message_id or "")
            headers = dict(getattr(msg, "headers", None) or {})
            started = time.perf_counter()
            decided: dict[str, str] = {}
            token = _decided.set(decided)
            try:
                result = await call_next(msg)
            except Exception as exc:
                elapsed = time.perf_counter() - started
                error_class, error = _error_text(exc)
                # what the consumer made of it (failing: requeued, dead_lettered), else
                # a reject or failure it did not report
                outcome = decided.get("outcome") or (
                    "rejected" if isinstance(exc, HandlerException) else "failed")
                EVENTS_HANDLED.labels(service, event_type, outcome).observe(elapsed)
                consumer_log.error("event %s %s %s", event_type, message_id, outcome, extra={
                    "event_type": event_type, "event_id": message_id, "outcome": outcome,
                    "duration_ms": round(elapsed * 1000, 1), "error_class": error_class,
                    "error": error, "delivery": headers.get("x-delivery-count"),
                    "trace_id": trace_id(), "correlation_id": msg.correlation_id})
                raise
            finally:
                _decided.reset(token)
            elapsed = time.perf_counter() - started
            outcome = decided.get("outcome", "ok")  # "retrying": parked in a delay queue
            EVENTS_HANDLED.labels(service, event_type, outcome).observe(elapsed)
            consumer_log.log(logging.INFO if outcome == "ok" else logging.WARNING,
                             "event %s %s %s", event_type, message_id, outcome, extra={
                "event_type": event_type, "event_id": message_id, "outcome": outcome,
                "duration_ms": round(elapsed * 1000, 1), "trace_id": trace_id(),
                "correlation_id": msg.correlation_id})
            return result

    return ConsumerObserver


# --- business gauges ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlGauge:
    """A gauge (first label ``service``) refreshed from one query returning rows of
    (other label values..., value); the query names every label value it may ever report
    (e.g. from a VALUES list), so a value that drops to nothing reads 0, not its last count."""

    gauge: Gauge
    sql: str


def sql_gauges_job(service: str, engine: AsyncEngine, gauges: Sequence[SqlGauge]
                   ) -> Callable[[], Awaitable[None]]:
    """A periodic job body that refreshes the service's business gauges from its database."""

    async def refresh() -> None:
        async with engine.connect() as conn:
            for item in gauges:
                for row in (await conn.execute(sa.text(item.sql))).all():
                    item.gauge.labels(service, *(str(v) for v in row[:-1])).set(
                        float(row[-1] or 0))

    return refresh
