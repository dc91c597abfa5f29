"""The only place that reads settings and wires the field_ops service together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.projections import directory_router
from clientops_shared.runtime import ServiceRuntime
from field_ops.adapters import orm
from field_ops.config import FieldOpsSettings
from field_ops.entrypoints.messaging import handlers
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork


def build(settings: FieldOpsSettings | None = None) -> FastAPI:
    settings = settings or FieldOpsSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, FieldOpsUnitOfWork, handlers)
    return runtime.create_app("ClientOps field_ops", [directory_router(orm.clients)])
