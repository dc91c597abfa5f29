"""The only place that reads settings and wires the web frontend together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from clientops_shared.runtime import ServiceRuntime
from web import desks
from web.adapters import orm
from web.config import WebSettings
from web.entrypoints.api.routes import router as api_router
from web.entrypoints.pages import auth
from web.entrypoints.pages.framework import STATIC_DIR, install_page_errors
from web.service_layer.handlers import seed_demo_users
from web.service_layer.unit_of_work import WebUnitOfWork


def build(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    orm.start_mappers()
    runtime: ServiceRuntime[WebUnitOfWork]

    async def seed() -> None:
        if settings.seed_demo_users:
            async with runtime.uow() as uow:
                await seed_demo_users(uow)

    runtime = ServiceRuntime(settings, orm.metadata, WebUnitOfWork, on_start=[seed])
    app = runtime.create_app("ClientOps web", [api_router, auth.router, *desks.routers()])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_page_errors(app)

    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # one connection pool to the services for every page, closed with the process
        timeout = httpx.Timeout(settings.upstream_timeout_seconds, connect=3.0)
        async with httpx.AsyncClient(timeout=timeout) as http, runtime_lifespan(app):
            app.state.http = http
            yield

    app.router.lifespan_context = lifespan
    headers = auth.security_headers()

    @app.middleware("http")
    async def secure_headers(request: Request,
                             call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/api/"):
            for key, value in headers.items():
                response.headers.setdefault(key, value)
        return response

    return app
