"""The only place that reads settings and wires the billing service together."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import FastAPI

from billing.adapters import orm
from billing.config import BillingSettings
from billing.domain.dunning import WorkingCalendar
from billing.entrypoints.api.routes import router
from billing.entrypoints.messaging import handlers
from billing.service_layer import dunning, invoice_run
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork, Rules, bound_uow
from clientops_shared.runtime import Periodic, ServiceRuntime


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
                  run_day=settings.run_day)
    runtime = BillingRuntime(settings, orm.metadata, bound_uow(rules), handlers)
    billing = Billing(uow=runtime.uow, engine=runtime.engine, job_run=runtime.tables.job_run,
                      rules=rules, run_batch=settings.run_batch, settings=settings)
    runtime.billing = billing

    async def invoice_job() -> Any:
        return await invoice_run.scheduled_run(billing)

    async def dunning_job() -> Any:
        return await dunning.scheduled_dunning(billing)

    runtime.periodic += [Periodic("invoice-run", settings.scheduler_tick_seconds, invoice_job),
                         Periodic("dunning", settings.scheduler_tick_seconds, dunning_job)]
    return runtime.create_app("ClientOps billing", [router], billing=billing)
