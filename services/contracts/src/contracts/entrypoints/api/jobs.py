"""Periodic jobs, triggerable for a given date (operators, tests): ARCHITECTURE §4."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from clientops_shared.runtime import runtime_of
from contracts.entrypoints.api import schemas
from contracts.entrypoints.api.deps import Operator
from contracts.entrypoints.jobs import run_daily

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.post("/daily", response_model=schemas.JobOut)
@router.post("/expiring", response_model=schemas.JobOut)
async def daily(request: Request, body: schemas.JobIn, actor: Operator) -> Any:
    """Run the daily job for ``on``: activations, amendments due, renewals, expiries and the
    60/30/7-day expiring notices. Once per date; a rerun answers the first run's result."""
    ran, result = await run_daily(runtime_of(request), body.on)
    return {"job": "contracts-daily", "on": body.on, "ran": ran, "result": result}
