"""The notifications HTTP API: every router of the service, for bootstrap to mount."""

from __future__ import annotations

from fastapi import APIRouter

from notifications.entrypoints.api import office, requests, tasks

router = APIRouter()
router.include_router(tasks.router)
router.include_router(office.router)
router.include_router(requests.router)
