"""Clients, their sites, contacts with them and their timeline."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from clientops_shared.auth import CurrentUser, Principal
from clientops_shared.db import Reader
from clientops_shared.errors import Forbidden, NotFound
from clientops_shared.http import model_response
from clientops_shared.paging import After, answer_page, decode_cursor, page_response
from clientops_shared.runtime import runtime_of
from contracts import views
from contracts.entrypoints.api import schemas
from contracts.entrypoints.api.deps import (
    ClientReader,
    ContractDesk,
    Desk,
    Head,
    Limit,
    Offset,
    UoW,
    idempotent,
)
from contracts.service_layer import desk, handlers

router = APIRouter(prefix="/api", tags=["clients"])


@router.post("/clients", status_code=201, response_model=schemas.ClientOut)
async def register_client(request: Request, body: schemas.ClientIn, actor: Desk, uow: UoW
                          ) -> Any:
    """Register a client; a manager's client is theirs. Accepts ``Idempotency-Key``."""
    values = body.domain_values()
    return await idempotent(request, uow, actor, body, schemas.ClientOut,
                            lambda: handlers.register_client(uow, actor, **values))


@router.get("/clients", response_model=list[schemas.ClientOut])
async def list_clients(request: Request, response: Response, actor: CurrentUser,
                       q: str | None = None, manager: str | None = None,
                       unassigned: bool = False, limit: Limit = 50, offset: Offset = 0,
                       after: After = None) -> Any:
    """Search by name (part) or INN (prefix), filter by manager; by name, a page at a time
    (``X-Next-Cursor`` → ``after``); X-Total-Count has the total up to 1000."""
    async with runtime_of(request).reads() as session:
        page = await views.clients(session, actor, q=q, manager=manager,
                                   unassigned=unassigned, limit=limit, offset=offset, after=after)
    return answer_page(request, response, page, limit, views.CLIENT_ORDER, schemas.ClientOut)


@router.get("/clients/unassigned", response_model=list[schemas.ClientOut])
async def unassigned_clients(request: Request, response: Response, actor: Head,
                             q: str | None = None, limit: Limit = 50, offset: Offset = 0,
                             after: After = None) -> Any:
    """Clients no manager owns (seed 000 §20), for the head to assign."""
    async with runtime_of(request).reads() as session:
        page = await views.clients(session, actor, q=q, manager=None, unassigned=True,
                                   limit=limit, offset=offset, after=after)
    return answer_page(request, response, page, limit, views.CLIENT_ORDER, schemas.ClientOut)


@router.post("/clients/assign", response_model=schemas.AssignOut)
async def assign_clients(body: schemas.AssignIn, actor: Head, uow: UoW) -> Any:
    """Assign or reassign clients in bulk; each moved client is a reassignment event."""
    async with uow:
        return await handlers.assign_clients(uow, actor, body.client_ids, body.manager)


@router.get("/clients/{client_id}", response_model=schemas.ClientOut)
async def get_client(request: Request, client_id: uuid.UUID, actor: ClientReader) -> Response:
    # the desks' hottest read: one statement outside a transaction, serialised once
    async with runtime_of(request).read_engine.connect() as conn:
        row = await visible_client(conn, actor, client_id)
    return model_response(schemas.ClientOut.model_validate(row))


async def visible_client(session: Reader, actor: Principal, client_id: uuid.UUID
                         ) -> dict[str, Any]:
    """The client's row, if this person may see it (404 / 403 otherwise)."""
    row = await views.client_by_id(session, client_id)
    if row is None:
        raise NotFound(f"client {client_id} not found")
    if not actor.may_see_client_of(row["manager"]):
        raise Forbidden("this client is assigned to another manager")
    return row


@router.patch("/clients/{client_id}", response_model=schemas.ClientOut)
async def update_client(client_id: uuid.UUID, body: schemas.ClientPatch, actor: Desk,
                        uow: UoW) -> Any:
    async with uow:
        return await handlers.update_client(uow, actor, client_id, body.changes())


@router.post("/clients/{client_id}/sites", status_code=201, response_model=schemas.SiteOut)
async def add_site(client_id: uuid.UUID, body: schemas.SiteIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await handlers.add_site(uow, actor, client_id, **body.model_dump())


@router.get("/clients/{client_id}/sites", response_model=list[schemas.SiteOut])
async def list_sites(client_id: uuid.UUID, actor: ClientReader, uow: UoW) -> Any:
    async with uow:
        handlers.ensure_visible(actor, await uow.client(client_id))
        return [schemas.SiteOut.model_validate(s) for s in await uow.sites_of(client_id)]


@router.patch("/sites/{site_id}", response_model=schemas.SiteOut)
async def update_site(site_id: uuid.UUID, body: schemas.SitePatch, actor: Desk, uow: UoW
                      ) -> Any:
    async with uow:
        return await handlers.update_site(uow, actor, site_id,
                                          body.model_dump(exclude_unset=True))


@router.post("/clients/{client_id}/interactions", status_code=201,
             response_model=schemas.InteractionOut)
async def record_interaction(client_id: uuid.UUID, body: schemas.InteractionIn,
                             actor: ContractDesk, uow: UoW) -> Any:
    """A call, letter or meeting with the client: the expiring report's "last contact"."""
    async with uow:
        return await desk.record_interaction(uow, actor, client_id, **body.model_dump())


@router.get("/clients/{client_id}/interactions", response_model=list[schemas.InteractionOut])
async def list_interactions(request: Request, client_id: uuid.UUID, actor: CurrentUser,
                            uow: UoW) -> Any:
    async with uow:
        handlers.ensure_visible(actor, await uow.client(client_id))
    async with runtime_of(request).sessions() as session:
        return await views.interactions(session, client_id)


TIMELINE_PAGE = 50


@router.get("/clients/{client_id}/timeline", response_model=list[schemas.TimelineEntry])
async def client_timeline(request: Request, client_id: uuid.UUID, actor: CurrentUser,
                          limit: Limit = TIMELINE_PAGE, after: After = None) -> Response:
    """Contracts, amendments, requests, claims, deals, feedback, contacts and scans, newest
    first, ``limit`` (50 unless asked) at a time (``X-Next-Cursor`` → ``after``)."""
    key = decode_cursor(after, views.TIMELINE_KEY) if after else None
    async with runtime_of(request).reads() as session:
        await visible_client(session, actor, client_id)
        rows = await views.timeline(session, client_id, limit, key)
    return page_response(request, rows, limit, lambda r: (r["at"], r["entity_id"]),
                         schemas.TimelineEntry)
