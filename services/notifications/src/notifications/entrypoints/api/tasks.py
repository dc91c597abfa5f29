"""Tasks: the list, my day with the call list, done / snooze / cancel one or in bulk."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from clientops_shared.auth import CurrentUser
from clientops_shared.errors import Forbidden, InvalidInput, NotFound
from clientops_shared.http import model_response
from clientops_shared.idempotency import idempotent
from clientops_shared.paging import (
    After,
    decode_cursor,
    next_page,
    page_response,
    total_header,
)
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedInput
from notifications import views
from notifications.domain.model import Function, Priority, TaskState
from notifications.entrypoints.api.deps import Deps, Limit, Offset
from notifications.service_layer.tasks import Act, TaskCommand, act_on_tasks

router = APIRouter(prefix="/api", tags=["tasks"])


class TaskOut(BaseModel):
    id: uuid.UUID
    kind: str
    action: str
    function: str
    title: str
    client_id: uuid.UUID | None
    client_name: str | None = None
    assignee: str
    due_at: datetime
    priority: str
    state: str
    outcome: str | None
    created_at: datetime
    done_at: datetime | None
    snoozed_until: datetime | None = None
    source_event: str | None = None
    updated_at: datetime | None = None


class TimelineOut(BaseModel):
    at: datetime
    type: str
    summary: str
    producer: str


class Outcome(BoundedInput):
    outcome: str | None = Field(default=None, max_length=2000)


class CancelBody(BoundedInput):
    outcome: str = Field(min_length=1, max_length=2000, description="why the task is dropped")


class SnoozeBody(BoundedInput):
    until: AwareDatetime
    outcome: str | None = Field(default=None, max_length=2000)


class BulkBody(BoundedInput):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    action: Literal["done", "snooze", "cancel", "reopen"]
    outcome: str | None = Field(default=None, max_length=2000)
    until: AwareDatetime | None = None


class ClientGroup(BaseModel):
    client_id: uuid.UUID | None
    client_name: str | None
    tasks: list[TaskOut]


class Call(BaseModel):
    task_id: uuid.UUID
    client_id: uuid.UUID | None
    client_name: str | None
    invoice_id: uuid.UUID | None
    number: str | None
    outstanding: str | None
    days_overdue: int | None
    stage: str | None
    reminder_count: int | None
    due_at: datetime
    state: str
    last_outcome: str | None
    last_outcome_at: datetime | None


class MyDayOut(BaseModel):
    person: str
    day: Any
    at: datetime
    overdue: list[ClientGroup]
    today: list[ClientGroup]
    counts: dict[str, int]
    counts_cap: int = Field(description="a count above this was not counted further: "
                                        "show it as «более N»")
    next_cursor: str | None = Field(description="more of the day (overdue, then today): pass "
                                                "as ``after``; also in ``X-Next-Cursor``")
    calls: list[Call]


def _task_out(task: Any) -> dict[str, Any]:
    data = {name: getattr(task, name) for name in TaskOut.model_fields if hasattr(task, name)}
    return TaskOut.model_validate(data).model_dump(mode="json")


@router.get("/tasks", response_model=list[TaskOut])
async def list_tasks(
    request: Request, response: Response, actor: CurrentUser, deps: Deps,
    assignee: str | None = None, client_id: uuid.UUID | None = None,
    state: TaskState | None = None, kind: str | None = None,
    function: Function | None = None, priority: Priority | None = None,
    overdue: bool | None = None, due_before: AwareDatetime | None = None,
    due_after: AwareDatetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["due", "priority", "created"] = "due",
    limit: Limit = 100, offset: Offset = 0, after: After = None,
) -> Any:
    """Tasks the caller may see (a manager: their own and their clients'), filtered, a page at
    a time (``X-Next-Cursor`` → ``after``); ``X-Total-Count`` counts up to 1000."""
    f = views.TaskFilter(assignee=assignee, client_id=client_id, state=state, kind=kind,
                         function=function, priority=priority, overdue=overdue,
                         due_before=due_before, due_after=due_after, q=q)
    order = views.TASK_ORDERS[sort]
    key = decode_cursor(after, order.types) if after else None
    async with runtime_of(request).sessions() as session:
        total, rows = await views.tasks(session, actor, f, deps.now(), limit=limit,
                                        offset=offset, sort=sort, after=key)
    total_header(response, total)
    return next_page(request, response, rows, limit, order.key)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: uuid.UUID, request: Request, actor: CurrentUser) -> Any:
    async with runtime_of(request).sessions() as session:
        row = await views.task_by_id(session, task_id)
        if row is None:
            raise NotFound(f"no task {task_id}")
        if not actor.sees_all_clients and row["assignee"] != actor.username:
            _, manager = (await views.client_manager(session, uuid.UUID(row["client_id"]))
                          if row["client_id"] else (False, None))
            if not actor.may_see_client_of(manager):
                raise Forbidden("this task belongs to another manager")
    return row


@router.get("/my/tasks", response_model=MyDayOut)
async def my_tasks(request: Request, actor: CurrentUser, deps: Deps,
                   at: AwareDatetime | None = None, assignee: str | None = None,
                   limit: Limit = views.MY_DAY_PAGE, after: After = None) -> Response:
    """My day: overdue first, then today, grouped by client; the payment-reminder call list
    with amounts and the last outcome. The head may look at someone else's day. One page of
    ``limit`` tasks (50 unless asked), overdue and today's together; ``next_cursor`` (and the
    ``X-Next-Cursor`` / ``Link`` headers) → ``after`` continues it; counts are whole days."""
    person = actor.username
    if assignee and assignee != actor.username:
        if actor.role not in ("head", "admin"):
            raise Forbidden("only the head looks at another person's day")
        person = assignee
    key = decode_cursor(after, views.MY_DAY_KEY) if after else None
    async with runtime_of(request).reads() as session:
        day = await views.my_day(session, person, at or deps.now(), limit=limit, after=key)
    headers = {}
    if cursor := day["next_cursor"]:
        headers["X-Next-Cursor"] = cursor
        url = request.url.remove_query_params(["after"]).include_query_params(after=cursor)
        headers["Link"] = f'<{url}>; rel="next"'
    return model_response(MyDayOut.model_validate(day), headers=headers)


async def _act(request: Request, actor: Any, deps: Any, ids: list[uuid.UUID], act: Act,
               body: BaseModel | None, many: bool) -> Any:
    async def run(uow: Any) -> Any:
        return await act_on_tasks(uow, actor, ids, act, deps.now())

    def out(tasks: Any) -> Any:
        rendered = [_task_out(t) for t in tasks]
        return {"tasks": rendered, "count": len(rendered)} if many else rendered[0]

    return await idempotent(request, actor, body, run, out, status_code=200)


@router.post("/tasks/{task_id}/done", response_model=TaskOut)
async def done(task_id: uuid.UUID, body: Outcome, request: Request, actor: CurrentUser,
               deps: Deps) -> Any:
    """Done, with what came of it (e.g. "обещали оплатить 25-го")."""
    return await _act(request, actor, deps, [task_id],
                      Act(TaskCommand.DONE, body.outcome), body, many=False)


@router.post("/tasks/{task_id}/snooze", response_model=TaskOut)
async def snooze(task_id: uuid.UUID, body: SnoozeBody, request: Request, actor: CurrentUser,
                 deps: Deps) -> Any:
    return await _act(request, actor, deps, [task_id],
                      Act(TaskCommand.SNOOZE, body.outcome, body.until), body, many=False)


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut)
async def cancel(task_id: uuid.UUID, body: CancelBody, request: Request, actor: CurrentUser,
                 deps: Deps) -> Any:
    return await _act(request, actor, deps, [task_id],
                      Act(TaskCommand.CANCEL, body.outcome), body, many=False)


@router.post("/tasks/{task_id}/reopen", response_model=TaskOut)
async def reopen(task_id: uuid.UUID, request: Request, actor: CurrentUser, deps: Deps) -> Any:
    """Bring a snoozed task back before its time."""
    return await _act(request, actor, deps, [task_id], Act(TaskCommand.REOPEN), None,
                      many=False)


@router.post("/tasks/bulk")
async def bulk(body: BulkBody, request: Request, actor: CurrentUser, deps: Deps) -> Any:
    """One action on many tasks, all or nothing: if one cannot take it, none changes."""
    if body.action == "cancel" and not body.outcome:
        raise InvalidInput("outcome", "say why the tasks are dropped")
    act = Act(TaskCommand(body.action), body.outcome, body.until)
    return await _act(request, actor, deps, body.ids, act, body, many=True)


TIMELINE_PAGE = 50
"""Entries on one page of a client's timeline: bounded, so a client with 5,000 events
answers as fast as one with a hundred; the cursor reaches the rest."""


@router.get("/clients/{client_id}/timeline", response_model=list[TimelineOut])
async def timeline(client_id: uuid.UUID, request: Request, actor: CurrentUser,
                   limit: Limit = TIMELINE_PAGE, offset: Offset = 0,
                   order: Literal["asc", "desc"] = "asc", after: After = None) -> Response:
    """Every event about the client from every service, oldest first (``order=desc``: newest
    first), a page of ``limit`` (50 unless asked) at a time (``X-Next-Cursor`` → ``after``)."""
    key = decode_cursor(after, views.TIMELINE_KEY) if after else None
    async with runtime_of(request).reads() as session:
        known, manager = await views.client_manager(session, client_id)
        if not known:
            raise NotFound(f"no events known for client {client_id}")
        if not actor.may_see_client_of(manager):
            raise Forbidden("this client is assigned to another manager")
        rows = await views.timeline(session, client_id, limit, offset,
                                    newest_first=order == "desc", after=key)
    return page_response(request, rows, limit, lambda r: (r["at"], r["event_id"]), TimelineOut)
