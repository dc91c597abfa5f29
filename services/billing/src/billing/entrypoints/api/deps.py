"""Dependencies of the billing API: roles, the unit of work, the long-running services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork
from clientops_shared.auth import Principal, require_roles
from clientops_shared.runtime import runtime_of
from clientops_shared.types import MAX_OFFSET

DESK_ROLES = ("billing", "accountant", "head")
"""The billing desk (admin is always allowed)."""

Desk = Annotated[Principal, Depends(require_roles(*DESK_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*DESK_ROLES, "manager"))]
"""Desk roles see every client; a manager only the clients assigned to them."""
DocumentReader = Annotated[Principal, Depends(require_roles(*DESK_ROLES, "manager", "service"))]
"""Readers, and other services (notifications attaches invoice PDFs to its mail)."""
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


async def uow(request: Request) -> BillingUnitOfWork:
    return runtime_of(request).uow()  # type: ignore[no-any-return]


async def billing(request: Request) -> Billing:
    found: Billing = request.app.state.billing
    return found


UoW = Annotated[BillingUnitOfWork, Depends(uow)]
BillingDep = Annotated[Billing, Depends(billing)]
