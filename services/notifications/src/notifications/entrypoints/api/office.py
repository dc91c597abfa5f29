"""The head's and the operators' side: mail delivery, escalations, workload, assignments,
the staff directory and running the periodic jobs for a given moment."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, EmailStr, Field
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import CurrentUser, Principal, require_roles
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.idempotency import idempotent
from clientops_shared.paging import total_header
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedDate, BoundedInput
from notifications import views
from notifications.adapters import orm
from notifications.domain.model import DeliveryState, Function
from notifications.entrypoints.api.deps import Deps, Head, Limit, Offset, new_uow
from notifications.service_layer import jobs, mail, tasks

router = APIRouter(prefix="/api")
Admin = Annotated[Principal, Depends(require_roles("head", "admin"))]


# --- mail --------------------------------------------------------------------------------


class MailOut(BaseModel):
    id: uuid.UUID
    template: str
    to: str
    client_id: uuid.UUID | None
    state: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    message_id: str | None
    attachments: list[str]
    dedupe_key: str | None


@router.get("/mail", response_model=list[MailOut], tags=["mail"])
async def list_mail(request: Request, response: Response, actor: CurrentUser,
                    state: DeliveryState | None = None, client_id: uuid.UUID | None = None,
                    template: str | None = None, limit: Limit = 100, offset: Offset = 0
                    ) -> Any:
    """Delivery state of every mail: pending (with the next try), sent, failed (with why)."""
    async with runtime_of(request).sessions() as session:
        total, rows = await views.mail(session, actor, state=state, client_id=client_id,
                                       template=template, limit=limit, offset=offset)
    total_header(response, total)
    return rows


@router.post("/mail/{delivery_id}/retry", tags=["mail"])
async def retry_mail(delivery_id: uuid.UUID, request: Request, actor: Admin, deps: Deps
                     ) -> dict[str, str]:
    """Queue a failed mail again once its cause is fixed (e.g. the address was corrected)."""
    async with new_uow(request) as uow:
        outcome = await mail.retry_failed(uow, delivery_id, deps.now())
        if outcome == "missing":
            raise NotFound(f"no mail {delivery_id}")
        if outcome == "not_failed":
            raise Conflict("only a failed mail is queued again")
        if outcome == "secret":
            raise Conflict("this mail carried a one-time secret that was never stored: "
                           "new credentials must be issued instead")
        uow.audit("mail.retry", "mail_delivery", delivery_id)
        await uow.commit()
    return {"id": str(delivery_id), "state": "pending"}


# --- escalations and workload -------------------------------------------------------------


@router.get("/escalations", tags=["escalations"])
async def list_escalations(request: Request, response: Response, actor: Head,
                           limit: Limit = 100, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.escalations(session, limit, offset)
    total_header(response, total)
    return rows


@router.get("/workload", tags=["workload"])
async def workload(request: Request, actor: Head, deps: Deps, since: BoundedDate | None = None,
                   targets: str | None = None) -> Any:
    """Per person and per function: open, overdue, done this week, median time to done; who
    can do each function (bus factor); which sole functions could move to whom (``targets``:
    comma-separated usernames, e.g. the under-loaded senior manager)."""
    now = deps.now()
    start = views.window_start(now, deps.workload_window_days, since)
    chosen = tuple(t.strip() for t in targets.split(",") if t.strip()) if targets else \
        deps.regrouping_targets
    async with runtime_of(request).sessions() as session:
        facts = await views.task_facts(session, start, now)
    return views.workload_report(facts, now, start, chosen)


@router.get("/workload/history", tags=["workload"])
async def workload_history(request: Request, actor: Head, deps: Deps,
                           weeks: Annotated[int, Query(ge=1, le=52)] = 8) -> Any:
    """Tasks done per person per week (Monday to Sunday, Moscow time) for the last ``weeks``
    weeks, the current one included, oldest first: ``people[].done[i]`` belongs to
    ``weeks[i]``; ``totals[i]`` is everyone's."""
    async with runtime_of(request).sessions() as session:
        return await views.done_history(session, deps.now(), weeks)


# --- assignments ------------------------------------------------------------------------------


class AssignmentBody(BoundedInput):
    to_assignee: str = Field(min_length=1, max_length=100)
    client_id: uuid.UUID | None = None
    function: Function | None = None
    from_assignee: str | None = Field(default=None, min_length=1, max_length=100)
    standing: bool = False
    note: str | None = Field(default=None, max_length=2000)


