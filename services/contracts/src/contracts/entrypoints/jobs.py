"""The daily job's entrypoints: the periodic tick and the run for a given date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from clientops_shared.jobs import run_once
from clientops_shared.runtime import Periodic, ServiceRuntime
from contracts.config import ContractsSettings
from contracts.service_layer.daily import JOB, run_day


async def run_daily(runtime: ServiceRuntime[Any], on: date) -> tuple[bool, Any]:
    """Run the day once (advisory-locked across replicas); a finished day is not run again."""
    settings: ContractsSettings = runtime.settings  # type: ignore[assignment]

    async def work() -> dict[str, Any]:
        async with runtime.uow() as uow:
            return await run_day(uow, on, settings.expiring_thresholds)

    return await run_once(runtime.engine, runtime.tables.job_run, JOB, on.isoformat(), work)


def daily_periodic(runtime: ServiceRuntime[Any], clock: Callable[[], date]) -> Periodic:
    """Wakes every few minutes and runs today (Moscow) if it has not run yet.

    A day the service was down is caught up by the next day's run: every step of the job
    selects by "date has come", and the expiry notices by "threshold crossed, not yet sent".
    """
    settings: ContractsSettings = runtime.settings  # type: ignore[assignment]

    async def tick() -> None:
        await run_daily(runtime, clock())

    return Periodic(JOB, settings.daily_job_poll_seconds, tick)
