"""FastAPI plumbing every service shares: problem+json errors, correlation ids, metrics."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientops_shared import context
from clientops_shared.errors import DomainError

log = logging.getLogger("clientops.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if status >= 500:  # what the on-call searches the logs and traces by
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            body.setdefault("trace_id", format(span.trace_id, "032x"))
    headers = {}
    if (cid := context.correlation_id.get()) is not None:
        headers["x-correlation-id"] = cid
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "monthly_fee") -> "monthly_fee"; ("query", "within_days") -> "within_days"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or str(loc[-1] if loc else "")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", ""),
               "type": e.get("type", "")} for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(422, "Validation failed", f"invalid fields: {fields}", errors=errors)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem(exc.status, exc.title, exc.detail, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found",
                   None if exc.status_code != 404 else str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response = problem(500, "Internal error", "the error was logged with the request's trace id")
    cid = getattr(request.state, "correlation_id", None)
    if cid:  # outside the correlation middleware by now: the id it kept on the request
        response.headers["x-correlation-id"] = cid
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def install_correlation(app: FastAPI) -> None:
    @app.middleware("http")
    async def correlation(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        cid = (request.headers.get("x-correlation-id") or "")[:200] or str(uuid.uuid4())
        request.state.correlation_id = cid
        with context.bound(correlation=cid):
            try:
                response = await call_next(request)
            except Exception as exc:  # an error no handler took: still answered with the id
                handler = request.app.exception_handlers.get(Exception, _unexpected)
                response = await handler(request, exc)
        response.headers["x-correlation-id"] = cid
        return response


def install_metrics(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
