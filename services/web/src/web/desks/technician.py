"""Technician desk, made for a phone (004 §2.7–2.10): today's and tomorrow's visits with the
address, whom to call (a ``tel:`` link) and the act to print; the end-of-day report per order
(done with the serial numbers installed or removed, or not done with the reason); a problem on
site reported to the head."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    panel,
    redirect,
    render,
    today,
    viewer_with_roles,
)
from web.field_ops import (
    EQUIPMENT_TYPE,
    WORK_ORDER_STATUS,
    directory_services,
    placed,
    places,
    unplaced,
)

router = APIRouter(prefix="/tech", include_in_schema=False)
TechViewer = Annotated[Viewer, Depends(viewer_with_roles("technician"))]
ORDERS = "/api/work-orders"
SERIAL_ROWS = 4  # equipment lines on the report form

FLASH = {
    "done": "Отчёт принят: заявка выполнена.",
    "not_done": "Отчёт принят: заявка не выполнена, диспетчер пересогласует дату.",
    "problem": "Проблема передана руководителю. Дождитесь решения.",
}


async def _mine(request: Request, viewer: Viewer, orders: list[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    where = await places(directory_services(request, viewer), unplaced(orders))
    return [placed(o, where) for o in orders]


def by_day(orders: list[dict[str, Any]], days: list[date]) -> list[dict[str, Any]]:
    """The technician's scheduled visits for each of ``days``, by their window."""
    out = []
    for day in days:
        rows = [o for o in orders if str(o.get("visit_on"))[:10] == day.isoformat()]
        out.append({"day": day, "orders": sorted(rows, key=lambda o: str(o.get("window")))})
    return out


@router.get("")
async def desk(request: Request, viewer: TechViewer, flash: str = "") -> Response:
    orders = await panel(viewer.services.get("field_ops", ORDERS, technician=viewer.username,
                                             status="scheduled", limit=200))
    day = today()
    days = by_day(await _mine(request, viewer, orders.data), [day, day + timedelta(days=1)]
                  ) if orders.ok else []
    later = 0
    if orders.ok:
        later = sum(1 for o in orders.data if str(o.get("visit_on"))[:10]
                    > (day + timedelta(days=1)).isoformat())
    return render(request, "desks/technician/desk.html", {
        "orders": orders, "days": days, "later": later, "flash": FLASH.get(flash)})


REPORT_FIELDS = ("outcome", "reason")
# the fields whose errors show at the field; any other goes in the list on top
KNOWN_FIELDS = ["outcome", "reason", "equipment",
                *(f"equipment.{i}{part}" for i in range(SERIAL_ROWS)
                  for part in ("", ".type", ".serial", ".action"))]


def report_body(form: Any) -> tuple[dict[str, Any], dict[str, str], list[int]]:
    """The report form as the API's body, the values to show again, and which form row each
    equipment line came from: only lines with a serial typed are sent."""
    values = {k: form_str(form, k) for k in REPORT_FIELDS}
    lines = []
    rows = []
    for i in range(SERIAL_ROWS):
        kind = form_str(form, f"equipment.{i}.type")
        serial = form_str(form, f"equipment.{i}.serial")
        action = form_str(form, f"equipment.{i}.action")
        values.update({f"equipment.{i}.type": kind, f"equipment.{i}.serial": serial,
                       f"equipment.{i}.action": action})
        if serial:
            line = {"type": kind or "terminal", "serial": serial}
            if action in ("install", "remove"):
                line["action"] = action
            lines.append(line)
            rows.append(i)
    body: dict[str, Any] = {"outcome": values["outcome"]}
    if values["reason"]:
        body["reason"] = values["reason"]
    if lines:
        body["equipment"] = lines
    return body, values, rows


def report_errors(exc: ServiceError, rows: list[int] | None = None) -> dict[str, str]:
    """The API's 422 at the form's fields: the API's ``equipment.1.serial`` is the second
    line sent, which is the form row ``rows[1]``."""
    if exc.status == 409:
        state = WORK_ORDER_STATUS.get(exc.current_state or "", exc.current_state or "")
        return {"": exc.detail or (f"Отчёт не принят: заявка уже «{state}»." if state
                                   else exc.message)}
    out = {}
    for name, text in (exc.field_errors() or {"": exc.detail or exc.message}).items():
        parts = name.split(".")
        if rows and len(parts) >= 2 and parts[0] == "equipment" and parts[1].isdigit() \
                and int(parts[1]) < len(rows):
            name = ".".join(["equipment", str(rows[int(parts[1])]), *parts[2:]])
        out[name] = text
    return out


async def _order_page(request: Request, viewer: Viewer, order_id: uuid.UUID, *,
                      values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None,
                      problem: dict[str, str] | None = None, status: int = 200) -> Response:
    order = await viewer.services.get("field_ops", f"{ORDERS}/{order_id}")
    if str(order.get("technician")) != viewer.username and viewer.role != "admin":
        raise PageForbidden("Это заявка другого техника.")
    [order] = await _mine(request, viewer, [order])
    if values is None:  # what the lines mean by default: a removal takes off, else puts on
        action = "remove" if order.get("kind") == "remove" else "install"
        values = {"outcome": "done",
                  **{f"equipment.{i}.action": action for i in range(SERIAL_ROWS)}}
    return render(request, "desks/technician/order.html", {
        "o": order, "values": values, "errors": errors or {},
        "problem": problem or {}, "rows": range(SERIAL_ROWS), "types": EQUIPMENT_TYPE,
        "known": KNOWN_FIELDS,
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/orders/{order_id}")
async def order_page(order_id: uuid.UUID, request: Request, viewer: TechViewer) -> Response:
    return await _order_page(request, viewer, order_id)


def _require_tech(viewer: Viewer) -> None:
    if not viewer.has_role("technician"):
        raise PageForbidden("Отчитывается о выезде техник.")


@router.post("/orders/{order_id}/report")
async def report(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_tech(viewer)
    form = await request.form()
    body, values, rows = report_body(form)
    errors = {}
    if values["outcome"] not in ("done", "not_done"):
        errors["outcome"] = "Отметьте, выполнены ли работы."
    elif values["outcome"] == "not_done" and not values["reason"]:
        errors["reason"] = "Напишите, почему работы не выполнены."
    if errors:
        return await _order_page(request, viewer, order_id, values=values, errors=errors,
                                 status=422)
    try:
        await viewer.services.post("field_ops", f"{ORDERS}/{order_id}/report", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _order_page(request, viewer, order_id, values=values,
                                     errors=report_errors(exc, rows), status=exc.status)
        raise
    return redirect(f"/tech?flash={values['outcome']}", request)


@router.post("/orders/{order_id}/problem")
async def problem(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_tech(viewer)
    form = await request.form()
    text = form_str(form, "description")
    if not text:
        return await _order_page(request, viewer, order_id, status=422, problem={
            "description": "Опишите, что случилось на объекте."})
    try:
        await viewer.services.post("field_ops", f"{ORDERS}/{order_id}/problems",
                                   json={"description": text})
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = report_errors(exc)
            return await _order_page(request, viewer, order_id, status=exc.status, problem={
                "description": errors.get("description") or next(iter(errors.values()))})
        raise
    return redirect(f"/tech/orders/{order_id}?flash=problem", request)
