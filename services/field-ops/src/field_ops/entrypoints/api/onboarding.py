"""Onboarding (000 §6, 7): the client's cloud and the training sessions."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from clientops_shared.auth import CurrentUser
from clientops_shared.runtime import runtime_of
from field_ops.adapters import orm
from field_ops.adapters.cloud_admin import CloudAdmin
from field_ops.entrypoints.api import schemas
from field_ops.entrypoints.api.deps import Limit, Now, Offset, Reporter, UoW
from field_ops.service_layer import onboarding as uc

router = APIRouter(prefix="/api", tags=["onboarding"])

# what a cloud tenant answers: never a password
TENANT_FIELDS = ("id", "client_id", "contract_id", "state", "url", "login", "support_account",
                 "requested_at", "provisioned_at", "provisioned_by")


def _tenant(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row.get(k) for k in TENANT_FIELDS},
            "state_label": uc.TENANT_LABELS[row["state"]]}


def _training(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "state_label": uc.TRAINING_LABELS[row["state"]]}


@router.get("/cloud-tenants")
async def tenants(request: Request, actor: CurrentUser, client_id: uuid.UUID | None = None,
                  state: str | None = None, limit: Limit = 100, offset: Offset = 0
                  ) -> list[dict[str, Any]]:
    t = orm.cloud_tenant.c
    query = sa.select(orm.cloud_tenant).order_by(t.requested_at)
    if client_id:
        query = query.where(t.client_id == client_id)
    if state:
        query = query.where(t.state == state)
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
    return [_tenant(dict(r)) for r in rows]


@router.post("/cloud-tenants/{tenant_id}/url")
async def agree_url(request: Request, tenant_id: uuid.UUID, body: schemas.UrlIn,
                    actor: Reporter, uow: UoW) -> dict[str, Any]:
    """The cloud's address as agreed with the client."""
    domain = runtime_of(request).settings.cloud_domain  # type: ignore[attr-defined]
    async with uow:
        return _tenant(await uc.agree_url(uow, tenant_id, body.subdomain, domain))


@router.post("/cloud-tenants/{tenant_id}/provision")
async def provision(request: Request, tenant_id: uuid.UUID, actor: Reporter, uow: UoW,
                    now: Now) -> dict[str, Any]:
    """Create the cloud and our support account; the client gets the login by mail."""
    admin: CloudAdmin = request.app.state.cloud_admin
    async with uow:
        return _tenant(await uc.provision(uow, admin, tenant_id, actor.username, now))


@router.post("/trainings", status_code=201)
async def book(body: schemas.TrainingIn, actor: Reporter, uow: UoW, now: Now
               ) -> dict[str, Any]:
    async with uow:
        return _training(await uc.book_training(uow, actor.username, body.model_dump(), now))


@router.get("/trainings")
async def trainings(request: Request, actor: CurrentUser, client_id: uuid.UUID | None = None,
                    limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    s = orm.training_session.c
    query = sa.select(orm.training_session).order_by(s.starts_at)
    if client_id:
        query = query.where(s.client_id == client_id)
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.limit(limit).offset(offset))).mappings().all()
    return [_training(dict(r)) for r in rows]


@router.post("/trainings/{session_id}/reschedule")
async def reschedule(session_id: uuid.UUID, body: schemas.MoveIn, actor: Reporter, uow: UoW,
                     now: Now) -> dict[str, Any]:
    async with uow:
        return _training(await uc.move_training(uow, session_id, body.starts_at, now))


@router.post("/trainings/{session_id}/complete")
async def complete(session_id: uuid.UUID, body: schemas.CompleteIn, actor: Reporter,
                   uow: UoW, now: Now) -> dict[str, Any]:
    async with uow:
        return _training(await uc.complete_training(uow, session_id, body.recording_url, now))


@router.patch("/trainings/{session_id}")
async def note(session_id: uuid.UUID, body: schemas.TrainingNoteIn, actor: Reporter,
               uow: UoW) -> dict[str, Any]:
    """Recording link, feedback, the technical questionnaire (server format, equipment,
    integration, access points) for the support specialists."""
    async with uow:
        return _training(await uc.note_training(uow, session_id,
                                                body.model_dump(exclude_unset=True)))
