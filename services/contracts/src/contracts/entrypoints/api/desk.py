"""Claims and court cases, upsell deals and client feedback."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from clientops_shared.auth import CurrentUser
from clientops_shared.paging import total_header
from clientops_shared.runtime import runtime_of
from contracts import views
from contracts.domain.claims import ClaimStage
from contracts.domain.sales import DealStage, FeedbackKind
from contracts.entrypoints.api import schemas
from contracts.entrypoints.api.deps import (
    ClaimDesk,
    DealDesk,
    Desk,
    Limit,
    Offset,
    Today,
    UoW,
    idempotent,
)
from contracts.service_layer import desk, handlers

router = APIRouter(prefix="/api", tags=["claims, deals, feedback"])


# --- claims ---------------------------------------------------------------------------------


@router.post("/claims", status_code=201, response_model=schemas.ClaimOut)
async def open_claim(request: Request, body: schemas.ClaimIn, actor: ClaimDesk, uow: UoW) -> Any:
    """A claim from a client; ``churn_risk`` marks a leaving client (a retention task)."""
    return await idempotent(request, uow, actor, body, schemas.ClaimOut,
                            lambda: desk.open_claim(uow, actor, **body.model_dump()))


@router.get("/claims", response_model=list[schemas.ClaimOut])
async def list_claims(request: Request, response: Response, actor: CurrentUser,
                      q: str | None = None, client_id: uuid.UUID | None = None,
                      stage: ClaimStage | None = None, lawyer: str | None = None,
                      churn_risk: bool | None = None, limit: Limit = 50, offset: Offset = 0
                      ) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.claims(session, actor, q=q, client_id=client_id,
                                         stage=stage, lawyer=lawyer, churn_risk=churn_risk,
                                         limit=limit, offset=offset)
    total_header(response, total)
    return rows


@router.get("/claims/{claim_id}", response_model=schemas.ClaimOut)
async def get_claim(claim_id: uuid.UUID, actor: CurrentUser, uow: UoW) -> Any:
    async with uow:
        claim = await uow.claim(claim_id)
        handlers.ensure_visible(actor, await uow.client(claim.client_id))
        return schemas.ClaimOut.model_validate(claim)


@router.post("/claims/{claim_id}/stage", response_model=schemas.ClaimOut)
async def move_claim(claim_id: uuid.UUID, body: schemas.ClaimStageIn, actor: ClaimDesk,
                     uow: UoW, today: Today) -> Any:
    """received → answered → negotiation → court → resolved | lost (forward only)."""
    async with uow:
        return await desk.move_claim(uow, actor, claim_id, stage=body.stage, note=body.note,
                                     today=today)


@router.patch("/claims/{claim_id}", response_model=schemas.ClaimOut)
async def update_claim(claim_id: uuid.UUID, body: schemas.ClaimPatch, actor: ClaimDesk,
                       uow: UoW) -> Any:
    """Assign the lawyer; raise or clear the churn-risk ("leaving client") flag."""
    async with uow:
        return await desk.update_claim(uow, actor, claim_id,
                                       changes=body.model_dump(exclude_unset=True))


# --- deals ------------------------------------------------------------------------------------


@router.post("/deals", status_code=201, response_model=schemas.DealOut)
async def create_deal(request: Request, body: schemas.DealIn, actor: DealDesk, uow: UoW) -> Any:
    return await idempotent(request, uow, actor, body, schemas.DealOut,
                            lambda: desk.create_deal(uow, actor, **body.model_dump()))


@router.get("/deals", response_model=list[schemas.DealOut])
async def list_deals(request: Request, response: Response, actor: CurrentUser,
                     q: str | None = None, client_id: uuid.UUID | None = None,
                     stage: DealStage | None = None, owner: str | None = None,
                     limit: Limit = 50, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.deals(session, actor, q=q, client_id=client_id, stage=stage,
                                        owner=owner, limit=limit, offset=offset)
    total_header(response, total)
    return rows


@router.post("/deals/{deal_id}/stage", response_model=schemas.DealOut)
async def move_deal(deal_id: uuid.UUID, body: schemas.DealStageIn, actor: DealDesk, uow: UoW,
                    today: Today) -> Any:
    async with uow:
        return await desk.move_deal(uow, actor, deal_id, stage=body.stage, today=today)


@router.post("/deals/{deal_id}/hand-over", response_model=schemas.DealOut)
async def hand_over_deal(deal_id: uuid.UUID, body: schemas.DealHandOverIn, actor: DealDesk,
                         uow: UoW) -> Any:
    """Hand the upsell to a sales manager (seed 000 §14)."""
    async with uow:
        return await desk.hand_over_deal(uow, actor, deal_id, to=body.to)


# --- feedback ---------------------------------------------------------------------------------


@router.post("/clients/{client_id}/feedback", status_code=201,
             response_model=schemas.FeedbackOut)
async def record_feedback(request: Request, client_id: uuid.UUID, body: schemas.FeedbackIn,
                          actor: Desk, uow: UoW, today: Today) -> Any:
    """Feedback, wishes, testimonial-letter requests, case material (seed 000 §12)."""
    return await idempotent(request, uow, actor, body, schemas.FeedbackOut,
                            lambda: desk.record_feedback(uow, actor, client_id, kind=body.kind,
                                                         text=body.text,
                                                         recorded_on=body.recorded_on or today))


@router.get("/feedback", response_model=list[schemas.FeedbackOut])
async def list_feedback(request: Request, response: Response, actor: CurrentUser,
                        q: str | None = None, client_id: uuid.UUID | None = None,
                        kind: FeedbackKind | None = None, limit: Limit = 50, offset: Offset = 0
                        ) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.feedback_list(session, actor, q=q, client_id=client_id,
                                                kind=kind, limit=limit, offset=offset)
    total_header(response, total)
    return rows
