"""OpenTelemetry: one tracer provider per process, exporting OTLP when an endpoint is set.

The standard variables work: ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_
ENDPOINT`` (and their ``_HEADERS``, ``_PROTOCOL``-free OTLP/HTTP settings), ``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER[_ARG]`` (read by the SDK) and
``OTEL_SDK_DISABLED``;
``CLIENTOPS_OTLP_ENDPOINT`` (the collector's base URL) is still read when they are not set.

Every outgoing httpx call carries the trace context (web composing a client card, notifications
fetching an invoice PDF), so one page is one trace across the services. Database work that
belongs to no trace (the outbox relay's empty polls, pool connects, idle checks) makes no
span: it would bury the business traces under one-span traces.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


class _InsideTraceOnly:
    """A tracer that starts spans only inside a trace (a request, an event, a job); outside
    one it hands out a non-recording span, so nothing is exported."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name: str, context: Context | None = None, *args: Any,
                   **kwargs: Any) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    @contextlib.contextmanager
    def start_as_current_span(self, name: str, context: Context | None = None, *args: Any,
                              **kwargs: Any) -> Iterator[trace.Span]:
        if not trace.get_current_span(context).get_span_context().is_valid:
            yield trace.INVALID_SPAN
            return
        with self._tracer.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


class InsideTraceOnly(trace.TracerProvider):
    """The provider the database instrumentation gets: its spans join a trace, never start
    one (the outbox relay's polls, pool connects and metric queries would otherwise bury
    the business traces under one-span traces)."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        tracer = _InsideTraceOnly(self._provider.get_tracer(*args, **kwargs))
        return tracer  # type: ignore[return-value]  # the two methods instrumentations use


def _exporter(otlp_endpoint: str | None) -> Any:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"):
        return OTLPSpanExporter()  # reads the standard variables itself
    if otlp_endpoint:
        return OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
    return None


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install the process's tracer provider, or reuse one a test or an earlier app installed."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        _instrument_libraries(current)
        return current
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    exporter = _exporter(otlp_endpoint)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _instrument_libraries(provider)
    return provider


def _instrument_libraries(provider: TracerProvider) -> None:
    # process-wide and once: SQLAlchemy's wraps engine creation, so it must run before
    # engines exist; httpx's wraps every client's transport
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # the instrumentation pins sqlalchemy < 2.1; its engine hooks work on 2.1 (the trace
        # test checks that database spans appear)
        instrumentor.instrument(tracer_provider=InsideTraceOnly(provider), skip_dep_check=True)
    httpx_instrumentor = HTTPXClientInstrumentor()
    if not httpx_instrumentor.is_instrumented_by_opentelemetry:
        httpx_instrumentor.instrument(tracer_provider=provider)


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    # the request's span and everything inside it (database, outgoing calls) stay; the ASGI
    # "http send" / "http receive" spans (two or three more per request, each started, ended
    # and exported) say nothing an on-call uses and cost a one-row read a tenth (issue 14)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider,
                                       excluded_urls="health/.*,metrics",
                                       exclude_spans=["send", "receive"])
