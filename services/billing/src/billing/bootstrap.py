"""The only place that reads settings and wires the billing service together."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import FastAPI

from billing.adapters import orm
from billing.adapters.onec import FakeOneC, FolderExchange
from billing.adapters.planfact import FakePlanFact, PlanFactClient
from billing.config import BillingSettings
from billing.domain.dunning import WorkingCalendar
from billing.entrypoints import metrics
from billing.entrypoints.api.routes import router
from billing.entrypoints.messaging import handlers
from billing.service_layer import dunning, invoice_run, payables
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork, Rules, bound_uow
from clientops_shared.observability import sql_gauges_job
from clientops_shared.runtime import Periodic, ServiceRuntime, preload


class BillingRuntime(ServiceRuntime[BillingUnitOfWork]):
    """The shared runtime, plus stopping the invoice runs started in the background."""

    billing: Billing

    async def stop(self) -> None:
        tasks = list((getattr(self, "billing", None) and self.billing.background) or ())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().stop()


def build(settings: BillingSettings | None = None) -> FastAPI:
    settings = settings or BillingSettings()
    orm.start_mappers()
    rules = Rules(vat_rates=settings.vat_table(), calendar=WorkingCalendar(),
                  policy=settings.escalation_policy(), due_day=settings.due_day,
                  run_day=settings.run_day, dunning_ahead_days=settings.dunning_ahead_days,
                  auto_apply_advance=settings.auto_apply_advance)
    runtime = BillingRuntime(settings, orm.metadata, bound_uow(rules), handlers)
    runtime.on_start.append(preload("weasyprint"))  # the PDFs' renderer
    billing = Billing(uow=runtime.uow, engine=runtime.engine, job_run=runtime.tables.job_run,
                      rules=rules, run_batch=settings.run_batch, settings=settings)
    billing.planfact = (PlanFactClient(settings.planfact_url, settings.planfact_api_key,
                                       account_id=settings.planfact_account_id,
                                       category_ids=settings.planfact_category_ids)
                        if settings.planfact_url else FakePlanFact())
    billing.onec = (FolderExchange(settings.onec_exchange_dir) if settings.onec_exchange_dir
                    else FakeOneC())
    runtime.billing = billing

    async def invoice_job() -> Any:
        return await invoice_run.scheduled_run(billing)

    async def dunning_job() -> Any:
        return await dunning.scheduled_dunning(billing)

    async def planfact_job() -> Any:
        return await payables.sync_pending(billing, billing.planfact)

    runtime.periodic += [Periodic("invoice-run", settings.scheduler_tick_seconds, invoice_job),
                         Periodic("dunning", settings.scheduler_tick_seconds, dunning_job),
                         Periodic("planfact-sync", 60.0, planfact_job)]
    runtime.periodic.append(Periodic("business-metrics", settings.metrics_poll_seconds,
                                     sql_gauges_job("billing", runtime.engine, metrics.GAUGES)))
    return runtime.create_app("ClientOps billing", [router], billing=billing)
