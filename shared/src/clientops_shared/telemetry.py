"""OpenTelemetry: one tracer provider per process, exporting OTLP when an endpoint is set."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install the process's tracer provider, or reuse one a test or an earlier app installed."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        _instrument_sqlalchemy(current)
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    _instrument_sqlalchemy(provider)
    return provider


def _instrument_sqlalchemy(provider: TracerProvider) -> None:
    # process-wide and once: it wraps engine creation, so it must run before engines exist
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # the instrumentation pins sqlalchemy < 2.1; its engine hooks work on 2.1 (the trace
        # test checks that database spans appear)
        instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider,
                                       excluded_urls="health/.*,metrics")
