"""What every page shares: the logged-in viewer, CSRF checks, role gates, rendering, errors.

A desk is a module with one router and its templates under ``templates/desks/<name>/``; it
asks for ``Viewer`` (or ``viewer_with_roles(...)``) and renders with ``render``. HTMX requests
get only the named block of the same template (jinja2-fragments), so a panel refreshes
without its own endpoint template.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientops_shared import context
from clientops_shared.http import (
    DATABASE_DOWN_MESSAGE,
    database_unavailable,
    is_database_unreachable,
    problem,
)
from clientops_shared.runtime import runtime_of
from web import formatting
from web.adapters.services import Keyset, ServiceError, Services
from web.config import WebSettings
from web.desks import visible_desks
from web.service_layer import handlers

log = logging.getLogger("clientops.web")
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
SESSION_COOKIE = "clientops_session"
LOGIN_CSRF_COOKIE = "clientops_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
templates.env.filters.update(formatting.FILTERS)


@pass_context
def _person(ctx: Any, username: Any) -> str:
    """A username as the person's full name (the login itself if the web has no such user)."""
    if username is None or username == "":
        return ""
    viewer = ctx.get("viewer")
    people = viewer.people if isinstance(viewer, Viewer) else {}
    name = people.get(str(username), formatting.PEOPLE_OUTSIDE.get(str(username)))
    if name is not None:
        return name
    # someone the web does not know (a login from another system): shown as a login
    return Markup("<code>{}</code>").format(str(username))


templates.env.filters["person"] = _person
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD

T = TypeVar("T")


class LoginRequired(Exception):
    """No valid session: the browser goes to the login page (HTMX: a full redirect)."""


class PageForbidden(Exception):
    def __init__(self, message: str = "У вас нет доступа к этой странице.") -> None:
        super().__init__(message)
        self.message = message


class PageNotFound(Exception):
    def __init__(self, message: str = "Такой страницы нет.") -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Viewer:
    """The person at the browser, with the services as they may see them."""

    username: str
    role: str
    csrf_token: str
    services: Services
    full_name: str = ""
    people: dict[str, str] = field(default_factory=dict)
    """Everyone's full name by username: pages show people, not logins."""

    def has_role(self, *roles: str) -> bool:
        return self.role in roles or self.role == "admin"

    @property
    def sees_all_clients(self) -> bool:
        return self.role not in ("manager", "sales", "technician")


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = runtime_of(request).settings
    return settings


