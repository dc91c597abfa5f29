"""The only place that reads settings and wires the contracts service together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.runtime import ServiceRuntime
from contracts.adapters import orm
from contracts.config import ContractsSettings
from contracts.entrypoints.api.routes import router
from contracts.entrypoints.messaging import handlers
from contracts.service_layer.unit_of_work import ContractsUnitOfWork


def build(settings: ContractsSettings | None = None) -> FastAPI:
    settings = settings or ContractsSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, ContractsUnitOfWork, handlers)
    return runtime.create_app("ClientOps contracts", [router])
