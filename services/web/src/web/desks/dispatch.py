"""Dispatcher desk (004 §2, §7): drafts waiting for the head, approved orders to schedule,
not-done orders to agree again, emergency SLA clocks, downtime incidents; the numbered journal
(XLSX), the week board per technician; new work order, schedule and reschedule forms (the
API's 422 at the fields). Also the head's approve / reject, and the field panels other pages
load by HTMX: the client card's, the head dashboard's, the approvals queue's."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clientops_shared.runtime import runtime_of
from web.adapters.services import ServiceError
from web.adapters.spreadsheets import people_by_name
from web.desks.contracts import _download as download
from web.entrypoints.pages.framework import (
    CheckedViewer,
    CurrentViewer,
    PageForbidden,
    PageNotFound,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    today,
    uuid_or_blank,
    viewer_with_roles,
)
from web.field_ops import (
    OPEN,
    WINDOWS,
    WORK_ORDER_KIND,
    WORK_ORDER_STATUS,
    card_services,
    compliance_total,
    directory_services,
    long_downtimes,
    now,
    placed,
    places,
    sla_breaches,
    sla_rows,
    unplaced,
    week_board,
    week_start,
)
from web.formatting import MOSCOW

router = APIRouter(prefix="/dispatch", include_in_schema=False)
DESK_ROLES = ("dispatcher", "head")
DeskViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
HeadViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]
ActViewer = Annotated[Viewer, Depends(viewer_with_roles("dispatcher", "head", "technician"))]
ORDERS = "/api/work-orders"
LIMIT = 500
UNRESOLVED = ["open", "cause_found"]
BREACHES_SHOWN = 20
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # the week board's bounds

FLASH = {
    "created": "Заявка создана и ждёт согласования руководителя.",
    "wo_approved": "Заявка на выезд утверждена и зарегистрирована в журнале.",
    "wo_rejected": "Заявка на выезд отклонена.",
    "scheduled": "Выезд назначен.",
    "rescheduled": "Выезд перенесён на новую дату.",
    "cancelled": "Заявка отменена.",
    "decided": "Решение по проблеме записано.",
    "technician": "Техник сохранён.",
    "downtime": "Простой зарегистрирован: выясните причину у клиента и запишите её.",
    "cause": "Причина простоя записана.",
    "resolved": "Простой закрыт.",
}


def _opt(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in ("", None)}


async def technicians(viewer: Viewer) -> list[dict[str, str]]:
    """The technician picker: the technicians field-ops sends (``/api/technicians``); an
    unavailable list is an empty picker (the form's send then says what is wrong)."""
    found = await panel(viewer.services.get("field_ops", "/api/technicians"))
    return [{"username": t["username"], "full_name": t.get("full_name") or t["username"],
             "phone": t.get("phone") or ""} for t in found.data or []]


def names_of(listed: list[dict[str, str]]) -> dict[str, str]:
    return {t["username"]: t["full_name"] for t in listed}


async def _placed(request: Request, viewer: Viewer, orders: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    where = await places(directory_services(request, viewer), unplaced(orders))
    return [placed(o, where) for o in orders]


# --- the desk ------------------------------------------------------------------------------


@router.get("")
async def desk(request: Request, viewer: DeskViewer, flash: str = "") -> Response:
    s = viewer.services
    parts = await panels(
        drafts=s.get("field_ops", ORDERS, status="draft", limit=LIMIT),
        approved=s.get("field_ops", ORDERS, status="approved", limit=LIMIT),
        not_done=s.get("field_ops", ORDERS, status="not_done", limit=LIMIT),
        emergency=s.get("field_ops", ORDERS, kind="emergency", status=sorted(OPEN),
                        limit=LIMIT),
        downtime=s.get("field_ops", "/api/downtime", state=UNRESOLVED, limit=200),
    )
    known = [o for name in ("drafts", "approved", "not_done", "emergency", "downtime")
             if parts[name].ok for o in parts[name].data]
    where = await places(viewer.services, unplaced(known))
    for name in ("drafts", "approved", "not_done", "emergency"):
        if parts[name].ok:
            parts[name].data = [placed(o, where) for o in parts[name].data]
    moment = now()
    sla = sla_rows(parts["emergency"].data, moment) if parts["emergency"].ok else []
    incidents = []
    if parts["downtime"].ok:
        incidents = [placed(i, where) for i in parts["downtime"].data
                     if i.get("state") != "resolved"]
    return render(request, "desks/dispatch/desk.html", {
        "p": parts, "sla": sla, "incidents": incidents,
        "tech_names": names_of(await technicians(viewer)),
        "long": {str(i.get("id")) for i in long_downtimes(incidents, moment)},
        "flash": FLASH.get(flash)})


@router.get("/week")
async def week(request: Request, viewer: DeskViewer,
               start: Annotated[date | None, Query(ge=EARLIEST, le=LATEST)] = None
               ) -> Response:
    monday = week_start(start or today())
    orders = await panel(viewer.services.get(
        "field_ops", ORDERS, status=["scheduled", "done", "not_done"],
        visit_from=monday.isoformat(),
        visit_to=(monday + timedelta(days=6)).isoformat(), limit=LIMIT))
    rows = await _placed(request, viewer, orders.data) if orders.ok else []
    board = week_board(rows, monday, await technicians(viewer))
    return render(request, "desks/dispatch/week.html", {"orders": orders, "board": board})


def _year(year: int | None) -> int:
    return year or today().year


@router.get("/journal")
async def journal(request: Request, viewer: DeskViewer,
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    chosen = _year(year)
    rows = await panel(viewer.services.get("field_ops", "/api/journal", year=chosen))
    if rows.ok:
        rows.data = await _placed(request, viewer, rows.data)
    return render(request, "desks/dispatch/journal.html", {
        "rows": rows, "year": chosen, "tech_names": names_of(await technicians(viewer)),
        "years": list(range(today().year + 1, today().year - 6, -1))})


@router.get("/journal.xlsx")
async def journal_xlsx(viewer: DeskViewer,
                       year: Annotated[int | None, Query(ge=2000, le=2100)] = None
                       ) -> Response:
    chosen = _year(year)
    upstream = await viewer.services.document(
        "field_ops", "/api/journal", year=chosen, format="xlsx")
    media = upstream.headers.get("content-type", "")
    if "spreadsheetml" not in media:
        raise PageNotFound("Сервис выездов пока не выгружает журнал в XLSX.")
    content = await people_by_name(upstream.content, viewer.people)
    return Response(content, media_type=media, headers={
        "Content-Disposition": upstream.headers.get(
            "content-disposition", f'attachment; filename="journal-{chosen}.xlsx"')})


# --- a new work order ----------------------------------------------------------------------

ORDER_FIELDS = ("client_id", "site_id", "kind", "description", "contract_id")


async def _client_choice(viewer: Viewer, values: dict[str, str], q: str
                         ) -> dict[str, Any]:
    """The pickers: clients (searched by name or INN), then the chosen client's sites and
    contracts."""
    s = viewer.services
    parts = {"clients": await panel(s.get("contracts", "/api/clients", q=q or None,
                                          limit=LIMIT))}
    client_id = values.get("client_id", "")
    if client_id:
        parts.update(await panels(
            sites=s.get("contracts", f"/api/clients/{client_id}/sites"),
            contracts=s.get("contracts", "/api/contracts", client_id=client_id, limit=200)))
        chosen = [c for c in parts["clients"].data or [] if str(c["id"]) == client_id]
        if not chosen and parts["clients"].ok:
            # a client found by another search stays picked
            client = await panel(s.get("contracts", f"/api/clients/{client_id}"))
            if client.ok:
                parts["clients"].data = [client.data, *parts["clients"].data]
    return parts


async def _order_form(request: Request, viewer: Viewer, values: dict[str, str],
                      errors: dict[str, str], q: str = "", status: int = 200,
                      block: str | None = None) -> Response:
    parts = await _client_choice(viewer, values, q)
    return render(request, "desks/dispatch/order_form.html", {
        "p": parts, "values": values, "errors": errors, "q": q, "kinds": WORK_ORDER_KIND},
        status=status, block=block)


@router.get("/orders/new")
async def new_order(request: Request, viewer: DeskViewer, client_id: str = "",
                    q: Annotated[str, Query(max_length=200)] = "",
                    kind: str = "install") -> Response:
    values = {"client_id": uuid_or_blank(client_id), "kind": kind}
    return await _order_form(request, viewer, values, {}, q)


@router.get("/orders/new/sites")
async def order_sites(request: Request, viewer: DeskViewer, client_id: str = "") -> Response:
    """The site and contract pickers for the client just picked (an HTMX swap)."""
    values = {"client_id": uuid_or_blank(client_id)}
    return await _order_form(request, viewer, values, {}, block="site_fields")


def _require(viewer: Viewer, *roles: str) -> None:
    if not viewer.has_role(*(roles or DESK_ROLES)):
        raise PageForbidden("Действие доступно диспетчеру и руководителю.")


@router.post("/orders/new")
async def create_order(request: Request, viewer: CheckedViewer) -> Response:
    _require(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in ORDER_FIELDS}
    errors = {}
    if not uuid_or_blank(values["client_id"]):
        errors["client_id"] = "Выберите клиента."
    elif not uuid_or_blank(values["site_id"]):
        errors["site_id"] = "Выберите объект."
    if errors:
        return await _order_form(request, viewer, values, errors, status=422)
    try:
        order = await viewer.services.post("field_ops", ORDERS, json=_opt(values))
    except ServiceError as exc:
        return await _order_form(request, viewer, values,
                                 exc.form_errors(),
                                 status=exc.status)
    return redirect(f"/dispatch/orders/{order['id']}?flash=created", request)


# --- one work order ------------------------------------------------------------------------

SCHEDULE_FIELDS = ("visit_on", "window", "site_contact.name", "site_contact.phone",
                   "technician")


def schedule_body(values: dict[str, str]) -> dict[str, Any]:
    """The schedule form's flat fields as the API's body: the contact is one object."""
    body = _opt({k: values.get(k, "") for k in ("visit_on", "window", "technician")})
    body["site_contact"] = {"name": values.get("site_contact.name", ""),
                            "phone": values.get("site_contact.phone", "")}
    return body


async def _order_page(request: Request, viewer: Viewer, order_id: uuid.UUID, *,
                      values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                      form: str = "", status: int = 200) -> Response:
    order = await viewer.services.get("field_ops", f"{ORDERS}/{order_id}")
    [order] = await _placed(request, viewer, [order])
    if not order.get("contact_name") and order.get("client_id"):
        # whom the site says to call, offered until the dispatcher agrees on someone
        sites = await panel(viewer.services.get("field_ops", "/api/sites",
                                                client_id=str(order["client_id"])))
        site: dict[str, Any] = next((s for s in sites.data or []
                     if str(s.get("site_id")) == str(order.get("site_id"))), {})
        order["contact_name"] = site.get("contact_name")
        order["contact_phone"] = order.get("contact_phone") or site.get("contact_phone")
    if values is None:
        values = {"site_contact.name": order.get("contact_name") or "",
                  "site_contact.phone": order.get("contact_phone") or "",
                  "technician": order.get("technician") or "",
                  "window": order.get("window") or "",
                  "visit_on": ""}
    listed = await technicians(viewer)
    return render(request, "desks/dispatch/order.html", {
        "o": order, "values": values, "errors": errors or {}, "form": form,
        "technicians": listed, "tech_names": names_of(listed), "windows": WINDOWS,
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/orders/{order_id}")
async def order_page(order_id: uuid.UUID, request: Request, viewer: DeskViewer) -> Response:
    return await _order_page(request, viewer, order_id)


async def _visit(request: Request, viewer: Viewer, order_id: uuid.UUID, action: str,
                 flash: str) -> Response:
    """Schedule, or agree a new date for a not-done order (field-ops counts the moves): the
    same call, ``action`` names the form the errors go back to."""
    _require(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in SCHEDULE_FIELDS}
    errors = {}
    if not values["technician"]:
        errors["technician"] = "Выберите техника."
    if not values["visit_on"]:
        errors["visit_on"] = "Укажите дату выезда."
    if errors:
        return await _order_page(request, viewer, order_id, values=values, errors=errors,
                                 form=action, status=422)
    try:
        await viewer.services.post("field_ops", f"{ORDERS}/{order_id}/schedule",
                                   json=schedule_body(values))
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _order_page(request, viewer, order_id, values=values,
                                     errors=_state_errors(exc), form=action,
                                     status=exc.status)
        raise
    return redirect(f"/dispatch/orders/{order_id}?flash={flash}", request)


def _state_errors(exc: ServiceError) -> dict[str, str]:
    """A 409 in field-ops' own words (Russian: why, and the state the order is in), else
    the 422 at the fields."""
    if exc.status == 409:
        state = WORK_ORDER_STATUS.get(exc.current_state or "", exc.current_state or "")
        return {"": exc.detail or (f"Так нельзя: заявка сейчас в состоянии «{state}»."
                                   if state else exc.message)}
    return exc.field_errors() or {"": exc.detail or exc.message}


@router.post("/orders/{order_id}/schedule")
async def schedule(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _visit(request, viewer, order_id, "schedule", "scheduled")


@router.post("/orders/{order_id}/reschedule")
async def reschedule(order_id: uuid.UUID, request: Request, viewer: CheckedViewer
                     ) -> Response:
    return await _visit(request, viewer, order_id, "reschedule", "rescheduled")


def _back(form: Any, default: str) -> str:
    back = form_str(form, "back")
    return back if back.startswith("/") and not back.startswith("//") else default


async def _decision(request: Request, viewer: Viewer, order_id: uuid.UUID, action: str
                    ) -> Response:
    if not viewer.has_role("head"):
        raise PageForbidden("Заявки на выезд согласует руководитель.")
    form = await request.form()
    back = _back(form, f"/dispatch/orders/{order_id}")
    reason = form_str(form, "reason")
    if action == "reject" and not reason:
        return render(request, "desks/contracts/action_failed.html", {
            "error": ServiceError("field_ops", 422, "Напишите причину отклонения заявки."),
            "client_id": "", "back": back}, status=422)
    try:
        await viewer.services.post("field_ops", f"{ORDERS}/{order_id}/{action}",
                                   json=_opt({"reason": reason}))
    except ServiceError as exc:
        if exc.status in (409, 422):
            return render(request, "desks/contracts/action_failed.html", {
                "error": exc, "client_id": "", "back": back}, status=exc.status)
        raise
    sep = "&" if "?" in back else "?"
    return redirect(f"{back}{sep}flash=wo_{action}d", request)


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    """The client no longer wants it (or it was a mistake): cancelled, with the reason."""
    _require(viewer)
    form = await request.form()
    reason = form_str(form, "reason")
    if not reason:
        return await _order_page(request, viewer, order_id, form="cancel", status=422,
                                 errors={"reason": "Напишите, почему заявка отменяется."})
    try:
        await viewer.services.post("field_ops", f"{ORDERS}/{order_id}/cancel",
                                   json={"reason": reason})
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _order_page(request, viewer, order_id, form="cancel",
                                     errors=_state_errors(exc), status=exc.status)
        raise
    return redirect(f"/dispatch/orders/{order_id}?flash=cancelled", request)


@router.post("/orders/{order_id}/approve")
async def approve(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _decision(request, viewer, order_id, "approve")


@router.post("/orders/{order_id}/reject")
async def reject(order_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _decision(request, viewer, order_id, "reject")


@router.post("/problems/{problem_id}/decision")
async def decide_problem(problem_id: uuid.UUID, request: Request, viewer: CheckedViewer
                         ) -> Response:
    """004 §2.9: the head's decision on a problem the technician met on site."""
    if not viewer.has_role("head"):
        raise PageForbidden("Решение по проблеме на объекте принимает руководитель.")
    form = await request.form()
    back = _back(form, "/dispatch")
    decision = form_str(form, "decision")
    error: ServiceError | None = None
    if not decision:
        error = ServiceError("field_ops", 422, "Напишите решение.")
    else:
        try:
            await viewer.services.post("field_ops", f"/api/problems/{problem_id}/decision",
                                       json={"decision": decision})
        except ServiceError as exc:
            if exc.status not in (404, 409, 422):
                raise
            error = exc
    if error is not None:
        return render(request, "desks/contracts/action_failed.html", {
            "error": error, "client_id": "", "back": back}, status=error.status)
    sep = "&" if "?" in back else "?"
    return redirect(f"{back}{sep}flash=decided", request)


# --- downtime incidents (004 §7) -------------------------------------------------------------

DOWNTIME_FIELDS = ("site_id", "serial", "started_at", "source", "description")
INCIDENT_ORDER_KINDS = ("repair", "replace", "repaint", "reinforce", "emergency")


def moscow_moment(text: str) -> str:
    """``2026-11-27T09:30`` typed in a datetime-local field, as a Moscow moment for the API
    (an unreadable value goes as typed, for the API's 422)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=MOSCOW).isoformat()
    except ValueError:
        return text


async def _downtime_page(request: Request, viewer: Viewer, *, values: dict[str, str],
                         errors: dict[str, str], status: int = 200) -> Response:
    parts = await panels(
        incidents=viewer.services.get("field_ops", "/api/downtime", state=UNRESOLVED,
                                      limit=200),
        sites=viewer.services.get("field_ops", "/api/sites", limit=LIMIT))
    moment = now()
    long = {str(i.get("id")) for i in long_downtimes(parts["incidents"].data or [], moment)}
    by_client: dict[str, list[dict[str, Any]]] = {}
    for site in parts["sites"].data or []:
        by_client.setdefault(str(site.get("client_name") or "—"), []).append(site)
    return render(request, "desks/dispatch/downtime.html", {
        "p": parts, "long": long, "sites_by_client": sorted(by_client.items()),
        "values": values, "errors": errors, "order_kinds": INCIDENT_ORDER_KINDS,
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/downtime")
async def downtime_page(request: Request, viewer: DeskViewer) -> Response:
    started = now().astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M")
    return await _downtime_page(request, viewer, errors={},
                                values={"source": "client", "started_at": started})


@router.post("/downtime")
async def report_downtime(request: Request, viewer: CheckedViewer) -> Response:
    """A terminal stands idle (the monitoring desk or the client said so): an incident."""
    _require(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in DOWNTIME_FIELDS}
    if not uuid_or_blank(values["site_id"]):
        return await _downtime_page(request, viewer, values=values, status=422,
                                    errors={"site_id": "Выберите объект."})
    body = _opt({**values, "started_at": moscow_moment(values["started_at"])})
    try:
        await viewer.services.post("field_ops", "/api/downtime", json=body)
    except ServiceError as exc:
        return await _downtime_page(request, viewer, values=values, status=exc.status,
                                    errors=exc.form_errors())
    return redirect("/dispatch/downtime?flash=downtime", request)


async def _incident_action(request: Request, viewer: Viewer, incident_id: uuid.UUID,
                           action: str, body: dict[str, Any], flash: str) -> Response:
    _require(viewer)
    try:
        result = await viewer.services.post("field_ops",
                                            f"/api/downtime/{incident_id}/{action}", json=body)
    except ServiceError as exc:
        if exc.status in (404, 409, 422):
            return render(request, "desks/contracts/action_failed.html", {
                "error": exc, "client_id": "", "back": "/dispatch/downtime"},
                status=exc.status)
        raise
    if action == "work-order":
        return redirect(f"/dispatch/orders/{result['id']}?flash=created", request)
    return redirect(f"/dispatch/downtime?flash={flash}", request)


@router.post("/downtime/{incident_id}/cause")
async def downtime_cause(incident_id: uuid.UUID, request: Request, viewer: CheckedViewer
                         ) -> Response:
    form = await request.form()
    return await _incident_action(request, viewer, incident_id, "cause",
                                  {"cause": form_str(form, "cause")}, "cause")


@router.post("/downtime/{incident_id}/resolve")
async def downtime_resolve(incident_id: uuid.UUID, request: Request, viewer: CheckedViewer
                           ) -> Response:
    form = await request.form()
    return await _incident_action(request, viewer, incident_id, "resolve",
                                  _opt({"cause": form_str(form, "cause")}), "resolved")


@router.post("/downtime/{incident_id}/work-order")
async def downtime_order(incident_id: uuid.UUID, request: Request, viewer: CheckedViewer
                         ) -> Response:
    """A repair (replace, repaint, …) started from the incident: a draft for the head."""
    form = await request.form()
    return await _incident_action(request, viewer, incident_id, "work-order", {
        "kind": form_str(form, "kind"), "description": form_str(form, "description")}, "")


# --- technicians field-ops may send ----------------------------------------------------------


async def _technicians_page(request: Request, viewer: Viewer, *, values: dict[str, str],
                            errors: dict[str, str], status: int = 200) -> Response:
    # working ones and those taken off, both on the list
    parts = await panels(
        active=viewer.services.get("field_ops", "/api/technicians", active="true"),
        inactive=viewer.services.get("field_ops", "/api/technicians", active="false"))
    listed = parts["active"]
    if listed.ok and parts["inactive"].ok:
        listed.data = [*listed.data, *parts["inactive"].data]
    known = {t["username"] for t in listed.data or []}
    async with runtime_of(request).uow() as uow:
        users = [{"username": u.username, "full_name": u.full_name or u.username}
                 for u in await uow.users() if u.active and u.role == "technician"]
    return render(request, "desks/dispatch/technicians.html", {
        "listed": listed, "users": users, "new_users": [u for u in users
                                                        if u["username"] not in known],
        "values": values, "errors": errors,
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/technicians")
async def technicians_page(request: Request, viewer: DeskViewer) -> Response:
    return await _technicians_page(request, viewer, values={}, errors={})


TECHNICIAN_FIELDS = ("username", "full_name", "phone", "active")


@router.post("/technicians")
async def save_technician(request: Request, viewer: CheckedViewer) -> Response:
    """Put a technician (a user with the technician role) on field-ops' list, or change
    their phone, or take them off (inactive)."""
    _require(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in TECHNICIAN_FIELDS}
    if not values["username"]:
        return await _technicians_page(request, viewer, values=values, status=422,
                                       errors={"username": "Выберите техника."})
    if not values["full_name"]:  # a new one: the name their user account has
        async with runtime_of(request).uow() as uow:
            user = await uow.user(values["username"])
            values["full_name"] = (user.full_name or user.username) if user else ""
    body: dict[str, Any] = _opt({k: values[k] for k in ("username", "full_name", "phone")})
    body["active"] = values["active"] != "off"
    try:
        await viewer.services.put("field_ops", f"/api/technicians/{values['username']}",
                                  json=body)
    except ServiceError as exc:
        return await _technicians_page(request, viewer, values=values, status=exc.status,
                                       errors=exc.form_errors())
    return redirect("/dispatch/technicians?flash=technician", request)


@router.get("/orders/{order_id}/act.pdf")
async def act_pdf(order_id: uuid.UUID, viewer: ActViewer) -> Response:
    """The acceptance act the technician takes to the site (field-ops renders it)."""
    upstream = await viewer.services.document("field_ops", f"{ORDERS}/{order_id}/act.pdf")
    return download(upstream, f"act-{order_id}.pdf")


# --- panels other pages load (HTMX, one include line each) ---------------------------------


@router.get("/panels/approvals")
async def approvals_panel(request: Request, viewer: HeadViewer, flash: str = "") -> Response:
    """Work orders waiting for the head, on the approvals queue."""
    drafts = await panel(viewer.services.get("field_ops", ORDERS, status="draft",
                                             limit=LIMIT))
    if drafts.ok:
        drafts.data = await _placed(request, viewer, drafts.data)
    return render(request, "desks/dispatch/panel_approvals.html", {
        "drafts": drafts, "flash": FLASH.get(flash)})


@router.get("/panels/head")
async def head_panel(request: Request, viewer: HeadViewer) -> Response:
    """SLA breaches and long downtimes, on the head's dashboard."""
    moment = now()
    month = moment.astimezone(MOSCOW).strftime("%Y-%m")
    parts = await panels(
        emergency=viewer.services.get("field_ops", ORDERS, kind="emergency", sla="breached",
                                      limit=LIMIT),
        downtime=viewer.services.get("field_ops", "/api/downtime", state=UNRESOLVED,
                                     limit=200),
        compliance=viewer.services.get("field_ops", "/api/sla/compliance", month=month))
    breaches = sla_breaches(parts["emergency"].data or [], moment)[:BREACHES_SHOWN]
    long = long_downtimes(parts["downtime"].data or [], moment)
    where = await places(viewer.services, unplaced([*breaches, *long]))
    return render(request, "desks/dispatch/panel_head.html", {
        "p": parts, "breaches": [placed(r, where) for r in breaches],
        "long": [placed(r, where) for r in long], "month": month,
        "compliance": compliance_total(parts["compliance"].data or [])})


@router.get("/panels/client/{client_id}")
async def client_panel(client_id: uuid.UUID, request: Request, viewer: CurrentViewer
                       ) -> Response:
    """The client card's field part: work orders, equipment per site, downtime incidents."""
    cid = str(client_id)
    directory = await card_services(request, viewer, cid)
    mine = {"technician": viewer.username} if viewer.role == "technician" else {}
    parts = await panels(
        orders=viewer.services.get("field_ops", ORDERS, client_id=cid, limit=LIMIT, **mine),
        equipment=viewer.services.get("field_ops", "/api/equipment", client_id=cid,
                                      limit=LIMIT),
        downtime=viewer.services.get("field_ops", "/api/downtime", client_id=cid,
                                     limit=200),
        sites=directory.get("contracts", f"/api/clients/{cid}/sites"))
    site_names = {str(s["id"]): s["name"] for s in parts["sites"].data or []}
    by_site: dict[str, list[dict[str, Any]]] = {}
    for item in parts["equipment"].data or []:
        by_site.setdefault(str(item.get("site_id")), []).append(item)
    orders = sorted(parts["orders"].data or [], key=lambda o: str(o.get("visit_on") or "~"),
                    reverse=True)
    return render(request, "desks/dispatch/panel_client.html", {
        "p": parts, "orders": orders, "by_site": by_site, "site_names": site_names,
        "may_dispatch": viewer.has_role(*DESK_ROLES), "client_id": cid})
