"""Contracts: creation, approval, signing, lifecycle, amendments, change requests, pilots."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from clientops_shared.auth import CurrentUser
from clientops_shared.http import XLSX, file_responses
from clientops_shared.offload import in_worker_process
from clientops_shared.paging import total_header
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedDate
from contracts import views
from contracts.domain.model import AmendmentKind, ChangeRequestState, ContractKind, ContractStatus
from contracts.entrypoints.api import reports, schemas
from contracts.entrypoints.api.deps import (
    ContractDesk,
    Head,
    Limit,
    Offset,
    Today,
    UoW,
    idempotent,
)
from contracts.service_layer import handlers

router = APIRouter(prefix="/api", tags=["contracts"])


@router.post("/contracts", status_code=201, response_model=schemas.ContractOut)
async def create_contract(request: Request, body: schemas.ContractIn, actor: ContractDesk,
                          uow: UoW) -> Any:
    """A draft (standard) or a contract sent to the head (non-standard). Idempotency-Key."""
    return await idempotent(request, uow, actor, body, schemas.ContractOut,
                            lambda: handlers.create_contract(uow, actor, **body.model_dump()))


@router.get("/contracts", response_model=list[schemas.ContractOut])
async def list_contracts(request: Request, response: Response, actor: CurrentUser,
                         client_id: uuid.UUID | None = None,
                         status: ContractStatus | None = None, kind: ContractKind | None = None,
                         q: str | None = None, limit: Limit = 50, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.contracts(session, actor, client_id=client_id,
                                            status=status, kind=kind, q=q, limit=limit,
                                            offset=offset)
    total_header(response, total)
    return rows


@router.get("/contracts/expiring", response_model=list[schemas.ExpiringOut],
            responses=file_responses(XLSX))
async def expiring(request: Request, actor: CurrentUser, today: Today,
                   within_days: Annotated[int, Query(ge=0, le=3650)] = 60,
                   on: BoundedDate | None = None,
                   format: Literal["json", "xlsx"] = "json") -> Any:
    """Contracts ending within N days: renews itself or needs re-signing, owner, last contact.

    ``format=xlsx`` answers the same list as a spreadsheet.
    """
    day = on or today
    async with runtime_of(request).sessions() as session:
        rows = await views.expiring(session, actor, day, within_days)
    if format == "xlsx":
        content = await in_worker_process(reports.expiring_xlsx, rows, day, within_days)
        return Response(content, media_type=reports.XLSX, headers={
            "Content-Disposition": f'attachment; filename="expiring-{day.isoformat()}.xlsx"'})
    return rows


@router.get("/contracts/{contract_id}", response_model=schemas.ContractOut)
async def get_contract(contract_id: uuid.UUID, actor: CurrentUser, uow: UoW) -> Any:
    async with uow:
        contract = await uow.contract(contract_id)
        handlers.ensure_visible(actor, await uow.client(contract.client_id))
        return schemas.ContractOut.model_validate(contract)


@router.post("/contracts/{contract_id}/submit", response_model=schemas.ContractOut)
async def submit(contract_id: uuid.UUID, actor: ContractDesk, uow: UoW) -> Any:
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
async def sign(contract_id: uuid.UUID, body: schemas.SignIn, actor: ContractDesk, uow: UoW,
               today: Today) -> Any:
    """Signed: active at once if its start date has come, else ``signed`` until then."""
    async with uow:
        return await handlers.sign_contract(uow, actor, contract_id, body.signed_on, today)


@router.post("/contracts/{contract_id}/resign", status_code=201,
             response_model=schemas.ContractOut)
async def resign(request: Request, contract_id: uuid.UUID, body: schemas.ResignIn,
                 actor: ContractDesk, uow: UoW) -> Any:
    """Re-signing: a new contract replacing this one; when signed, this one ends."""
    return await idempotent(request, uow, actor, body, schemas.ContractOut,
                            lambda: handlers.resign(uow, actor, contract_id,
                                                    body.model_dump(exclude_unset=True)))


# --- amendments ------------------------------------------------------------------------------


async def _amend(request: Request, uow: UoW, actor: Any, contract_id: uuid.UUID,
                 kind: AmendmentKind, body: Any, today: date) -> Any:
    return await idempotent(request, uow, actor, body, schemas.AmendmentOut,
                            lambda: handlers.amend(uow, actor, contract_id, kind=kind,
                                                   today=today, **body.model_dump()))


@router.post("/contracts/{contract_id}/fee-change", status_code=201,
             response_model=schemas.AmendmentOut)
async def change_fee(request: Request, contract_id: uuid.UUID, body: schemas.FeeChangeIn,
                     actor: ContractDesk, uow: UoW, today: Today) -> Any:
    """New fee from ``effective_on``, no earlier than the notice date + notice period (422)."""
    return await _amend(request, uow, actor, contract_id, AmendmentKind.FEE_CHANGE, body, today)


@router.post("/contracts/{contract_id}/extension", status_code=201,
             response_model=schemas.AmendmentOut)
async def extend(request: Request, contract_id: uuid.UUID, body: schemas.ExtensionIn,
                 actor: ContractDesk, uow: UoW, today: Today) -> Any:
    return await _amend(request, uow, actor, contract_id, AmendmentKind.EXTENSION, body, today)


@router.post("/contracts/{contract_id}/suspend", status_code=201,
             response_model=schemas.AmendmentOut)
async def suspend(request: Request, contract_id: uuid.UUID, body: schemas.SuspensionIn,
                  actor: ContractDesk, uow: UoW, today: Today) -> Any:
    return await _amend(request, uow, actor, contract_id, AmendmentKind.SUSPENSION, body, today)


@router.post("/contracts/{contract_id}/terminate", status_code=201,
             response_model=schemas.AmendmentOut)
async def terminate(request: Request, contract_id: uuid.UUID, body: schemas.TerminationIn,
                    actor: ContractDesk, uow: UoW, today: Today) -> Any:
    """Terminated from ``effective_on`` (the first day without service)."""
    return await _amend(request, uow, actor, contract_id, AmendmentKind.TERMINATION, body,
                        today)


@router.post("/contracts/{contract_id}/resume", response_model=schemas.ContractOut)
async def resume(contract_id: uuid.UUID, body: schemas.ResumeIn, actor: ContractDesk,
                 uow: UoW) -> Any:
    async with uow:
        return await handlers.resume(uow, actor, contract_id, body.effective_on)


@router.get("/contracts/{contract_id}/amendments", response_model=list[schemas.AmendmentOut])
async def list_amendments(request: Request, contract_id: uuid.UUID, actor: CurrentUser,
                          uow: UoW) -> Any:
    async with uow:
        contract = await uow.contract(contract_id)
        handlers.ensure_visible(actor, await uow.client(contract.client_id))
    async with runtime_of(request).sessions() as session:
        return await views.amendments(session, contract_id)


@router.get("/amendments/{amendment_id}", response_model=schemas.AmendmentOut)
async def get_amendment(amendment_id: uuid.UUID, actor: CurrentUser, uow: UoW) -> Any:
    async with uow:
        amendment = await uow.amendment(amendment_id)
        contract = await uow.contract(amendment.contract_id)
        handlers.ensure_visible(actor, await uow.client(contract.client_id))
        return schemas.AmendmentOut.model_validate(amendment)


# --- change requests ----------------------------------------------------------------------------


@router.post("/contracts/{contract_id}/change-requests", status_code=201,
             response_model=schemas.ChangeRequestOut)
async def submit_change_request(request: Request, contract_id: uuid.UUID,
                                body: schemas.ChangeRequestIn, actor: ContractDesk, uow: UoW
                                ) -> Any:
    """A client's request to change terms, routed to the head."""
    return await idempotent(request, uow, actor, body, schemas.ChangeRequestOut,
                            lambda: handlers.submit_change_request(uow, actor, contract_id,
                                                                   **body.model_dump()))


