"""The clock job: a periodic tick and a run for a given moment (operators, tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from clientops_shared.jobs import business_today, run_once
from clientops_shared.runtime import Periodic, ServiceRuntime
from field_ops.service_layer import maintenance
from field_ops.service_layer.clock import JOB, tick

MAINTENANCE_JOB = "field-ops-maintenance"


async def run_clock(runtime: ServiceRuntime[Any], at: datetime) -> tuple[bool, Any]:
    """Once per minute across replicas; what fired is marked on its row, so never twice.
    Maintenance visits are generated once per Moscow day on the same tick."""

    async def work() -> dict[str, Any]:
        async with runtime.uow() as uow:
            return await tick(uow, at)

    async def plans() -> dict[str, Any]:
        async with runtime.uow() as uow:
            made = await maintenance.generate(uow, business_today(at), at)
            await uow.commit()
            return {"maintenance_orders": made}

    await run_once(runtime.engine, runtime.tables.job_run, MAINTENANCE_JOB,
                   business_today(at).isoformat(), plans)
    key = at.replace(second=0, microsecond=0).isoformat()
    return await run_once(runtime.engine, runtime.tables.job_run, JOB, key, work)


def clock_periodic(runtime: ServiceRuntime[Any], clock: Callable[[], datetime],
                   every_seconds: float) -> Periodic:
    async def run() -> None:
        await run_clock(runtime, clock())

    return Periodic(JOB, every_seconds, run)
