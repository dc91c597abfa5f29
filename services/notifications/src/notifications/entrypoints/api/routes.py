from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from clientops_shared.auth import CurrentUser
from clientops_shared.errors import Forbidden, NotFound
from clientops_shared.runtime import runtime_of
from notifications import views

router = APIRouter(prefix="/api")
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


class TaskOut(BaseModel):
    id: uuid.UUID
    kind: str
    action: str
    function: str
    title: str
    client_id: uuid.UUID | None
    assignee: str
    due_at: datetime
    priority: str
    state: str
    outcome: str | None
    created_at: datetime
    done_at: datetime | None


class TimelineOut(BaseModel):
    at: datetime
    type: str
    summary: str
    producer: str


@router.get("/tasks", response_model=list[TaskOut])
async def list_tasks(request: Request, response: Response, actor: CurrentUser,
                     assignee: str | None = None, client_id: uuid.UUID | None = None,
                     state: str | None = None, kind: str | None = None, limit: Limit = 100,
                     offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.tasks(session, actor, assignee=assignee, client_id=client_id,
                                        state=state, kind=kind, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/clients/{client_id}/timeline", response_model=list[TimelineOut])
async def timeline(client_id: uuid.UUID, request: Request, actor: CurrentUser,
                   limit: Limit = 200, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        known, manager = await views.client_manager(session, client_id)
        if not known:
            raise NotFound(f"no events known for client {client_id}")
        if not actor.may_see_client_of(manager):
            raise Forbidden("this client is assigned to another manager")
        return await views.timeline(session, client_id, limit, offset)
