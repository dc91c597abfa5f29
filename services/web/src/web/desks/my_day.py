"""My day, for every role: overdue and today's tasks by client, the payment-reminder call
list with one-click outcomes, and done / snooze on many tasks at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    CurrentViewer,
    form_str,
    panels,
    redirect,
    render,
    today,
)
from web.formatting import MOSCOW, ru_date

router = APIRouter(include_in_schema=False)

FLASH = {
    "done": "Отмечено как сделанное.",
    "snoozed": "Отложено.",
    "called": "Звонок записан.",
}
# a call nobody answered comes back the next morning
CALL_AGAIN_AT = time(10, 0)


def moscow_moment(day: date, at: time = CALL_AGAIN_AT) -> datetime:
    return datetime.combine(day, at, tzinfo=MOSCOW)


def next_morning(now: datetime) -> datetime:
    return moscow_moment(now.astimezone(MOSCOW).date() + timedelta(days=1))


@router.get("/")
async def my_day(request: Request, viewer: CurrentViewer, flash: str | None = None
                 ) -> Response:
    end_of_day = moscow_moment(today() + timedelta(days=1), time(0))
    parts = await panels(
        day=viewer.services.get("notifications", "/api/my/tasks"),
        later=viewer.services.get("notifications", "/api/tasks", assignee=viewer.username,
                                  state="open", due_after=end_of_day.isoformat(), limit=50))
    return render(request, "desks/my_day/page.html", {
        "day": parts["day"], "later": parts["later"], "flash": FLASH.get(flash or ""),
        "error": request.query_params.get("error"),
        "tomorrow": (today() + timedelta(days=1)).isoformat()})


def _ids(form: Any) -> list[str]:
    out = []
    for value in form.getlist("ids"):
        try:
            out.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return out


def _fail(request: Request, text: str) -> Response:
    return redirect("/?error=" + quote(text[:300]), request)


def _error_redirect(request: Request, exc: ServiceError) -> Response:
    if exc.status in (403, 404, 409, 422):
        return _fail(request, exc.detail or exc.message)
    raise exc


@router.post("/my-day/bulk")
async def bulk(request: Request, viewer: CheckedViewer) -> Response:
    form = await request.form()
    ids = _ids(form)
    action = form_str(form, "action")
    if not ids:
        return _fail(request, "Отметьте задачи галочками.")
    body: dict[str, Any] = {"ids": ids, "action": action}
    if action == "snooze":
        until = form_str(form, "until")
        try:
            body["until"] = moscow_moment(date.fromisoformat(until)).isoformat()
        except ValueError:
            return _fail(request, "Укажите, до какого дня отложить.")
    elif action != "done":
        return _fail(request, "Неизвестное действие.")
    try:
        await viewer.services.post("notifications", "/api/tasks/bulk", json=body)
    except ServiceError as exc:
        return _error_redirect(request, exc)
    return redirect("/?flash=" + ("snoozed" if action == "snooze" else "done"), request)


@router.post("/my-day/calls/{task_id}")
async def call_outcome(task_id: uuid.UUID, request: Request, viewer: CheckedViewer
                       ) -> Response:
    """One click per call: reached (done), promised to pay by a date (the call comes back
    that morning if the money has not), no answer (back tomorrow morning)."""
    form = await request.form()
    outcome = form_str(form, "outcome")
    now = datetime.now(UTC)
    path = f"/api/tasks/{task_id}"
    try:
        if outcome == "reached":
            await viewer.services.post("notifications", f"{path}/done",
                                       json={"outcome": "Дозвонились, напомнили об оплате"})
        elif outcome == "promised":
            try:
                promised = date.fromisoformat(form_str(form, "promised_on"))
            except ValueError:
                return _fail(request, "Укажите дату, к которой обещали оплатить.")
            await viewer.services.post("notifications", f"{path}/snooze", json={
                "until": moscow_moment(promised).isoformat(),
                "outcome": f"Обещали оплатить до {ru_date(promised)}"})
        elif outcome == "no_answer":
            await viewer.services.post("notifications", f"{path}/snooze", json={
                "until": next_morning(now).isoformat(), "outcome": "Не ответили"})
        else:
            return _fail(request, "Неизвестный итог звонка.")
    except ServiceError as exc:
        return _error_redirect(request, exc)
    return redirect("/?flash=called", request)
