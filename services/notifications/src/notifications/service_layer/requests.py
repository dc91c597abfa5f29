"""Use cases of the requests journal and of hand-made tasks, one transaction each.

Every refusal is a Russian 422 naming the field, before anything is written. The events go
through the outbox; this service consumes them like any other, so the routed task, the
timeline lines and the client's mail come from the same rules as every other duty
(``task_rules.toml``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared import projections
from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from clientops_shared.events.notifications import ClientRequestAnswered, ClientRequestRegistered
from notifications.adapters import orm
from notifications.domain.model import (
    MOSCOW,
    Function,
    Priority,
    Task,
    TaskAction,
    is_queue,
)
from notifications.domain.requests import (
    CHANNEL_TITLES,
    FUNCTION_TITLES,
    KIND_TITLES,
    Channel,
    ClientRequest,
    RequestError,
    RequestKind,
    RequestState,
)
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

T = TypeVar("T")
SUBJECT_MAX = 2000
ANSWER_MAX = 4000
TITLE_MAX = 500
MANUAL_KIND = "manual"
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
PRIORITY_TITLES = {"low": "низкий", "normal": "обычный", "high": "высокий", "urgent": "срочный"}
# a hand-made task is counted in the function its maker works in
ROLE_FUNCTION = {
    "billing": Function.BILLING,
    "accountant": Function.BILLING,
    "dispatcher": Function.FIELD_OPS,
    "technician": Function.FIELD_OPS,
    "logistics": Function.LOGISTICS,
    "lawyer": Function.CLAIMS,
}
FUNCTION_CHOICES = {f.value: t for f, t in FUNCTION_TITLES.items()}
DUE_HOUR = time(18, 0)
LATEST_DUE = timedelta(days=366)


def _text(value: Any, field: str, *, most: int, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(field, f"Заполните поле: {what}.")
    if len(text) > most:
        raise InvalidInput(field, f"Не длиннее {most} символов (сейчас {len(text)}).")
    return text


def _choice(value: Any, field: str, options: dict[str, str], what: str) -> str:
    if value in options:
        return str(value)
    if value in (None, ""):
        raise InvalidInput(field, f"Выберите {what} из списка.")
    listed = ", ".join(f"«{t}»" for t in options.values())
    raise InvalidInput(field, f"Нет такого значения; выберите {what}: {listed}.")


class _Fields:
    """Checks every field and refuses them together: the form shows each message at once."""

    def __init__(self) -> None:
        self.errors: list[InvalidInput] = []

    def check(self, run: Callable[[], T]) -> T | None:
        try:
            return run()
        except InvalidInput as exc:
            self.errors.append(exc)
            return None

    def refuse_if_any(self) -> None:
        if self.errors:
            first = self.errors[0]
            first.extra["errors"] = [e for exc in self.errors for e in exc.extra["errors"]]
            raise first


def _uuid(value: Any, field: str, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(field, f"Выберите {what} из списка.") from None


async def _client(
    uow: NotificationsUnitOfWork, actor: Principal, client_id: uuid.UUID
) -> dict[str, Any]:
    row = await projections.client_row(uow.session, orm.clients, client_id)
    if row is None:
        raise InvalidInput("client_id", "Такого клиента нет: выберите клиента из поиска.")
    if not actor.may_see_client_of(row["manager"]):
        raise Forbidden("Это клиент другого менеджера.")
    return dict(row)


@dataclass(frozen=True)
class Registration:
    client_id: Any
    kind: Any
    channel: Any
    subject: Any


async def register_request(
    uow: NotificationsUnitOfWork, actor: Principal, cmd: Registration, now: datetime
) -> ClientRequest:
    """Number the request in this year's journal, route it by its kind, announce it."""
    kinds = {k.value: t for k, t in KIND_TITLES.items()}
    channels = {c.value: t for c, t in CHANNEL_TITLES.items()}
    fields = _Fields()

    def picked_client() -> uuid.UUID:
        if cmd.client_id in (None, ""):
            raise InvalidInput("client_id", "Выберите клиента из поиска.")
        return _uuid(cmd.client_id, "client_id", "клиента")

    client_id = fields.check(picked_client)
    kind = fields.check(lambda: RequestKind(_choice(cmd.kind, "kind", kinds, "тип обращения")))
    channel = fields.check(
        lambda: Channel(_choice(cmd.channel, "channel", channels, "способ обращения"))
    )
    subject = fields.check(
        lambda: _text(cmd.subject, "subject", most=SUBJECT_MAX, what="суть обращения")
    )
    fields.refuse_if_any()
    assert client_id is not None and kind is not None and channel is not None
    assert subject is not None
    client = await _client(uow, actor, client_id)
    year = now.astimezone(MOSCOW).year
    seq = (
        await uow.session.execute(
            insert(orm.request_journal)
            .values(year=year, last_seq=1)
            .on_conflict_do_update(
                index_elements=[orm.request_journal.c.year],
                set_={"last_seq": orm.request_journal.c.last_seq + 1},
            )
            .returning(orm.request_journal.c.last_seq)
        )
    ).scalar_one()
    request = ClientRequest.register(
        id=uuid.uuid4(),
        seq=seq,
        client_id=client_id,
        kind=kind,
        channel=channel,
        subject=subject,
        by=actor.username,
        at=now,
    )
    await uow.session.execute(orm.client_request.insert().values(_row(request)))
    uow.emit(
        ClientRequestRegistered(
            request_id=request.id,
            number=request.number,
            client_id=client_id,
            kind=kind.value,
            kind_label=KIND_TITLES[kind],
            function=request.function.value,
            function_label=FUNCTION_TITLES[request.function],
            channel=channel.value,
            channel_label=CHANNEL_TITLES[channel],
            subject=subject,
            registered_by=actor.username,
            registered_at=now,
            manager=client["manager"],
        )
    )
    uow.audit("request.register", "client_request", request.id, after=_row(request))
    await uow.commit()
    return request


