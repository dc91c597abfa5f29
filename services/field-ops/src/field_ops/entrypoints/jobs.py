"""The clock job: a periodic tick and a run for a given moment (operators, tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from clientops_shared.jobs import run_once
from clientops_shared.runtime import Periodic, ServiceRuntime
from field_ops.service_layer.clock import JOB, tick


async def run_clock(runtime: ServiceRuntime[Any], at: datetime) -> tuple[bool, Any]:
    """Once per minute across replicas; what fired is marked on its row, so never twice."""

    async def work() -> dict[str, Any]:
        async with runtime.uow() as uow:
            return await tick(uow, at)

    key = at.replace(second=0, microsecond=0).isoformat()
    return await run_once(runtime.engine, runtime.tables.job_run, JOB, key, work)


def clock_periodic(runtime: ServiceRuntime[Any], clock: Callable[[], datetime],
                   every_seconds: float) -> Periodic:
    async def run() -> None:
        await run_clock(runtime, clock())

    return Periodic(JOB, every_seconds, run)
