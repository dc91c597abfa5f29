"""Dependencies the contracts routes share: roles, the unit of work, the clock, storage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from clientops_shared.auth import Principal, require_roles
from clientops_shared.idempotency import idempotent as shared_idempotent
from clientops_shared.runtime import runtime_of
from clientops_shared.types import MAX_OFFSET
from contracts import documents as docs
from contracts.adapters.storage import FileStorage
from contracts.config import ContractsSettings
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

# who may do what at the contracts desk (admin may do everything)
Desk = Annotated[Principal, Depends(require_roles("manager", "head", "lawyer", "sales"))]
ContractDesk = Annotated[Principal, Depends(require_roles("manager", "head"))]
ClaimDesk = Annotated[Principal, Depends(require_roles("manager", "head", "lawyer"))]
DealDesk = Annotated[Principal, Depends(require_roles("manager", "head", "sales"))]
Head = Annotated[Principal, Depends(require_roles("head"))]
# a client's details and sites: anyone who may see the client, and web reading them for a
# technician on a visit (field-ops vouches for the order; web mints that service token)
ClientReader = Annotated[Principal, Depends(require_roles(
    "manager", "head", "billing", "dispatcher", "technician", "logistics", "lawyer",
    "accountant", "sales", "service"))]
Operator = Annotated[Principal, Depends(require_roles("head"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


async def uow(request: Request) -> ContractsUnitOfWork:
    return runtime_of(request).uow()  # type: ignore[no-any-return]


async def today(request: Request) -> date:
    """The Moscow business day; tests and demos may swap ``app.state.clock``."""
    clock: Callable[[], date] = request.app.state.clock
    return clock()


async def storage(request: Request) -> FileStorage:
    store: FileStorage = request.app.state.storage
    return store


async def settings(request: Request) -> ContractsSettings:
    value: ContractsSettings = runtime_of(request).settings  # type: ignore[assignment]
    return value


async def company(request: Request) -> docs.CompanyCard:
    card: docs.CompanyCard = request.app.state.company
    return card


UoW = Annotated[ContractsUnitOfWork, Depends(uow)]
Today = Annotated[date, Depends(today)]
Storage = Annotated[FileStorage, Depends(storage)]
Settings = Annotated[ContractsSettings, Depends(settings)]
Company = Annotated[docs.CompanyCard, Depends(company)]


async def idempotent(request: Request, uow: ContractsUnitOfWork, actor: Principal,
                     body: BaseModel, out: type[BaseModel], run: Callable[[], Awaitable[Any]],
                     status_code: int = 201) -> JSONResponse:
    """The shared Idempotency-Key flow, answering with ``out``'s JSON shape."""

    async def work(_: ContractsUnitOfWork) -> Any:
        return await run()

    return await shared_idempotent(
        request, actor, body, work, lambda r: out.model_validate(r).model_dump(mode="json"),
        status_code=status_code, uow=uow)
