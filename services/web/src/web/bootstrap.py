"""The only place that reads settings and wires the web frontend together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.runtime import ServiceRuntime
from web.adapters import orm
from web.config import WebSettings
from web.entrypoints.api.routes import router
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
    return runtime.create_app("ClientOps web", [router])
