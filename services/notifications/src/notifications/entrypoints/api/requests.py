"""Clients' requests (the journal: register, list, read, answer) and hand-made tasks.

Bodies take plain values and the use cases check them, so every refusal is a Russian 422
naming the field; sizes are bounded at the door (a longer value is refused unread)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from clientops_shared.auth import CurrentUser, Principal, require_roles
from clientops_shared.errors import Forbidden, NotFound
from clientops_shared.idempotency import idempotent
from clientops_shared.paging import total_header
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedInput
from notifications import views
from notifications.domain.model import Function
from notifications.domain.requests import RequestKind, RequestState
from notifications.entrypoints.api.deps import Deps, Limit, Offset
from notifications.entrypoints.api.tasks import _task_out
from notifications.service_layer import requests as use_cases

router = APIRouter(prefix="/api", tags=["requests"])
# who takes a client's call or letter and registers it (a technician reports on a visit)
REGISTRARS = ("head", "manager", "billing", "accountant", "dispatcher", "lawyer", "sales")
Registrar = Annotated[Principal, Depends(require_roles(*REGISTRARS))]
Head = Annotated[Principal, Depends(require_roles("head"))]
# far above every real bound: the use case says the real one in Russian
_LOOSE = 20000


class RequestIn(BoundedInput):
    client_id: str | None = Field(default=None, max_length=100)
    kind: str | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=100)
    subject: str | None = Field(default=None, max_length=_LOOSE)


class AnswerIn(BoundedInput):
    answer: str | None = Field(default=None, max_length=_LOOSE)


class TaskIn(BoundedInput):
    title: str | None = Field(default=None, max_length=_LOOSE)
    due_on: str | None = Field(default=None, max_length=100)
    assignee: str | None = Field(default=None, max_length=200)
    client_id: str | None = Field(default=None, max_length=100)
    priority: str | None = Field(default=None, max_length=100)
    function: str | None = Field(default=None, max_length=100)


class RequestOut(BaseModel):
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str | None = None
    manager: str | None = None
    kind: str
    kind_label: str
    channel: str
    channel_label: str
    subject: str
    function: str
    function_label: str
    state: str
    state_label: str
    registered_by: str
    registered_at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    task: dict[str, Any] | None = None


async def _one(request: Request, request_id: uuid.UUID, actor: Any) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        row = await views.client_request_by_id(session, request_id)
    if row is None:
        raise NotFound("Такого обращения нет.")
    if not actor.may_see_client_of(row["manager"]):
        raise Forbidden("Это обращение клиента другого менеджера.")
    return row


@router.post("/requests", response_model=RequestOut, status_code=201)
async def register(body: RequestIn, request: Request, actor: Registrar, deps: Deps) -> Any:
    """Register a client's call or letter; it is numbered and routed by its kind."""
    cmd = use_cases.Registration(
        client_id=body.client_id, kind=body.kind, channel=body.channel, subject=body.subject
    )

    async def run(uow: Any) -> Any:
        return await use_cases.register_request(uow, actor, cmd, deps.now())

    response = await idempotent(
        request, actor, body, run, lambda r: {"id": str(r.id), "number": r.number}, status_code=201
    )
    if response.status_code != 201:
        return response
    created = json.loads(bytes(response.body))
    return await _one(request, uuid.UUID(created["id"]), actor)


@router.get("/requests", response_model=list[RequestOut])
async def journal(
    request: Request,
    response: Response,
    actor: CurrentUser,
    state: RequestState | None = None,
    function: Function | None = None,
    kind: RequestKind | None = None,
    client_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """The requests journal, newest first, filtered; ``X-Total-Count`` counts up to 1000."""
    f = views.RequestFilter(state=state, function=function, kind=kind, client_id=client_id, q=q)
    async with runtime_of(request).sessions() as session:
        total, rows = await views.client_requests(session, actor, f, limit=limit, offset=offset)
    total_header(response, total)
    return rows


@router.get("/requests/open-summary")
async def open_summary(request: Request, actor: Head) -> Any:
    """Open requests per function, for the head's workload."""
    async with runtime_of(request).sessions() as session:
        return await views.open_requests(session)


@router.get("/requests/{request_id}", response_model=RequestOut)
async def read(request_id: uuid.UUID, request: Request, actor: CurrentUser) -> Any:
    return await _one(request, request_id, actor)


@router.post("/requests/{request_id}/answer", response_model=RequestOut)
async def answer(
    request_id: uuid.UUID, body: AnswerIn, request: Request, actor: CurrentUser, deps: Deps
) -> Any:
    """The routed function's answer: the request closes, its task too, the client is mailed."""

    async def run(uow: Any) -> Any:
        return await use_cases.answer_request(uow, actor, request_id, body.answer, deps.now())

    response = await idempotent(
        request, actor, body, run, lambda r: {"id": str(r.id)}, status_code=200
    )
    if response.status_code != 200:
        return response
    return await _one(request, request_id, actor)


@router.post("/tasks", status_code=201)
async def create_task(body: TaskIn, request: Request, actor: CurrentUser, deps: Deps) -> Any:
    """A task by hand: for oneself, or (the head) for someone else."""
    cmd = use_cases.ManualTask(
        title=body.title,
        due_on=body.due_on,
        assignee=body.assignee,
        client_id=body.client_id,
        priority=body.priority,
        function=body.function,
    )

    async def run(uow: Any) -> Any:
        return await use_cases.create_task(uow, actor, cmd, deps.now())

    return await idempotent(request, actor, body, run, _task_out, status_code=201)
