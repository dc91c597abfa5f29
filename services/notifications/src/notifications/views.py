"""Read side: task lists, my day with the call list, mail delivery, workload, history."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from clientops_shared.paging import (
    COUNT_CAP,
    after_key,
    capped_count,
    capped_counts,
    encode_cursor,
)
from notifications.adapters.orm import (
    PRIORITY_RANK,
    assignment,
    client_request,
    clients,
    escalation,
    mail_delivery,
    routing_override,
    staff_member,
    task,
    timeline_entry,
)
from notifications.domain import workload
from notifications.domain.model import (
    ACTIVE_STATES,
    MOSCOW,
    Function,
    Priority,
    TaskState,
    is_queue,
)
from notifications.domain.requests import (
    CHANNEL_TITLES,
    FUNCTION_TITLES,
    KIND_TITLES,
    STATE_TITLES,
    Channel,
    RequestKind,
    RequestState,
)

_ACTIVE = [s.value for s in ACTIVE_STATES]
_WORKABLE = [TaskState.OPEN.value, TaskState.SNOOZED.value]


def _state(value: str) -> sa.BindParameter[str]:
    """A task state written into the SQL, not bound: the driver's prepared statements are
    planned generically after a few runs, and a generic plan cannot use the partial
    ``(assignee, due_at, id) WHERE state IN ('open', 'snoozed')`` index for ``state = $1``
    (a 50k-task day then reads every one of the person's tasks per count)."""
    return sa.bindparam(None, value, type_=task.c.state.type, literal_execute=True)
_PRIORITY_RANK = PRIORITY_RANK


def _literal(value: Any, column: sa.ColumnElement[Any]) -> sa.BindParameter[Any]:
    """A value written into the SQL, not bound (as ``_state``): the statement is planned for
    it, not generically."""
    return sa.bindparam(None, value, type_=column.type, literal_execute=True)


def _visible_tasks(actor: Principal) -> sa.ColumnElement[bool]:
    if actor.sees_all_clients:
        return sa.true()
    # a manager sees their own work and their own clients' work
    own_clients = sa.select(sa.cast(clients.c.client_id, sa.Text)).where(
        clients.c.manager == actor.username)
    return sa.or_(task.c.assignee == actor.username, task.c.client_id.in_(own_clients))


@dataclass(frozen=True)
class TaskFilter:
    assignee: str | None = None
    client_id: uuid.UUID | None = None
    state: str | None = None
    kind: str | None = None
    function: str | None = None
    priority: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str | None = None


_TASK_COLUMNS = [task, clients.c.name.label("client_name")]
_WITH_CLIENT = task.outerjoin(clients, sa.cast(clients.c.client_id, sa.Text) == task.c.client_id)


@dataclass(frozen=True)
class TaskOrder:
    columns: tuple[sa.ColumnElement[Any], ...]
    descending: tuple[bool, ...]
    key: Any  # row → the values of ``columns``, for the next page's cursor
    types: tuple[type, ...]


TASK_ORDERS = {
    "due": TaskOrder((task.c.due_at, task.c.created_at, task.c.id), (False, False, False),
                     lambda r: (r["due_at"], r["created_at"], r["id"]),
                     (datetime, datetime, uuid.UUID)),
    "priority": TaskOrder((_PRIORITY_RANK, task.c.due_at, task.c.id), (True, False, False),
                          lambda r: (Priority(r["priority"]).rank, r["due_at"], r["id"]),
                          (int, datetime, uuid.UUID)),
    "created": TaskOrder((task.c.created_at, task.c.id), (True, False),
                         lambda r: (r["created_at"], r["id"]), (datetime, uuid.UUID)),
}


async def tasks(session: AsyncSession, actor: Principal, f: TaskFilter, now: datetime, *,
                limit: int, offset: int, sort: str = "due", after: tuple[Any, ...] | None = None
                ) -> tuple[int, list[dict[str, Any]]]:
    """A page of tasks (``limit + 1`` rows: the extra one says there is a next page) and the
    total, counted up to the cap."""
    where = [_visible_tasks(actor)]
    if f.assignee:
        where.append(task.c.assignee == f.assignee)
    if f.client_id:
        where.append(task.c.client_id == str(f.client_id))
    if f.state:
        where.append(task.c.state == f.state)
    if f.kind:
        where.append(task.c.kind == f.kind)
    if f.function:
        where.append(task.c.function == f.function)
    if f.priority:
        where.append(task.c.priority == f.priority)
    if f.overdue is not None:
        late = sa.and_(task.c.state.in_(_ACTIVE), task.c.due_at < now)
        where.append(late if f.overdue else ~late)
    if f.due_before:
        where.append(task.c.due_at < f.due_before)
    if f.due_after:
        where.append(task.c.due_at >= f.due_after)
    if f.q:
        where.append(task.c.title.ilike(f"%{f.q}%"))
    order = TASK_ORDERS[sort]
    total = await capped_count(session, sa.select(task.c.id).where(*where))
    if after is not None:
        where.append(after_key(order.columns, after, order.descending))
    rows = (await session.execute(
        sa.select(*_TASK_COLUMNS).select_from(_WITH_CLIENT).where(*where)
        .order_by(*[c.desc() if d else c for c, d in zip(order.columns, order.descending,
                                                            strict=True)])
        .limit(limit + 1).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


async def task_by_id(session: AsyncSession, task_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(sa.select(*_TASK_COLUMNS).select_from(_WITH_CLIENT)
                                 .where(task.c.id == task_id))).mappings().first()
    return dict(row) if row else None


# --- my day -----------------------------------------------------------------------------------

def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    day = now.astimezone(MOSCOW).date()
    start = datetime.combine(day, time(0), tzinfo=MOSCOW)
    return start, start + timedelta(days=1)


def _group_by_client(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: OrderedDict[str | None, dict[str, Any]] = OrderedDict()
    for row in rows:
        key = row["client_id"]
        if key not in groups:
            groups[key] = {"client_id": key, "client_name": row["client_name"], "tasks": []}
        groups[key]["tasks"].append(row)
    return list(groups.values())


MY_DAY_PAGE = 50
"""Tasks on one page of my day, overdue and today's together: the page's size (and so its
time) is the same for fifty open tasks or fifty thousand; the rest is a cursor away."""
MY_DAY_KEY = (datetime, int, uuid.UUID)


async def my_day(session: AsyncSession, person: str, now: datetime, *,
                 limit: int = MY_DAY_PAGE, after: tuple[Any, ...] | None = None
                 ) -> dict[str, Any]:
    """Overdue first, then today, each grouped by client; the payment-reminder call list.

    One list (workable and due before the day ends) read a page at a time through the
    person's (assignee, due_at) index, oldest due first, so overdue tasks come before today's;
    ``next_cursor`` continues it. Today's part of a page is shown by priority. The counts stop
    at the cap, so a day with 50,000 open tasks answers as fast as one with fifty."""
    start, day_end = _day_bounds(now)
    # the person and the moments written into the SQL too (see ``_state``): under a generic
    # plan the bounds are guesses, and at 50,000 tasks the counts scanned the table — p50
    # went from 20 to 50-110 ms after the statement's fifth run
    person_, at, end = (_literal(person, task.c.assignee), _literal(now, task.c.due_at),
                        _literal(day_end, task.c.due_at))
    # a snooze that has ended counts as open even before the sweep wakes the task
    workable = sa.and_(task.c.assignee == person_,
                       task.c.state.in_([_state(v) for v in _WORKABLE]),
                       sa.or_(task.c.state == _state(TaskState.OPEN), task.c.snoozed_until <= at))
    by_due = (task.c.due_at, _PRIORITY_RANK, task.c.id)
    where = [workable, task.c.due_at < end]
    if after is not None:
        where.append(after_key(by_due, after, (False, True, False)))
    rows = [dict(r) for r in (await session.execute(
        sa.select(*_TASK_COLUMNS).select_from(_WITH_CLIENT).where(*where)
        .order_by(task.c.due_at, _PRIORITY_RANK.desc(), task.c.id).limit(limit + 1))
    ).mappings()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor((last["due_at"], Priority(last["priority"]).rank, last["id"]))
    overdue = [r for r in rows if r["due_at"] < now]
    today = [r for r in rows if r["due_at"] >= now]
    today.sort(key=lambda r: (-Priority(r["priority"]).rank, r["due_at"]))
    counts = await capped_counts(session, {
        "overdue": sa.select(task.c.id).where(workable, task.c.due_at < at),
        "today": sa.select(task.c.id).where(workable, task.c.due_at >= at,
                                            task.c.due_at < end),
        "later": sa.select(task.c.id).where(task.c.assignee == person_,
                                            task.c.state == _state(TaskState.OPEN),
                                            task.c.due_at >= end),
        "snoozed": sa.select(task.c.id).where(task.c.assignee == person_,
                                              task.c.state == _state(TaskState.SNOOZED),
                                              task.c.snoozed_until > at),
    })
    return {
        "person": person,
        "day": start.date(),
        "at": now,
        "overdue": _group_by_client(overdue),
        "today": _group_by_client(today),
        "counts": counts,
        "counts_cap": COUNT_CAP,
        "next_cursor": next_cursor,
        "calls": await call_list(session, [r for r in rows if r["kind"] == "payment_reminder"]),
    }


async def call_list(session: AsyncSession, reminders: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """The payment-reminder calls with the amounts (from the latest overdue event) and the
    outcome of the last call about the same invoice."""
    if not reminders:
        return []
    event_ids = [uuid.UUID(r["source_event_id"]) for r in reminders if r["source_event_id"]]
    facts = {str(r.event_id): r.payload for r in await session.execute(
        sa.select(timeline_entry.c.event_id, timeline_entry.c.payload)
        .where(timeline_entry.c.event_id.in_(event_ids)))}
    keys = [r["dedupe_key"] for r in reminders]
    previous = task.alias("previous")
    last_rows = await session.execute(
        sa.select(previous.c.dedupe_key, previous.c.outcome, previous.c.assignee,
                  sa.func.coalesce(previous.c.done_at, previous.c.updated_at).label("at"))
        .where(previous.c.kind == "payment_reminder", previous.c.dedupe_key.in_(keys),
               previous.c.outcome.is_not(None))
        .order_by(previous.c.dedupe_key, sa.func.coalesce(previous.c.done_at,
                                                           previous.c.updated_at).desc())
        .ext(distinct_on(previous.c.dedupe_key)))
    last = {r.dedupe_key: r for r in last_rows}
    calls = []
    for r in reminders:
        payload = facts.get(r["source_event_id"] or "", {})
        prior = last.get(r["dedupe_key"])
        calls.append({
            "task_id": r["id"], "client_id": r["client_id"], "client_name": r["client_name"],
            "invoice_id": payload.get("invoice_id"), "number": payload.get("number"),
            "outstanding": payload.get("outstanding"),
            "days_overdue": payload.get("days_overdue"), "stage": payload.get("stage"),
            "reminder_count": payload.get("reminder_count"), "due_at": r["due_at"],
            "state": r["state"],
            "last_outcome": prior.outcome if prior else None,
            "last_outcome_at": prior.at if prior else None,
        })
    calls.sort(key=lambda c: (-(c["days_overdue"] or 0), c["client_name"] or ""))
    return calls


# --- timeline ------------------------------------------------------------------------------


TIMELINE_KEY = (datetime, uuid.UUID)


async def timeline(session: AsyncSession, client_id: uuid.UUID, limit: int, offset: int,
                   *, newest_first: bool = False, after: tuple[Any, ...] | None = None
                   ) -> list[dict[str, Any]]:
    """A page of the client's timeline (``limit + 1`` rows: the extra one means more)."""
    t = timeline_entry.c
    where = [t.client_id == str(client_id)]
    if after is not None:
        where.append(after_key((t.at, t.event_id), after, (newest_first, newest_first)))
    order = [t.at.desc(), t.event_id.desc()] if newest_first else [t.at, t.event_id]
    rows = (await session.execute(
        sa.select(t.at, t.type, t.summary, t.producer, t.event_id).where(*where)
        .order_by(*order).limit(limit + 1).offset(offset))).mappings().all()
    return [dict(r) for r in rows]


async def client_manager(session: AsyncSession, client_id: uuid.UUID) -> tuple[bool, str | None]:
    row = (await session.execute(sa.select(clients.c.manager).where(
        clients.c.client_id == client_id))).first()
    if row is not None:
        return True, row.manager
    seen = (await session.execute(sa.select(sa.exists().where(
        timeline_entry.c.client_id == str(client_id))))).scalar_one()
    return bool(seen), None


# --- mail --------------------------------------------------------------------------------

_MAIL_COLUMNS = [mail_delivery.c.id, mail_delivery.c.template, mail_delivery.c.to,
                 mail_delivery.c.client_id, mail_delivery.c.state, mail_delivery.c.attempts,
                 mail_delivery.c.max_attempts, mail_delivery.c.next_attempt_at,
                 mail_delivery.c.last_error, mail_delivery.c.sent_at,
                 mail_delivery.c.created_at, mail_delivery.c.message_id,
                 mail_delivery.c.attachments, mail_delivery.c.dedupe_key]


async def mail(session: AsyncSession, actor: Principal, *, state: str | None,
               client_id: uuid.UUID | None, template: str | None, limit: int, offset: int
               ) -> tuple[int, list[dict[str, Any]]]:
    where: list[sa.ColumnElement[bool]] = []
    if not actor.sees_all_clients:
        own = sa.select(sa.cast(clients.c.client_id, sa.Text)).where(
            clients.c.manager == actor.username)
        where.append(sa.or_(mail_delivery.c.client_id.in_(own),
                            mail_delivery.c.to == f"user:{actor.username}"))
    if state:
        where.append(mail_delivery.c.state == state)
    if client_id:
        where.append(mail_delivery.c.client_id == str(client_id))
    if template:
        where.append(mail_delivery.c.template == template)
    total = (await session.execute(sa.select(sa.func.count()).select_from(mail_delivery)
                                   .where(*where))).scalar_one()
    rows = (await session.execute(sa.select(*_MAIL_COLUMNS).where(*where)
                                  .order_by(mail_delivery.c.created_at.desc(),
                                            mail_delivery.c.id)
                                  .limit(limit).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


# --- workload ----------------------------------------------------------------------------------


async def task_facts(session: AsyncSession, since: datetime | None, now: datetime
                     ) -> list[workload.TaskFact]:
    """Every task that is active or was closed since the window (or this week) began."""
    week_start, _ = workload.week_bounds(now)
    start = week_start if since is None else min(since, week_start)
    rows = await session.execute(
        sa.select(task.c.assignee, task.c.function, task.c.created_at, task.c.due_at,
                  task.c.state, task.c.done_at)
        .where(task.c.created_at <= now,
               sa.or_(task.c.state.in_(_ACTIVE), task.c.done_at >= start)))
    return [workload.TaskFact(assignee=r.assignee, function=Function(r.function),
                              created_at=r.created_at, due_at=r.due_at,
                              state=TaskState(r.state), done_at=r.done_at) for r in rows]


def _load(load: workload.Load) -> dict[str, Any]:
    median = load.median_time_to_done
    return {"open": load.open, "overdue": load.overdue, "done_this_week": load.done_this_week,
            "done_in_window": load.done_in_window,
            "median_time_to_done_hours": None if median is None
            else round(median.total_seconds() / 3600, 2)}


def workload_report(facts: list[workload.TaskFact], now: datetime, since: datetime | None,
                    targets: tuple[str, ...]) -> dict[str, Any]:
    people = workload.loads_by_person(facts, now, since)
    functions = workload.loads_by_function(facts, now, since)
    matrix: dict[tuple[str, Function], list[workload.TaskFact]] = {}
    for fact in facts:
        if not fact.assignee.startswith("queue:"):
            matrix.setdefault((fact.assignee, fact.function), []).append(fact)
    carriers = workload.carriers(facts, now, since)
    regrouping = workload.suggest_regrouping(facts, now, since, targets or None)
    return {
        "at": now,
        "since": since,
        "week_start": workload.week_bounds(now)[0],
        "people": [{"person": p, **_load(load)} for p, load in people.items()],
        "functions": [{"function": str(f), **_load(load)} for f, load in functions.items()],
        "people_by_function": [
            {"person": p, "function": str(f),
             **_load(workload.loads_by_person(rows, now, since)[p])}
            for (p, f), rows in sorted(matrix.items(), key=lambda i: (i[0][0], i[0][1].value))
        ],
        "bus_factor": [
            {"function": str(f), "carriers": list(names), "count": len(names),
             "single_carrier": len(names) == 1}
            for f, names in carriers.items()
        ],
        "regrouping": {
            "team_median": regrouping.team_median,
            "loads": regrouping.loads,
            "overloaded": list(regrouping.overloaded),
            "moves": [{"function": str(m.function), "tasks": m.tasks, "from": m.from_person,
                       "to": m.to_person, "from_load_before": m.from_load_before,
                       "from_load_after": m.from_load_after,
                       "to_load_before": m.to_load_before, "to_load_after": m.to_load_after}
                      for m in regrouping.moves],
            "kept": [{"person": p, "function": str(f), "tasks": n}
                     for p, f, n in regrouping.kept],
        },
    }


def weekly_done(done: list[tuple[str, datetime]], now: datetime, weeks: int
                ) -> dict[str, Any]:
    """Tasks done per person per week (Monday to Monday, Moscow time), the ``weeks`` weeks
    up to and including the one holding ``now``, oldest first; queues are not people."""
    this_week, _ = workload.week_bounds(now)
    first = this_week.date() - timedelta(days=7 * (weeks - 1))
    counts: dict[str, list[int]] = {}
    for person, done_at in done:
        if is_queue(person) or done_at > now:
            continue
        monday, _ = workload.week_bounds(done_at)
        index = (monday.date() - first).days // 7
        if 0 <= index < weeks:
            counts.setdefault(person, [0] * weeks)[index] += 1
    starts = [first + timedelta(days=7 * i) for i in range(weeks)]
    return {
        "at": now,
        "weeks": [{"start": d, "end": d + timedelta(days=6)} for d in starts],
        "people": [{"person": p, "done": row, "total": sum(row)}
                   for p, row in sorted(counts.items())],
        "totals": [sum(row[i] for row in counts.values()) for i in range(weeks)],
    }


async def done_history(session: AsyncSession, now: datetime, weeks: int) -> dict[str, Any]:
    """``weekly_done`` over the tasks done since the first of those weeks began."""
    this_week, _ = workload.week_bounds(now)
    start = datetime.combine(this_week.date() - timedelta(days=7 * (weeks - 1)), time(0),
                             tzinfo=MOSCOW)
    rows = await session.execute(
        sa.select(task.c.assignee, task.c.done_at)
        .where(task.c.state == TaskState.DONE.value, task.c.done_at >= start,
               task.c.done_at <= now))
    return weekly_done([(r.assignee, r.done_at) for r in rows], now, weeks)


# --- history and directories ----------------------------------------------------------------


async def assignments(session: AsyncSession, *, client_id: str | None, function: str | None,
                      limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = []
    if client_id:
        where.append(assignment.c.client_id == client_id)
    if function:
        where.append(assignment.c.function == function)
    total = (await session.execute(sa.select(sa.func.count()).select_from(assignment)
                                   .where(*where))).scalar_one()
    rows = (await session.execute(sa.select(assignment).where(*where)
                                  .order_by(assignment.c.at.desc(), assignment.c.id)
                                  .limit(limit).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


async def routing(session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(routing_override).order_by(
        routing_override.c.function, routing_override.c.from_assignee))).mappings().all()
    return [dict(r) for r in rows]


async def escalations(session: AsyncSession, limit: int, offset: int
                      ) -> tuple[int, list[dict[str, Any]]]:
    total = (await session.execute(sa.select(sa.func.count()).select_from(escalation))
             ).scalar_one()
    rows = (await session.execute(
        sa.select(escalation, task.c.state.label("task_state"))
        .select_from(escalation.outerjoin(task, task.c.id == escalation.c.task_id))
        .order_by(escalation.c.raised_at.desc(), escalation.c.key)
        .limit(limit).offset(offset))).mappings().all()
    return total, [dict(r) for r in rows]


async def staff(session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(staff_member).order_by(staff_member.c.username))
            ).mappings().all()
    return [dict(r) for r in rows]


def window_start(now: datetime, days: int, since: date | None) -> datetime:
    start = since or (now.astimezone(MOSCOW).date() - timedelta(days=days))
    return datetime.combine(start, time(0), tzinfo=MOSCOW)


# --- clients' requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilter:
    state: str | None = None
    function: str | None = None
    kind: str | None = None
    client_id: uuid.UUID | None = None
    q: str | None = None


def _request_row(r: Any) -> dict[str, Any]:
    row = dict(r)
    row["kind_label"] = KIND_TITLES[RequestKind(row["kind"])]
    row["channel_label"] = CHANNEL_TITLES[Channel(row["channel"])]
    row["state_label"] = STATE_TITLES[RequestState(row["state"])]
    row["function"] = str(row["function"])
    row["function_label"] = FUNCTION_TITLES[Function(row["function"])]
    return row


async def client_requests(session: AsyncSession, actor: Principal, f: RequestFilter, *,
                          limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """The requests journal, newest first; a manager sees their own clients' requests."""
    cr = client_request
    where: list[sa.ColumnElement[bool]] = []
    if not actor.sees_all_clients:
        where.append(clients.c.manager == actor.username)
    if f.state:
        where.append(cr.c.state == f.state)
    if f.function:
        where.append(cr.c.function == f.function)
    if f.kind:
        where.append(cr.c.kind == f.kind)
    if f.client_id:
        where.append(cr.c.client_id == f.client_id)
    if f.q:
        like = f"%{f.q}%"
        where.append(sa.or_(cr.c.number.ilike(like), cr.c.subject.ilike(like),
                            clients.c.name.ilike(like)))
    source = cr.outerjoin(clients, clients.c.client_id == cr.c.client_id)
    total = await capped_count(session, sa.select(cr.c.id).select_from(source).where(*where))
    rows = (await session.execute(
        sa.select(cr, clients.c.name.label("client_name"), clients.c.manager)
        .select_from(source).where(*where)
        .order_by(cr.c.registered_at.desc(), cr.c.number.desc())
        .limit(limit).offset(offset))
    ).mappings().all()
    return total, [_request_row(r) for r in rows]


async def client_request_by_id(session: AsyncSession, request_id: uuid.UUID
                               ) -> dict[str, Any] | None:
    cr = client_request
    row = (await session.execute(
        sa.select(cr, clients.c.name.label("client_name"), clients.c.manager)
        .select_from(cr.outerjoin(clients, clients.c.client_id == cr.c.client_id))
        .where(cr.c.id == request_id))).mappings().first()
    if row is None:
        return None
    result = _request_row(row)
    task_row = (await session.execute(
        sa.select(task.c.id, task.c.assignee, task.c.state, task.c.due_at)
        .where(task.c.kind == "client_request", task.c.dedupe_key == f"client_request:{request_id}")
        .order_by(task.c.created_at.desc()).limit(1))).mappings().first()
    result["task"] = dict(task_row) if task_row else None
    return result


async def open_requests(session: AsyncSession) -> dict[str, Any]:
    """Open requests per function (the head's workload): how many, and the oldest."""
    cr = client_request
    rows = (await session.execute(
        sa.select(cr.c.function, sa.func.count().label("open"),
                  sa.func.min(cr.c.registered_at).label("oldest"))
        .where(cr.c.state == "open").group_by(cr.c.function))).mappings().all()
    by_function = [{"function": str(r["function"]),
                    "function_label": FUNCTION_TITLES[Function(r["function"])],
                    "open": r["open"], "oldest": r["oldest"]} for r in rows]
    by_function.sort(key=lambda r: -r["open"])
    return {"open": sum(r["open"] for r in by_function), "by_function": by_function}
