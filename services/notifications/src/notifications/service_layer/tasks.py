"""People working their queue: done / snooze / cancel (one or in bulk), and the head's moves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from notifications.adapters import orm
from notifications.domain.assignments import AssignmentError, Scope, may_act_on, reassign
from notifications.domain.model import DomainError, IllegalTransition, Task
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


class TaskCommand(StrEnum):
    DONE = "done"
    SNOOZE = "snooze"
    CANCEL = "cancel"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Act:
    command: TaskCommand
    outcome: str | None = None
    until: datetime | None = None


def snapshot(task: Task) -> dict[str, Any]:
    return {"state": str(task.state), "assignee": task.assignee, "outcome": task.outcome,
            "snoozed_until": task.snoozed_until, "done_at": task.done_at}


def _apply(task: Task, act: Act, now: datetime) -> None:
    if act.command is TaskCommand.DONE:
        task.complete(now, act.outcome)
    elif act.command is TaskCommand.CANCEL:
        task.cancel(now, act.outcome)
    elif act.command is TaskCommand.SNOOZE:
        if act.until is None:
            raise InvalidInput("until", "a snooze needs the moment to come back")
        task.snooze(act.until, now, act.outcome)
    else:
        task.reopen(now)


async def act_on_tasks(uow: NotificationsUnitOfWork, actor: Principal, ids: Sequence[uuid.UUID],
                       act: Act, now: datetime) -> list[Task]:
    """All or nothing: an unknown id, someone else's task or an illegal move changes nothing."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidInput("ids", "name at least one task")
    tasks = await uow.tasks_by_ids(unique)
    found = {t.id for t in tasks}
    missing = [str(i) for i in unique if i not in found]
    if missing:
        raise NotFound(f"no such task: {', '.join(missing)}", ids=missing)
    foreign = [str(t.id) for t in tasks if not may_act_on(t, actor.username, actor.role)]
    if foreign:
        raise Forbidden("a manager acts only on their own tasks; these belong to someone else: "
                        + ", ".join(foreign), ids=foreign)
    conflicts: list[dict[str, str]] = []
    for task in tasks:
        before = snapshot(task)
        try:
            _apply(task, act, now)
        except IllegalTransition as exc:
            conflicts.append({"id": str(task.id), "state": str(exc.current),
                              "detail": str(exc)})
            continue
        except DomainError as exc:
            raise InvalidInput("until", str(exc)) from None
        uow.audit(f"task.{act.command}", "task", task.id, before=before, after=snapshot(task))
    if conflicts:
        raise Conflict(f"{len(conflicts)} of {len(tasks)} tasks cannot be moved to "
                       f"{act.command}: nothing was changed", tasks=conflicts)
    order = {task_id: n for n, task_id in enumerate(unique)}
    return sorted(tasks, key=lambda t: order[t.id])


@dataclass(frozen=True)
class AssignmentRequest:
    to_assignee: str
    client_id: str | None = None
    function: Any = None
    from_assignee: str | None = None
    standing: bool = False
    note: str | None = None


async def assign(uow: NotificationsUnitOfWork, actor: Principal, request: AssignmentRequest,
                 now: datetime, head: str) -> dict[str, Any]:
    """Move a client's or a function's active tasks in bulk; record it; maybe keep routing."""
    try:
        scope = Scope(client_id=request.client_id, function=request.function,
                      from_assignee=request.from_assignee)
        if request.standing and request.function is None:
            raise AssignmentError("a standing move is for a function: name it")
        if request.standing and request.client_id is not None:
            raise AssignmentError("a standing move covers a whole function, not one client "
                                  "(the client's manager is changed in contracts)")
        moved = reassign(await uow.tasks_in_scope(scope), scope, request.to_assignee, now,
                         keep=(head,))
    except AssignmentError as exc:
        raise InvalidInput("scope", str(exc)) from None
    record = {
        "id": uuid.uuid4(), "at": now, "by": actor.username, "client_id": request.client_id,
        "function": request.function, "from_assignee": request.from_assignee,
        "to_assignee": request.to_assignee, "standing": request.standing,
        "note": request.note, "moved": len(moved), "task_ids": [str(t.id) for t in moved],
    }
    await uow.session.execute(insert(orm.assignment).values(**record))
    if request.standing:
        values = {"function": request.function,
                  "from_assignee": request.from_assignee or orm.ANY_ASSIGNEE,
                  "to_assignee": request.to_assignee, "assignment_id": record["id"],
                  "created_at": now}
        await uow.session.execute(insert(orm.routing_override).values(**values)
                                  .on_conflict_do_update(
                                      index_elements=[orm.routing_override.c.function,
                                                      orm.routing_override.c.from_assignee],
                                      set_={k: values[k] for k in ("to_assignee",
                                                                   "assignment_id",
                                                                   "created_at")}))
    uow.audit("assignment.create", "assignment", record["id"],
              after={k: v for k, v in record.items() if k != "task_ids"})
    return record


async def drop_routing(uow: NotificationsUnitOfWork, function: Any, from_assignee: str | None
                       ) -> bool:
    t = orm.routing_override
    result = await uow.session.execute(t.delete().where(
        t.c.function == function, t.c.from_assignee == (from_assignee or orm.ANY_ASSIGNEE))
        .returning(t.c.to_assignee))
    row = result.first()
    if row is not None:
        uow.audit("routing.drop", "routing_override", f"{function}:{from_assignee or '*'}",
                  before={"to_assignee": row.to_assignee})
    return row is not None
