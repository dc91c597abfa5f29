"""The only place that reads settings and wires the logistics service together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.projections import directory_router
from clientops_shared.runtime import ServiceRuntime
from logistics.adapters import orm
from logistics.config import LogisticsSettings
from logistics.entrypoints.messaging import handlers
from logistics.service_layer.unit_of_work import LogisticsUnitOfWork


def build(settings: LogisticsSettings | None = None) -> FastAPI:
    settings = settings or LogisticsSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, LogisticsUnitOfWork, handlers)
    return runtime.create_app("ClientOps logistics", [directory_router(orm.clients)])
