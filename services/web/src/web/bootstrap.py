"""The only place that reads settings and wires the web frontend together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.runtime import ServiceRuntime
from web.adapters import orm
from web.config import WebSettings
from web.entrypoints.api.routes import router
from web.service_layer.unit_of_work import WebUnitOfWork


def build(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, WebUnitOfWork)
    return runtime.create_app("ClientOps web", [router])