def http_of(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


async def get_viewer(request: Request) -> Viewer:
    cached = getattr(request.state, "viewer", None)
    if isinstance(cached, Viewer):
        return cached
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired
    async with runtime_of(request).uow() as uow:
        session = await handlers.current_session(uow, cookie)
        user = await uow.user(session.username) if session else None
        if session is None or user is None or not user.active:
            raise LoginRequired
        settings = settings_of(request)
        # read while the database session is open: the unit of work expires them on exit
        username, role, csrf = session.username, session.role, session.csrf_token
        token = await handlers.session_token(
            uow, session, user, secret=settings.jwt_secret,
            ttl=timedelta(minutes=settings.token_ttl_minutes))
        full_name = user.full_name
        people = {u.username: u.full_name for u in await uow.users() if u.full_name}
    context.actor.set(username)
    viewer = Viewer(username, role, csrf, Services(http_of(request), settings.upstreams, token,
                     document_timeout=settings.document_timeout_seconds),
                    full_name=full_name, people=people)
    request.state.viewer = viewer
    return viewer


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def viewer_with_roles(*roles: str) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A page only these roles (and admin) open; anyone else gets the 403 page."""

    async def check(viewer: CurrentViewer) -> Viewer:
        if not viewer.has_role(*roles):
            raise PageForbidden("Эта страница доступна ролям: "
                                + ", ".join(formatting.ROLE_TITLES.get(r, r) for r in roles)
                                + ".")
        return viewer

    return check


async def csrf_checked(request: Request, viewer: CurrentViewer) -> Viewer:
    """Every state-changing page request carries the session's CSRF token (form or header)."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, viewer.csrf_token):
        raise PageForbidden("Форма устарела или отправлена не с нашей страницы (CSRF). "
                            "Обновите страницу и повторите.")
    return viewer


CheckedViewer = Annotated[Viewer, Depends(csrf_checked)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, ctx: dict[str, Any] | None = None, *,
           status: int = 200, block: str | None = None,
           viewer: Viewer | None = None) -> HTMLResponse:
    viewer = viewer or getattr(request.state, "viewer", None)
    values: dict[str, Any] = {
        "viewer": viewer,
        "desks": visible_desks(viewer.role) if viewer else [],
        "today": today(),
        "path": request.url.path,
        **(ctx or {}),
    }
    kwargs: dict[str, Any] = {"status_code": status}
    if block:
        kwargs["block_name"] = block
    response = templates.TemplateResponse(request, name, values, **kwargs)
    response.headers["Cache-Control"] = "no-store"
    assert isinstance(response, HTMLResponse)
    return response


def today() -> date:
    return datetime.now(UTC).astimezone(formatting.MOSCOW).date()


def redirect(url: str, request: Request) -> Response:
    """After a POST: a normal 303, or HX-Redirect for an HTMX request."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


@dataclass
class Panel:
    """One service's part of a page: its data, or the message why it is missing."""

    data: Any = None
    error: str | None = None
    status: int = 200
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def forbidden(self) -> bool:
        """The viewer's role may not see this part: the page leaves the panel out."""
        return self.status == 403


NOT_YET = "Сервис пока не умеет это показывать."


def route_missing(exc: ServiceError) -> bool:
    """The service has no such endpoint (yet), as opposed to a record it does not have."""
    return exc.status == 405 or (exc.status == 404 and exc.detail in ("", "Not Found"))


async def panel(call: Awaitable[Any], *, missing: str = NOT_YET, empty: Any = None) -> Panel:
    """Await a service call; a failure becomes a message on the panel, never a 500 page.

    ``missing``: what to say when the service has no such endpoint; ``empty``: the value
    to show when the service answers 404 for the record (nothing recorded yet).
    """
    try:
        data = await call
    except ServiceError as exc:
        if route_missing(exc):
            return Panel(error=missing, status=exc.status)
        if exc.status == 404 and empty is not None:
            return Panel(data=empty)
        return Panel(error=exc.message, status=exc.status)
    if isinstance(data, tuple) and len(data) == 2:
        return Panel(data=data[0], total=data[1])
    if isinstance(data, Keyset):  # the cursor of the next page, for a "more" link
        return Panel(data=data.rows, extra={"next_cursor": data.next_cursor})
    return Panel(data=data)


async def panels(**calls: Awaitable[Any]) -> dict[str, Panel]:
    """Several service calls at once; each becomes its own panel."""
    names = list(calls)
    results = await asyncio.gather(*(panel(calls[n]) for n in names))
    return dict(zip(names, results, strict=True))


def install_page_errors(app: FastAPI) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        target = "/login?next=" + quote(request.url.path + (
            "?" + request.url.query if request.url.query else ""), safe="")
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return render(request, "errors/403.html", {"message": exc.message}, status=403)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageNotFound)
        return render(request, "errors/404.html", {"message": exc.message}, status=404)

    async def service_error(request: Request, exc: Exception) -> Response:
        # a service call a page could not do without: its message, with the right status
        assert isinstance(exc, ServiceError)
        if exc.status == 403:
            return render(request, "errors/403.html",
                          {"message": "Это клиент другого менеджера или запись, "
                                      "к которой у вас нет доступа."}, status=403)
        if exc.status == 404:
            return render(request, "errors/404.html", {"message": exc.detail or exc.message},
                          status=404)
        if exc.status in (400, 409, 413, 415, 422):
            # the service refused what was asked (e.g. a document with requisites missing)
            return render(request, "errors/service.html", {"error": exc}, status=exc.status)
        return render(request, "errors/service.html", {"error": exc},
                      status=503 if exc.status in (0, 502, 503, 504) else 502)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if is_database_unreachable(exc):  # not a bug: the database is down for a while
            log.warning("database unreachable on %s %s", request.method, request.url.path)
            if request.url.path.startswith("/api/"):
                return database_unavailable()
            down = SimpleNamespace(status=503, message=DATABASE_DOWN_MESSAGE)
            try:
                return render(request, "errors/service.html", {"error": down}, status=503)
            except Exception:
                return HTMLResponse("<!doctype html><meta charset=utf-8><h1>Не получилось</h1>"
                                    f"<p>{DATABASE_DOWN_MESSAGE}</p>", status_code=503)
        # a bug: logged with its trace like every service's, but a person sees a page
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/api/"):
            return problem(500, "Internal error",
                           "the error was logged with the request's trace id")
        try:
            return render(request, "errors/500.html", {}, status=500)
        except Exception:  # the layout itself is what broke: a bare page still says so
            return HTMLResponse("<!doctype html><meta charset=utf-8><h1>Что-то пошло не так"
                                "</h1><p>Ошибка записана в журнал.</p>", status_code=500)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/") or exc.status_code not in (404, 405):
            # the API answers as every service does (problem+json)
            if exc.status_code == 404:
                return problem(404, "Not found", str(exc.detail))
            return problem(exc.status_code, str(exc.detail))
        return render(request, "errors/404.html", {"message": "Такой страницы нет."},
                      status=404)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(PageNotFound, not_found)
    app.add_exception_handler(ServiceError, service_error)


def uuid_or_blank(text: str | None) -> str:
    """An id picked from a list, as the services spell it; anything else (a hand-edited
    address) is no choice at all."""
    try:
        return str(uuid.UUID(text)) if text else ""
    except ValueError:
        return ""


def form_str(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
