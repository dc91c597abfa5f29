"""FastAPI dependencies of the notifications API: the wired services, a write done once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from clientops_shared.auth import Principal, require_roles
from clientops_shared.runtime import runtime_of
from clientops_shared.types import MAX_OFFSET
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


async def deps_of(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def new_uow(request: Request) -> NotificationsUnitOfWork:
    uow: NotificationsUnitOfWork = runtime_of(request).uow()
    return uow


Deps = Annotated[Dependencies, Depends(deps_of)]
Head = Annotated[Principal, Depends(require_roles("head"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
