"""Where traces go: the standard OTEL_* variables win (endpoint, headers, service name,
resource attributes, sampler — a real process exporting to a stand-in OTLP/HTTP receiver),
CLIENTOPS_OTLP_ENDPOINT is the fallback, OTEL_SDK_DISABLED turns export off; database spans
never start a trace."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import ClassVar

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


EXPORT_ONE_SPAN = """
from opentelemetry import trace
from clientops_shared import telemetry
provider = telemetry.setup_tracing("billing", None)
with trace.get_tracer("test").start_as_current_span("GET /api/invoices"):
    pass
provider.shutdown()  # flushes the batch
"""


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []  # set per receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"] or 0))
        self.received.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                              body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    """A stand-in OTLP/HTTP receiver that keeps what it is sent."""
    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []  # set per receiver
    handler = type("Collector", (_Collector,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _run(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("OTEL_") and k != "CLIENTOPS_OTLP_ENDPOINT"}
    subprocess.run([sys.executable, "-c", EXPORT_ONE_SPAN], env={**clean, **env}, check=True,
                   capture_output=True, timeout=60)


def test_a_process_exports_where_the_standard_otel_variables_say(
    collector: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = collector
    _run({"OTEL_EXPORTER_OTLP_ENDPOINT": url,
          "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=clientops-staging",
          "OTEL_SERVICE_NAME": "billing-eu",
          "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging"})
    ((path, headers, body),) = received
    assert path == "/v1/traces"
    assert headers["x-tenant"] == "clientops-staging"
    assert headers["content-type"] == "application/x-protobuf"
    for word in (b"billing-eu", b"deployment.environment", b"staging", b"GET /api/invoices"):
        assert word in body, word
    # without OTEL_SERVICE_NAME the service names itself
    received.clear()
    _run({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{url}/custom/traces"})
    ((path, _, body),) = received
    assert path == "/custom/traces" and b"billing" in body
    # the sampler variable is the SDK's: always_off exports nothing
    received.clear()
    _run({"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_TRACES_SAMPLER": "always_off"})
    assert received == []
