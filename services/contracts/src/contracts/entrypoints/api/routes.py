"""Every route of the contracts API, gathered for bootstrap."""

from __future__ import annotations

from fastapi import APIRouter

from contracts.entrypoints.api import clients, contracts, desk, documents, jobs

router = APIRouter()
for module in (clients, contracts, desk, documents, jobs):
    router.include_router(module.router)