def _assignment_out(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    out["id"] = str(out["id"])
    out["at"] = out["at"].isoformat()
    out["function"] = None if out["function"] is None else str(out["function"])
    return out


@router.post("/assignments", status_code=201, tags=["assignments"])
async def create_assignment(body: AssignmentBody, request: Request, actor: Head, deps: Deps
                            ) -> Any:
    """Move a client's or a function's active tasks to another person in bulk (head only);
    ``standing`` keeps routing the function's new tasks there too."""
    request_ = tasks.AssignmentRequest(
        to_assignee=body.to_assignee, client_id=str(body.client_id) if body.client_id else None,
        function=body.function, from_assignee=body.from_assignee, standing=body.standing,
        note=body.note)

    async def run(uow: Any) -> Any:
        return await tasks.assign(uow, actor, request_, deps.now(), deps.head)

    return await idempotent(request, actor, body, run, _assignment_out, status_code=201)


@router.get("/assignments", tags=["assignments"])
async def list_assignments(request: Request, response: Response, actor: Head,
                           client_id: uuid.UUID | None = None,
                           function: Function | None = None,
                           limit: Limit = 100, offset: Offset = 0) -> Any:
    """The history of who moved what to whom."""
    async with runtime_of(request).sessions() as session:
        total, rows = await views.assignments(
            session, client_id=str(client_id) if client_id else None, function=function,
            limit=limit, offset=offset)
    total_header(response, total)
    return rows


@router.get("/assignments/routing", tags=["assignments"])
async def list_routing(request: Request, actor: Head) -> Any:
    """Standing moves: new tasks of a function go to another person."""
    async with runtime_of(request).sessions() as session:
        rows = await views.routing(session)
    return [{**r, "from_assignee": None if r["from_assignee"] == orm.ANY_ASSIGNEE
             else r["from_assignee"]} for r in rows]


@router.delete("/assignments/routing/{function}", status_code=204, tags=["assignments"])
async def drop_routing(function: Function, request: Request, actor: Head,
                       from_assignee: str | None = None) -> Response:
    async with new_uow(request) as uow:
        if not await tasks.drop_routing(uow, function, from_assignee):
            raise NotFound(f"no standing move for {function} from {from_assignee or 'anyone'}")
        await uow.commit()
    return Response(status_code=204)


# --- staff directory ---------------------------------------------------------------------


class StaffBody(BoundedInput):
    email: EmailStr
    full_name: str | None = Field(default=None, max_length=200)
    digest: bool = True
    active: bool = True


@router.get("/staff", tags=["staff"])
async def list_staff(request: Request, actor: Admin) -> Any:
    async with runtime_of(request).sessions() as session:
        return await views.staff(session)


@router.put("/staff/{username}", tags=["staff"])
async def put_staff(username: str, body: StaffBody, request: Request, actor: Admin, deps: Deps
                    ) -> Any:
    """The e-mail address `user:<username>` mails (escalations, digests) go to."""
    if not username or len(username) > 100 or username.startswith("queue:"):
        raise InvalidInput("username", "a person's username, not a queue")
    values = {"username": username, **body.model_dump(), "updated_at": deps.now()}
    async with new_uow(request) as uow:
        t = orm.staff_member
        await uow.session.execute(insert(t).values(**values).on_conflict_do_update(
            index_elements=[t.c.username], set_={k: v for k, v in values.items()
                                                 if k != "username"}))
        uow.audit("staff.put", "staff_member", username, after=values)
        await uow.commit()
    return {**values, "updated_at": values["updated_at"].isoformat()}


# --- jobs --------------------------------------------------------------------------------


class JobBody(BoundedInput):
    at: AwareDatetime | None = Field(default=None, description="the moment to run it for")
    force: bool = Field(default=False, description="digest: ignore the hour and day off")


@router.post("/jobs/{job}/run", tags=["jobs"])
async def run_job(job: Literal["mail-sender", "overdue-sweep", "daily-digest"], body: JobBody,
                  request: Request, actor: Admin, deps: Deps) -> Any:
    """Run a periodic job now, for a given moment (operators, tests)."""
    runtime = runtime_of(request)
    if job == "mail-sender":
        return await mail.send_due_mail(runtime.uow, deps, body.at)
    if job == "overdue-sweep":
        return await jobs.sweep_overdue(runtime.uow, deps, body.at)
    return await jobs.daily_digests(runtime.engine, runtime.uow, deps, body.at,
                                    force=body.force)

