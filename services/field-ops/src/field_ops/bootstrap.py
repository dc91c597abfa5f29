"""The only place that reads settings and wires the field_ops service together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from clientops_shared.observability import sql_gauges_job
from clientops_shared.projections import directory_router
from clientops_shared.runtime import Periodic, ServiceRuntime, preload
from field_ops.adapters import orm
from field_ops.adapters.cloud_admin import CloudAdmin, FakeCloudAdmin, HttpCloudAdmin
from field_ops.config import FieldOpsSettings
from field_ops.entrypoints import metrics
from field_ops.entrypoints.api.field import router as field_router
from field_ops.entrypoints.api.onboarding import router as onboarding_router
from field_ops.entrypoints.api.plans import router as plans_router
from field_ops.entrypoints.api.work_orders import router as work_orders_router
from field_ops.entrypoints.jobs import clock_periodic
from field_ops.entrypoints.messaging import handlers
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


def build(settings: FieldOpsSettings | None = None, *,
          clock: Callable[[], datetime] = _now, cloud_admin: CloudAdmin | None = None
          ) -> FastAPI:
    settings = settings or FieldOpsSettings()
    if cloud_admin is None:
        cloud_admin = (HttpCloudAdmin(settings.cloud_admin_url, settings.cloud_admin_token)
                       if settings.cloud_admin_url else FakeCloudAdmin(settings.cloud_domain))
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, FieldOpsUnitOfWork, handlers)
    runtime.on_start.append(preload("weasyprint"))  # the PDFs' renderer
    app = runtime.create_app("ClientOps field_ops", [
        directory_router(orm.clients), work_orders_router, field_router, plans_router,
        onboarding_router], clock=clock, cloud_admin=cloud_admin)
    # the periodic tick reads the app's clock, so a demo or a test that moves it moves both
    runtime.periodic.append(clock_periodic(runtime, lambda: app.state.clock(),
                                           settings.clock_poll_seconds))
    runtime.periodic.append(Periodic("business-metrics", settings.metrics_poll_seconds,
                                     sql_gauges_job("field_ops", runtime.engine,
                                                    metrics.GAUGES)))
    return app
