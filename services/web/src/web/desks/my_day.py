"""My day, for every role: overdue and today's tasks by client, the payment-reminder call
list with one-click outcomes, and done / snooze on many tasks at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.head import people_at_work
from web.desks.requests import form_key, pick_client
from web.entrypoints.pages.framework import (
    CheckedViewer,
    CurrentViewer,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    today,
    uuid_or_blank,
)
from web.formatting import MOSCOW, ru_date

router = APIRouter(include_in_schema=False)

FLASH = {
    "done": "Отмечено как сделанное.",
    "snoozed": "Отложено.",
    "called": "Звонок записан.",
    "task": "Задача поставлена.",
}
# whose requests wait on each role's My day (a manager: their clients'; the head: all)
REQUEST_FUNCTION = {"billing": "billing", "accountant": "billing", "dispatcher": "field_ops"}
SEES_REQUESTS = ("manager", "head", "billing", "accountant", "dispatcher")
PRIORITIES = {"normal": "обычный", "high": "высокий", "urgent": "срочно", "low": "низкий"}
# the function a person's hand-made task counts in (the head's own: contracts)
ROLE_FUNCTION = {"billing": "billing", "accountant": "billing", "dispatcher": "field_ops",
                 "technician": "field_ops", "logistics": "logistics", "lawyer": "claims",
                 "manager": "contracts", "sales": "contracts"}
TASK_FIELDS = ("title", "due_on", "priority", "assignee", "client_id")
# a call nobody answered comes back the next morning
CALL_AGAIN_AT = time(10, 0)


def moscow_moment(day: date, at: time = CALL_AGAIN_AT) -> datetime:
    return datetime.combine(day, at, tzinfo=MOSCOW)


def next_morning(now: datetime) -> datetime:
    return moscow_moment(now.astimezone(MOSCOW).date() + timedelta(days=1))


# looking at another day (planning ahead): the list as it will stand that morning
DAY_STARTS_AT = time(9, 0)


@router.get("/")
async def my_day(request: Request, viewer: CurrentViewer, flash: str | None = None,
                 on: date | None = None,
                 after: Annotated[str | None, Query(max_length=1000)] = None) -> Response:
    day = on or today()
    end_of_day = moscow_moment(day + timedelta(days=1), time(0))
    at: dict[str, str] = {} if day == today() else {
        "at": moscow_moment(day, DAY_STARTS_AT).isoformat()}
    if after:  # a later page of the day (the service's cursor)
        at["after"] = after
    waiting: dict[str, Any] = {"state": "open", "limit": 20}
    if viewer.role in REQUEST_FUNCTION:
        waiting["function"] = REQUEST_FUNCTION[viewer.role]
    parts = await panels(
        day=viewer.services.get("notifications", "/api/my/tasks", **at),
        later=viewer.services.get("notifications", "/api/tasks", assignee=viewer.username,
                                  state="open", due_after=end_of_day.isoformat(), limit=50))
    parts["requests"] = (await panel(viewer.services.get_page(
        "notifications", "/api/requests", **waiting))) if viewer.has_role(*SEES_REQUESTS) \
        else None
    if parts["day"].ok:  # counts past the service's cap read «более 1000»
        data = parts["day"].data
        cap = data.get("counts_cap")
        if cap:
            data["counts"] = {k: f"более {cap}" if v > cap else v
                              for k, v in data["counts"].items()}
    on_day = {} if day == today() else {"on": day.isoformat()}
    cursor = parts["day"].data.get("next_cursor") if parts["day"].ok else None
    return render(request, "desks/my_day/page.html", {
        "day": parts["day"], "later": parts["later"], "requests": parts["requests"],
        "paged": bool(after), "first_url": "/?" + urlencode(on_day),
        "next_url": "/?" + urlencode({**on_day, "after": cursor}) if cursor else None,
        "flash": FLASH.get(flash or ""),
        "error": request.query_params.get("error"),
        "tomorrow": (day + timedelta(days=1)).isoformat(), "on": day,
        "planning": day != today()})


def _ids(form: Any) -> list[str]:
    out = []
    for value in form.getlist("ids"):
        try:
            out.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return out


def _back(form: Any) -> str:
    """Back to the day the person was looking at."""
    try:
        return f"/?on={date.fromisoformat(form_str(form, 'on')).isoformat()}&"
    except ValueError:
        return "/?"


def _fail(request: Request, text: str, form: Any = None) -> Response:
    return redirect(_back(form or {}) + "error=" + quote(text[:300]), request)


def _error_redirect(request: Request, exc: ServiceError, form: Any) -> Response:
    if exc.status in (403, 404, 409, 422):
        return _fail(request, exc.message, form)
    raise exc


@router.post("/my-day/bulk")
async def bulk(request: Request, viewer: CheckedViewer) -> Response:
    form = await request.form()
    ids = _ids(form)
    action = form_str(form, "action")
    if not ids:
        return _fail(request, "Отметьте задачи галочками.", form)
    body: dict[str, Any] = {"ids": ids, "action": action}
    if action == "snooze":
        until = form_str(form, "until")
        try:
            body["until"] = moscow_moment(date.fromisoformat(until)).isoformat()
        except ValueError:
            return _fail(request, "Укажите, до какого дня отложить.", form)
    elif action != "done":
        return _fail(request, "Неизвестное действие.", form)
    try:
        await viewer.services.post("notifications", "/api/tasks/bulk", json=body)
    except ServiceError as exc:
        return _error_redirect(request, exc, form)
    return redirect(_back(form) + "flash=" + ("snoozed" if action == "snooze" else "done"),
                    request)


@router.post("/my-day/calls/{task_id}")
async def call_outcome(task_id: uuid.UUID, request: Request, viewer: CheckedViewer
                       ) -> Response:
    """One click per call: reached (done), promised to pay by a date (the call comes back
    that morning if the money has not), no answer (back tomorrow morning)."""
    form = await request.form()
    outcome = form_str(form, "outcome")
    now = datetime.now(UTC)
    path = f"/api/tasks/{task_id}"
    promised: date | None = None
    if outcome == "promised":
        try:
            promised = date.fromisoformat(form_str(form, "promised_on"))
        except ValueError:
            return _fail(request, "Укажите дату, к которой обещали оплатить.", form)
    if outcome not in ("reached", "promised", "no_answer"):
        return _fail(request, "Неизвестный итог звонка.", form)
    try:
        invoice_id = str(uuid.UUID(form_str(form, "invoice_id")))
    except ValueError:
        invoice_id = ""
    try:
        if invoice_id:
            # billing keeps the call on the invoice: a promise pauses its reminders
            await viewer.services.post(
                "billing", f"/api/invoices/{invoice_id}/dunning-notes",
                json={"outcome": outcome,
                      "promised_on": promised.isoformat() if promised else None})
        if outcome == "reached":
            await viewer.services.post("notifications", f"{path}/done",
                                       json={"outcome": "Дозвонились, напомнили об оплате"})
        elif outcome == "promised" and promised is not None:
            await viewer.services.post("notifications", f"{path}/snooze", json={
                "until": moscow_moment(promised).isoformat(),
                "outcome": f"Обещали оплатить до {ru_date(promised)}"})
        else:
            await viewer.services.post("notifications", f"{path}/snooze", json={
                "until": next_morning(now).isoformat(), "outcome": "Не ответили"})
    except ServiceError as exc:
        return _error_redirect(request, exc, form)
    return redirect(_back(form) + "flash=called", request)


# --- a task by hand ------------------------------------------------------------------------


async def _task_form(request: Request, viewer: Viewer, values: dict[str, str],
                     errors: dict[str, str], *, status: int = 200) -> Response:
    client, found, searched = await pick_client(viewer, values, errors)
    people = sorted(((u["username"], u["full_name"] or u["username"])
                     for u in await people_at_work(request)), key=lambda p: p[1])
    return render(request, "desks/my_day/task_form.html", {
        "values": values, "errors": errors, "client": client, "found": found,
        "searched": searched, "priorities": PRIORITIES, "people": people,
        "for_others": viewer.has_role("head"),
        "idempotency_key": values.get("idempotency_key") or str(uuid.uuid4())}, status=status)


@router.get("/my-day/tasks/new")
async def new_task(request: Request, viewer: CurrentViewer,
                   q: Annotated[str, Query(max_length=200)] = "",
                   client_id: Annotated[str, Query(max_length=40)] = "") -> Response:
    cid = uuid_or_blank(client_id)
    return await _task_form(request, viewer, {
        "q": q, "client_id": cid, "due_on": today().isoformat(), "priority": "normal",
        "assignee": viewer.username}, {})


@router.post("/my-day/tasks/new")
async def create_task(request: Request, viewer: CheckedViewer) -> Response:
    form = await request.form()
    values = {k: form_str(form, k) for k in (*TASK_FIELDS, "idempotency_key")}
    body = {k: (values[k] or None) for k in TASK_FIELDS}
    if not viewer.has_role("head"):
        body["assignee"] = None  # for oneself: the service puts the maker's name
    else:  # the task counts in the workload of the function its doer works in
        roles = {u["username"]: u["role"] for u in await people_at_work(request)}
        body["function"] = ROLE_FUNCTION.get(roles.get(values["assignee"], ""))
    try:
        await viewer.services.post("notifications", "/api/tasks", json=body,
                                   headers=form_key(form))
    except ServiceError as exc:
        errors = exc.form_errors(refusals=(403, 422))
        return await _task_form(request, viewer, values, errors, status=exc.status)
    return redirect("/?flash=task", request)