@router.get("/change-requests", response_model=list[schemas.ChangeRequestOut])
async def list_change_requests(request: Request, response: Response, actor: CurrentUser,
                               state: ChangeRequestState | None = None,
                               contract_id: uuid.UUID | None = None,
                               client_id: uuid.UUID | None = None, limit: Limit = 50,
                               offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.change_requests(session, actor, state=state,
                                                  contract_id=contract_id,
                                                  client_id=client_id, limit=limit,
                                                  offset=offset)
    total_header(response, total)
    return rows


@router.post("/change-requests/{request_id}/decide", response_model=schemas.ChangeRequestOut)
async def decide_change_request(request_id: uuid.UUID, body: schemas.ChangeDecisionIn,
                                actor: Head, uow: UoW, today: Today) -> Any:
    """The head's decision with its reason; an approved change becomes an amendment."""
    async with uow:
        return await handlers.decide_change_request(uow, actor, request_id,
                                                    approve=body.approve, reason=body.reason,
                                                    today=today)


# --- pilots -----------------------------------------------------------------------------------


@router.post("/contracts/{contract_id}/pilot/end", response_model=schemas.ContractOut)
async def end_pilot(contract_id: uuid.UUID, body: schemas.PilotEndIn, actor: ContractDesk,
                    uow: UoW) -> Any:
    """The pilot ended (or its outcome is now known): success or declined, with a note."""
    async with uow:
        return await handlers.end_pilot(uow, actor, contract_id, **body.model_dump())


@router.post("/contracts/{contract_id}/pilot/convert", status_code=201,
             response_model=schemas.ContractOut)
async def convert_pilot(request: Request, contract_id: uuid.UUID, body: schemas.ConvertIn,
                        actor: ContractDesk, uow: UoW, today: Today) -> Any:
    """A paid contract replaces the pilot; with ``signed_on`` it is signed and billing starts."""
    terms = body.model_dump(exclude_unset=True, exclude={"signed_on"})
    terms.setdefault("kind", body.kind)
    return await idempotent(request, uow, actor, body, schemas.ContractOut,
                            lambda: handlers.convert_pilot(uow, actor, contract_id,
                                                           terms=terms,
                                                           signed_on=body.signed_on,
                                                           today=today))