async def answer_request(
    uow: NotificationsUnitOfWork,
    actor: Principal,
    request_id: uuid.UUID,
    answer: Any,
    now: datetime,
) -> ClientRequest:
    """The routed function's answer; the event closes its task and mails the client."""
    text = _text(answer, "answer", most=ANSWER_MAX, what="ответ клиенту")
    row = (
        (
            await uow.session.execute(
                sa.select(orm.client_request)
                .where(orm.client_request.c.id == request_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("Такого обращения нет.")
    request = from_row(row)
    client = await projections.client_row(uow.session, orm.clients, request.client_id)
    manager = client["manager"] if client else None
    if not request.may_answer(actor.username, actor.role, manager):
        raise Forbidden(f"На это обращение отвечает функция «{FUNCTION_TITLES[request.function]}».")
    before = _row(request)
    try:
        request.give_answer(text, actor.username, now)
    except RequestError as exc:
        raise Conflict(str(exc)) from None
    await uow.session.execute(
        orm.client_request.update()
        .where(orm.client_request.c.id == request.id)
        .values(
            state=request.state.value,
            answer=request.answer,
            answered_by=request.answered_by,
            answered_at=request.answered_at,
        )
    )
    uow.emit(
        ClientRequestAnswered(
            request_id=request.id,
            number=request.number,
            client_id=request.client_id,
            kind=request.kind.value,
            kind_label=KIND_TITLES[request.kind],
            function=request.function.value,
            function_label=FUNCTION_TITLES[request.function],
            subject=request.subject,
            answer=text,
            answered_by=actor.username,
            answered_at=now,
            registered_at=request.registered_at,
        )
    )
    uow.audit("request.answer", "client_request", request.id, before=before, after=_row(request))
    await uow.commit()
    return request


def _row(request: ClientRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "number": request.number,
        "client_id": request.client_id,
        "kind": request.kind.value,
        "channel": request.channel.value,
        "subject": request.subject,
        "function": request.function,
        "state": request.state.value,
        "registered_by": request.registered_by,
        "registered_at": request.registered_at,
        "answer": request.answer,
        "answered_by": request.answered_by,
        "answered_at": request.answered_at,
    }


def from_row(row: Any) -> ClientRequest:
    return ClientRequest(
        id=row["id"],
        number=row["number"],
        client_id=row["client_id"],
        kind=RequestKind(row["kind"]),
        channel=Channel(row["channel"]),
        subject=row["subject"],
        registered_by=row["registered_by"],
        registered_at=row["registered_at"],
        function=Function(row["function"]),
        state=RequestState(row["state"]),
        answer=row["answer"],
        answered_by=row["answered_by"],
        answered_at=row["answered_at"],
    )


# --- hand-made tasks ----------------------------------------------------------------------


@dataclass(frozen=True)
class ManualTask:
    title: Any
    due_on: Any
    assignee: Any = None
    client_id: Any = None
    priority: Any = None
    function: Any = None


def _due_on(value: Any, today: date) -> date:
    if value in (None, ""):
        raise InvalidInput("due_on", "Укажите срок.")
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("due_on", "Срок — дата вида 01.12.2026.") from None
    if day < today:
        raise InvalidInput("due_on", "Срок не может быть в прошлом.")
    if day > today + LATEST_DUE:
        raise InvalidInput("due_on", "Срок не дальше чем через год.")
    return day


async def create_task(
    uow: NotificationsUnitOfWork, actor: Principal, cmd: ManualTask, now: datetime
) -> Task:
    """A task by hand: for oneself, or (the head) for someone else."""
    fields = _Fields()
    title = fields.check(lambda: _text(cmd.title, "title", most=TITLE_MAX, what="что сделать"))
    day = fields.check(lambda: _due_on(cmd.due_on, now.astimezone(MOSCOW).date()))
    fields.refuse_if_any()
    assert title is not None and day is not None
    assignee = cmd.assignee.strip() if isinstance(cmd.assignee, str) else ""
    assignee = assignee or actor.username
    if not USERNAME.fullmatch(assignee) or is_queue(assignee):
        raise InvalidInput("assignee", "Выберите сотрудника из списка.")
    if assignee != actor.username and actor.role not in ("head", "admin"):
        raise InvalidInput(
            "assignee", "Ставить задачи другим может только руководитель; задачу себе — каждый."
        )
    priority = Priority(_choice(cmd.priority or "normal", "priority", PRIORITY_TITLES, "приоритет"))
    client_id = None
    if cmd.client_id not in (None, ""):
        client_id = str(
            (await _client(uow, actor, _uuid(cmd.client_id, "client_id", "клиента")))["client_id"]
        )
    function = ROLE_FUNCTION.get(actor.role, Function.CONTRACTS)
    if cmd.function not in (None, ""):
        function = Function(_choice(cmd.function, "function", FUNCTION_CHOICES, "функцию"))
    task = Task(
        id=uuid.uuid4(),
        kind=MANUAL_KIND,
        action=TaskAction.DO,
        function=function,
        title=title,
        assignee=assignee,
        due_at=datetime.combine(day, DUE_HOUR, tzinfo=MOSCOW),
        created_at=now,
        priority=priority,
        client_id=client_id,
        source_event=f"manual:{actor.username}",
    )
    uow.add(task)
    uow.audit(
        "task.create",
        "task",
        task.id,
        after={
            "title": title,
            "assignee": assignee,
            "due_at": task.due_at,
            "priority": priority.value,
            "client_id": client_id,
            "by": actor.username,
        },
    )
    await uow.commit()
    return task
