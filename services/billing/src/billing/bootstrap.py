"""The only place that reads settings and wires the billing service together."""

from __future__ import annotations

from fastapi import FastAPI

from billing.adapters import orm
from billing.config import BillingSettings
from billing.entrypoints.api.routes import router
from billing.entrypoints.messaging import handlers
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.runtime import ServiceRuntime


def build(settings: BillingSettings | None = None) -> FastAPI:
    settings = settings or BillingSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, BillingUnitOfWork, handlers)
    return runtime.create_app("ClientOps billing", [router])
