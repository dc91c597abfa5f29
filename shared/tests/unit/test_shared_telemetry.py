"""Where traces go: the standard OTEL_* variables win, CLIENTOPS_OTLP_ENDPOINT is the
fallback, OTEL_SDK_DISABLED turns export off; database spans never start a trace."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientops_shared import telemetry

pytestmark = pytest.mark.unit


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


def test_the_standard_otlp_variables_choose_the_collector(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    _clear(monkeypatch)
    assert telemetry._exporter(None) is None
    fallback = telemetry._exporter("http://jaeger:4318/")
    assert fallback._endpoint == "http://jaeger:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert telemetry._exporter("http://jaeger:4318")._endpoint == (
        "http://collector:4318/v1/traces")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/v1/traces")
    assert telemetry._exporter(None)._endpoint == "http://traces:4318/v1/traces"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert telemetry._exporter("http://jaeger:4318") is None


def test_database_spans_join_a_trace_but_never_start_one() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db = telemetry.InsideTraceOnly(provider).get_tracer("sqlalchemy")
    with db.start_as_current_span("connect"):
        pass
    db.start_span("SELECT").end()
    assert exporter.get_finished_spans() == ()
    with provider.get_tracer("app").start_as_current_span("POST /api/contracts") as parent:
        with db.start_as_current_span("connect"):
            pass
        db.start_span("SELECT").end()
    finished = exporter.get_finished_spans()
    assert [s.name for s in finished] == ["connect", "SELECT", "POST /api/contracts"]
    assert {s.context.trace_id for s in finished} == {parent.get_span_context().trace_id}
    assert trace.get_current_span() is trace.INVALID_SPAN
