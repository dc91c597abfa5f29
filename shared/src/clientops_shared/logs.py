"""Structured JSON logs carrying the current trace and span ids."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from opentelemetry import trace

from clientops_shared import context

# libraries whose INFO lines would bury the service's own: the broker client's connection
# chatter, uvicorn's access lines (ours are clientops.access), and WeasyPrint's seven
# "Step n - ..." progress lines and fontTools' subsetting lines on every PDF rendered
QUIET_LOGGERS = ("aiormq", "aio_pika", "uvicorn.access", "weasyprint", "fontTools")


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event["trace_id"] = format(span.trace_id, "032x")
        event["span_id"] = format(span.span_id, "016x")
    if (cid := context.correlation_id.get()) is not None:
        event.setdefault("correlation_id", cid)  # a line that names its own keeps it
    return event


def _shared_processors(service: str) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),  # a stdlib call's extra={...} fields (access, events)
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
        lambda _, __, e: {**e, "service": service},
    ]


def formatter(service: str, as_json: bool = True) -> logging.Formatter:
    """The formatter of every line the process writes (stdlib and structlog alike)."""
    renderer: Any = (structlog.processors.JSONRenderer() if as_json
                     else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(service),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer])


def setup_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    structlog.configure(
        processors=[*_shared_processors(service),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter(service, as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
