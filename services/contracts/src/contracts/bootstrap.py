"""The only place that reads settings and wires the contracts service together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import FastAPI

from clientops_shared.jobs import business_today
from clientops_shared.runtime import ServiceRuntime
from contracts.adapters import orm
from contracts.adapters.storage import DiskStorage, FileStorage, S3Storage
from contracts.config import ContractsSettings
from contracts.entrypoints.api.routes import router
from contracts.entrypoints.jobs import daily_periodic
from contracts.entrypoints.messaging import handlers
from contracts.service_layer.documents import company_card
from contracts.service_layer.unit_of_work import ContractsUnitOfWork


def storage_for(settings: ContractsSettings) -> FileStorage:
    if settings.s3_bucket:
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                         access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                         region=settings.s3_region, prefix=settings.s3_prefix)
    return DiskStorage(settings.storage_dir)


def build(settings: ContractsSettings | None = None, *, storage: FileStorage | None = None,
          clock: Callable[[], date] = business_today) -> FastAPI:
    settings = settings or ContractsSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, ContractsUnitOfWork, handlers)
    runtime.periodic.append(daily_periodic(runtime, clock))
    return runtime.create_app(
        "ClientOps contracts", [router], clock=clock,
        storage=storage or storage_for(settings),
        # our requisites are validated now: a misconfigured deployment fails at start
        company=company_card(settings.company))
