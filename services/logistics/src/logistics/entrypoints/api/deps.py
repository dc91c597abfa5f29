"""Dependencies of the logistics API: roles, the unit of work, the long-running services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from clientops_shared.auth import Principal, require_roles
from clientops_shared.runtime import runtime_of
from clientops_shared.types import MAX_OFFSET
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork

DESK_ROLES = ("logistics", "head")

Desk = Annotated[Principal, Depends(require_roles(*DESK_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*DESK_ROLES, "manager", "accountant",
                                                    "sales", "dispatcher"))]
"""Desk roles see every client; a manager or sales person only their own clients."""
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def uow(request: Request) -> LogisticsUnitOfWork:
    return runtime_of(request).uow()  # type: ignore[no-any-return]


def logistics(request: Request) -> Logistics:
    found: Logistics = request.app.state.logistics
    return found


UoW = Annotated[LogisticsUnitOfWork, Depends(uow)]
LogisticsDep = Annotated[Logistics, Depends(logistics)]
