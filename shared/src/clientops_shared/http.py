"""FastAPI plumbing every service shares: problem+json errors, correlation ids, metrics."""

from __future__ import annotations

import abc
import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import asyncpg.exceptions
import asyncpg.exceptions._base
import sqlalchemy.exc
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientops_shared import context
from clientops_shared.errors import DomainError

log = logging.getLogger("clientops.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if status >= 500:  # what the on-call searches the logs and traces by
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            body.setdefault("trace_id", format(span.trace_id, "032x"))
    headers = dict(headers or {})
    if (cid := context.correlation_id.get()) is not None:
        headers.setdefault("x-correlation-id", cid)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def model_response(model: BaseModel, *, status_code: int = 200,
                   headers: Mapping[str, str] | None = None) -> Response:
    """A ``response_model`` route's answer, serialised once by pydantic (in Rust).

    FastAPI would validate the returned object against the response model again, turn it
    into Python values and ``json.dumps`` those: on a one-row read that was more time than the
    query. The route keeps ``response_model=`` for its OpenAPI; the body is the same JSON."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code,
                    headers=dict(headers or {}), media_type="application/json")


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
    if is_database_unreachable(exc):  # not a bug: the database is down for a while
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                    type(exc).__name__)
        down = database_unavailable()
        if cid := getattr(request.state, "correlation_id", None):
            down.headers["x-correlation-id"] = cid
        return down
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response = problem(500, "Internal error", "the error was logged with the request's trace id")
    cid = getattr(request.state, "correlation_id", None)
    if cid:  # outside the correlation middleware by now: the id it kept on the request
        response.headers["x-correlation-id"] = cid
    return response


def is_data_error(exc: BaseException) -> bool:
    """A value PostgreSQL refused (SQLSTATE class 22) or asyncpg could not encode."""
    if isinstance(exc, sqlalchemy.exc.DataError):
        return True
    orig = getattr(exc, "orig", None)
    cause = getattr(orig, "__cause__", None) or orig
    if isinstance(cause, asyncpg.exceptions.DataError | asyncpg.exceptions._base.DataError):
        return True
    return str(getattr(cause, "sqlstate", "") or "").startswith("22")


def _through_database(exc: BaseException) -> bool:
    """The error came from the database driver: a SQLAlchemy/asyncpg exception in its chain,
    or a socket error raised inside them (asyncpg's refused connect is a bare OSError)."""
    from clientops_shared.messaging import _causes

    for e in _causes(exc):
        if type(e).__module__.startswith(("sqlalchemy", "asyncpg")):
            return True
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_globals.get("__name__", "").startswith(("asyncpg", "sqlalchemy")):
                return True
            tb = tb.tb_next
    return False


def is_database_unreachable(exc: BaseException) -> bool:
    """The service's database could not be reached, or dropped the connection mid-request."""
    from clientops_shared.messaging import is_connection_loss

    return is_connection_loss(exc) and _through_database(exc)


DATABASE_DOWN_RETRY_AFTER = 5
DATABASE_DOWN_MESSAGE = ("База данных сервиса сейчас недоступна, повторите запрос через "
                         "несколько секунд.")


def database_unavailable() -> JSONResponse:
    """503 with the reason in Russian (and the trace id): the caller may retry shortly."""
    return problem(503, "Service unavailable", DATABASE_DOWN_MESSAGE,
                   headers={"Retry-After": str(DATABASE_DOWN_RETRY_AFTER)},
                   reason="database_unavailable")


async def _data_error(request: Request, exc: Exception) -> Response:
    # the last line behind the bounds at the door: a value the column cannot hold (a number out
    # of range, a date the database refuses) is the caller's input, never a 500
    if not is_data_error(exc):
        handler = request.app.exception_handlers.get(Exception, _unexpected)
        return await handler(request, exc)  # type: ignore[no-any-return]
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path,
                type(getattr(exc, "orig", exc)).__name__)
    return problem(422, "Validation failed", "a value is out of the range this field can hold",
                   errors=[{"field": "body", "message": "value out of range",
                            "type": "out_of_range"}])


# --- the OpenAPI says what the problem handlers answer -----------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "description": "RFC 9457 problem details; ``errors`` names each refused field.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "trace_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"},
            "type": {"type": "string"}}}},
    },
}
# what any operation may answer (the handlers above), and what one with a body may add
PROBLEMS_EVERYWHERE = {
    400: "Bad request: the input cannot be understood",
    401: "No valid token (missing, expired, revoked or forged)",
    403: "The role or the owner of the record does not allow it",
    404: "No such record, or not one this user may see",
    405: "The path does not take this method",
    409: "The record's state does not allow it, or a concurrent change won",
    422: "Validation failed: ``errors`` names each field",
    503: "The service's database (or broker) is unreachable for now; Retry-After",
}
PROBLEMS_WITH_BODY = {413: "The body is larger than this operation takes",
                      415: "The body's media type is not one this operation takes"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers a file (besides any JSON it documents)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"content": {m: binary for m in media_types}}}


