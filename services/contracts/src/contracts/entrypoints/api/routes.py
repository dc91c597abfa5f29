from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from clientops_shared.auth import CurrentUser, Principal, require_roles
from clientops_shared.jobs import business_today
from clientops_shared.runtime import runtime_of
from contracts import views
from contracts.entrypoints.api import schemas
from contracts.service_layer import handlers
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

router = APIRouter(prefix="/api")

Desk = Annotated[Principal, Depends(require_roles("manager", "head", "lawyer", "sales"))]
Head = Annotated[Principal, Depends(require_roles("head"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def uow(request: Request) -> ContractsUnitOfWork:
    return runtime_of(request).uow()  # type: ignore[no-any-return]


UoW = Annotated[ContractsUnitOfWork, Depends(uow)]


@router.post("/clients", status_code=201, response_model=schemas.ClientOut)
async def register_client(body: schemas.ClientIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.register_client(uow, actor, **body.model_dump())


@router.get("/clients", response_model=list[schemas.ClientOut])
async def list_clients(request: Request, response: Response, actor: CurrentUser,
                       q: str | None = None, manager: str | None = None,
                       unassigned: bool = False, limit: Limit = 50, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.clients(session, actor, q=q, manager=manager,
                                          unassigned=unassigned, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/clients/{client_id}", response_model=schemas.ClientOut)
async def get_client(client_id: uuid.UUID, actor: CurrentUser, uow: UoW) -> Any:
    async with uow:
        client = await uow.client(client_id)
        handlers.ensure_visible(actor, client)
        return client


@router.post("/clients/{client_id}/sites", status_code=201, response_model=schemas.SiteOut)
async def add_site(client_id: uuid.UUID, body: schemas.SiteIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.add_site(uow, actor, client_id, **body.model_dump())


@router.post("/contracts", status_code=201, response_model=schemas.ContractOut)
async def create_contract(body: schemas.ContractIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.create_contract(uow, actor, **body.model_dump())


@router.get("/contracts", response_model=list[schemas.ContractOut])
async def list_contracts(request: Request, response: Response, actor: CurrentUser,
                         client_id: uuid.UUID | None = None, status: str | None = None,
                         limit: Limit = 50, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.contracts(session, actor, client_id=client_id, status=status,
                                            limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/contracts/expiring", response_model=list[schemas.ExpiringOut])
async def expiring(request: Request, actor: CurrentUser,
                   within_days: Annotated[int, Query(ge=0, le=3650)] = 60) -> Any:
    async with runtime_of(request).sessions() as session:
        return await views.expiring(session, actor, business_today(), within_days)


@router.get("/contracts/{contract_id}", response_model=schemas.ContractOut)
async def get_contract(contract_id: uuid.UUID, actor: CurrentUser, uow: UoW) -> Any:
    async with uow:
        contract = await uow.contract(contract_id)
        handlers.ensure_visible(actor, await uow.client(contract.client_id))
        return contract


@router.post("/contracts/{contract_id}/submit", response_model=schemas.ContractOut)
async def submit(contract_id: uuid.UUID, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.submit_for_approval(uow, actor, contract_id)


@router.post("/contracts/{contract_id}/approve", response_model=schemas.ContractOut)
async def approve(contract_id: uuid.UUID, body: schemas.DecisionIn, actor: Head, uow: UoW) -> Any:
    async with uow:
        return await handlers.decide(uow, actor, contract_id, approve=True, reason=body.reason)


@router.post("/contracts/{contract_id}/reject", response_model=schemas.ContractOut)
async def reject(contract_id: uuid.UUID, body: schemas.DecisionIn, actor: Head, uow: UoW) -> Any:
    async with uow:
        return await handlers.decide(uow, actor, contract_id, approve=False, reason=body.reason)


@router.post("/contracts/{contract_id}/sign", response_model=schemas.SignOut)
async def sign(contract_id: uuid.UUID, body: schemas.SignIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.sign_contract(uow, actor, contract_id, body.signed_on)