def install_problem_docs(app: FastAPI) -> None:
    """Every operation's OpenAPI lists the 4xx (and 503) it may answer, each as
    ``application/problem+json`` (FastAPI alone documents a 422 as ``application/json``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                codes = dict(PROBLEMS_EVERYWHERE)
                if "requestBody" in operation:
                    codes.update(PROBLEMS_WITH_BODY)
                for code, description in codes.items():
                    entry = responses.setdefault(str(code), {"description": description})
                    entry["content"] = content
                for code, entry in responses.items():  # a route's own 4xx: problem+json too
                    if code.startswith("4") and isinstance(entry, dict):
                        entry["content"] = content
        for name in ("HTTPValidationError", "ValidationError"):
            if not _referenced(schema, f"#/components/schemas/{name}"):
                schemas.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _referenced(value: Any, ref: str) -> bool:
    if isinstance(value, dict):
        return value.get("$ref") == ref or any(_referenced(v, ref) for k, v in value.items()
                                               if k != "components")
    if isinstance(value, list):
        return any(_referenced(v, ref) for v in value)
    return False


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
    install_problem_docs(app)
    # innermost of the middleware: a 500 is answered here, so the server never sees the
    # exception and keeps the keep-alive connection open for the next request
    app.add_middleware(CatchAll)
    app.add_middleware(InputGuard)


class HttpMiddleware(abc.ABC):
    """A plain ASGI middleware for HTTP requests (lifespan and websockets pass through):
    subclasses implement ``handle``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abc.abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The middleware's work on one HTTP request."""


async def answer_unhandled(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer an exception no handler took with the app's ``Exception`` handler."""
    request = Request(scope, receive)
    handlers = getattr(scope.get("app"), "exception_handlers", {})
    handler = handlers.get(Exception, _unexpected)
    response = await handler(request, exc)
    await response(scope, receive, send)


class CatchAll(HttpMiddleware):
    """Answer an unhandled exception with the app's ``Exception`` handler and do not re-raise.

    Starlette's outermost error middleware re-raises after answering, and uvicorn then closes
    the connection: the next request a client sends on that keep-alive connection is reset.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise  # half a response is out: only closing the connection is honest
            await answer_unhandled(scope, receive, send, exc)


# --- bad input the schema cannot see: NUL bytes, broken Unicode, JSON nested too deep -------

MAX_JSON_DEPTH = 32
MAX_CHECKED_BODY = 16 * 1024 * 1024
_CHECKED_TYPES = ("application/json", "application/x-www-form-urlencoded")


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _walk(value: Any, path: tuple[str, ...], depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_JSON_DEPTH:
        yield (path[0] if path else "body"), f"is nested deeper than {MAX_JSON_DEPTH} levels"
        return
    if isinstance(value, str):
        problem_text = _bad_text(value)
        if problem_text:
            yield ".".join(path) or "body", problem_text
    elif isinstance(value, dict):
        for key, item in value.items():
            problem_text = _bad_text(key)
            if problem_text:
                yield ".".join((*path, key.replace("\x00", "\\0"))) or "body", \
                    f"name {problem_text}"
            yield from _walk(item, (*path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, str(index)), depth + 1)


def _check_pairs(raw: str) -> None:
    for key, value in parse_qsl(raw, keep_blank_values=True):
        for text in (key, value):
            problem_text = _bad_text(text)
            if problem_text:
                raise _Refused(key.replace("\x00", "\\0") or "query", problem_text)


def check_json(body: bytes) -> None:
    """Refuse JSON with NUL characters, lone surrogates or nesting deeper than 32 levels."""
    try:
        parsed = json.loads(body)
    except RecursionError:
        raise _Refused("body", f"is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        return  # not JSON at all: the route's own parser answers that
    for field, message in _walk(parsed, (), 0):
        raise _Refused(field, message)


class InputGuard(HttpMiddleware):
    """Checks every request's path, query and JSON/form body before a route sees it.

    PostgreSQL cannot store NUL characters and asyncpg cannot encode lone surrogates, and
    Python's JSON parser recurses: without this a NUL in any string field, a ``\\ud800``
    or ``[[[[…]]]]`` 100,000 deep would be a 500. Answers 422 naming the field.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if "\x00" in scope["path"]:
                raise _Refused("path", "must not contain NUL characters")
            _check_pairs(scope.get("query_string", b"").decode("latin-1"))
            content_type = ""
            for name, value in scope.get("headers", []):
                if name == b"content-type":
                    content_type = value.decode("latin-1").split(";")[0].strip().lower()
            checked = content_type in _CHECKED_TYPES or content_type.endswith("+json")
            if checked and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
                body, more = await _read_body(receive)
                if not more:
                    if content_type == "application/x-www-form-urlencoded":
                        _check_pairs(body.decode("latin-1"))
                    else:
                        check_json(body)
                receive = _replay(body, more, receive)
        except _Refused as refused:
            response = problem(422, "Validation failed", f"{refused.field}: {refused.message}",
                               errors=[{"field": refused.field, "message": refused.message,
                                        "type": "value_error"}])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body up to ``MAX_CHECKED_BODY``; ``more`` is true if it is longer (not checked)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if size > MAX_CHECKED_BODY:
            return b"".join(chunks), True


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


def install_correlation(app: FastAPI) -> None:
    app.add_middleware(Correlation)


CORRELATION_HEADER = b"x-correlation-id"


class Correlation(HttpMiddleware):
    """Every request has a correlation id (the caller's ``X-Correlation-ID``, else a new one):
    bound in ``context`` for the events it causes and its log lines, kept on
    ``request.state`` and answered in the response's ``X-Correlation-ID``.

    Plain ASGI, not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs the
    rest of the app in a task of its own and streams the response through memory channels,
    which cost more than the whole of a one-row read (issue 14's profile)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        cid = ""
        for name, value in scope.get("headers", ()):
            if name == CORRELATION_HEADER:
                cid = value.decode("latin-1")[:200]
                break
        cid = cid or str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = cid
        answered = (CORRELATION_HEADER, cid.encode("latin-1"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", ()) if h[0].lower()
                           != CORRELATION_HEADER]
                message = {**message, "headers": [*headers, answered]}
            await send(message)

        with context.bound(correlation=cid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:  # an error no handler took: still answered with the id
                if started:
                    raise  # half a response is out: only closing the connection is honest
                await answer_unhandled(scope, receive, send_with_id, exc)


def install_metrics(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
