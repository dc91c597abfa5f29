"""Billing desk, site rent: agreements with their dated changes, the cashless payout registry
for a month (XLSX for accounting, sent → reconciled or disputed), cash routes and a route's
month (cash sum, cash request, payment permission, the courier's receipts, open items)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    today,
    viewer_with_roles,
)
from web.formatting import RECEIPT_KIND, REGISTRY_STATE, RENT_FORM, ROUTE_STATE, ru_period

router = APIRouter(prefix="/billing/rent", include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
APPROVERS = ("head", "accountant")  # the payment permission for a route's cash
RentViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
Period = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]
PAGE = 100

FLASH = {
    "created": "Договор аренды создан.",
    "changed": "Изменение условий записано.",
    "route": "Маршрут создан.",
    "planned": "Месяц маршрута рассчитан.",
    "requested": "Заявка на наличные отправлена в бухгалтерию.",
    "permitted": "Оплата разрешена.",
    "confirmed": "Выдача подтверждена.",
}
# what each registry state may become, and the button that does it
REGISTRY_ACTIONS: dict[str, list[tuple[str, str]]] = {
    "draft": [("sent", "Передать в бухгалтерию")],
    "sent": [("reconciled", "Сверено"), ("disputed", "Есть расхождение")],
    "disputed": [("sent", "Передать заново"), ("reconciled", "Сверено")],
    "reconciled": [],
}


def _only_desk(viewer: Viewer) -> None:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие биллинга.")


def next_period(day: date) -> str:
    """The month after the one ``day`` is in: the registry is prepared for it."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year:04d}-{month:02d}"


def _back(path: str, **params: str | None) -> str:
    clean = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(clean) if clean else "")


def _refusal(exc: ServiceError, states: dict[str, str]) -> str:
    """A 409 or 422 from billing as one Russian sentence for the page."""
    if exc.status == 409 and exc.current_state:
        return ("Сейчас это сделать нельзя: статус «"
                + states.get(exc.current_state, exc.current_state) + "».")
    if exc.status == 409:
        return "Такая запись уже есть." if "already" in exc.detail or "exists" in exc.detail \
            else exc.message
    fields = exc.field_errors()
    return "; ".join(fields.values()) if fields else exc.message


def owner_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agreements by site owner (the list comes ordered by owner), with each owner's
    terminals and monthly rent in cash and cashless."""
    groups: list[dict[str, Any]] = []
    for row in rows:
        if not groups or groups[-1]["owner_inn"] != row["owner_inn"] \
                or groups[-1]["owner_name"] != row["owner_name"]:
            groups.append({"owner_name": row["owner_name"], "owner_inn": row["owner_inn"],
                           "rows": [], "terminals": 0, "cash": Decimal(0),
                           "cashless": Decimal(0)})
        group = groups[-1]
        group["rows"].append(row)
        if not row.get("ended"):
            group["terminals"] += int(row["terminals"])
            group[row["payment_form"]] += Decimal(str(row["monthly_amount"]))
    return groups


# --- agreements ------------------------------------------------------------------------------


@router.get("")
async def agreements(request: Request, viewer: RentViewer, q: str = "", owner_inn: str = "",
                     payment_form: str = "", on: date | None = None,
                     offset: Annotated[int, Query(ge=0)] = 0,
                     flash: str | None = None) -> Response:
    day = on or today()
    listed = await panel(viewer.services.get_page(
        "billing", "/api/rent/agreements", q=q or None, owner_inn=owner_inn or None,
        payment_form=payment_form if payment_form in RENT_FORM else None,
        on=day.isoformat(), limit=PAGE, offset=offset))
    groups = owner_groups(listed.data) if listed.ok else []
    return render(request, "desks/rent/agreements.html", {
        "listed": listed, "groups": groups, "q": q, "owner_inn": owner_inn,
        "payment_form": payment_form, "on": day, "offset": offset, "page": PAGE,
        "forms": RENT_FORM, "flash": FLASH.get(flash or ""),
        "cash": sum((g["cash"] for g in groups), Decimal(0)),
        "cashless": sum((g["cashless"] for g in groups), Decimal(0)),
        "terminals": sum(g["terminals"] for g in groups)})


AGREEMENT_FIELDS = ("number", "owner_name", "owner_inn", "owner_account", "owner_bic",
                    "owner_bank", "site_id", "site_name", "address", "starts_on", "ends_on",
                    "terminals", "amount_per_terminal", "payment_form")


def _agreement_form(request: Request, values: dict[str, str], errors: dict[str, str],
                    status: int = 200) -> Response:
    return render(request, "desks/rent/agreement_form.html", {
        "values": values, "errors": errors, "forms": RENT_FORM}, status=status)


@router.get("/agreements/new")
async def new_agreement(request: Request, viewer: RentViewer) -> Response:
    return _agreement_form(request, {"starts_on": today().isoformat(), "terminals": "1",
                                     "payment_form": "cashless"}, {})


@router.post("/agreements/new")
async def create_agreement(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in AGREEMENT_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "amount_per_terminal" in body:
        body["amount_per_terminal"] = money_input(body["amount_per_terminal"])
    try:
        created = await viewer.services.post("billing", "/api/rent/agreements", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = exc.field_errors() or {"": _refusal(exc, {})}
            if exc.status == 409:
                errors = {"number": "Договор аренды с таким номером уже есть."}
            return _agreement_form(request, values, errors, status=exc.status)
        raise
    return redirect(f"/billing/rent/agreements/{created['id']}?flash=created", request)


CHANGE_FIELDS = ("effective_from", "terminals", "amount_per_terminal", "payment_form", "note")


async def _agreement_page(request: Request, viewer: Viewer, agreement_id: uuid.UUID, *,
                          values: dict[str, str] | None = None,
                          errors: dict[str, str] | None = None, status: int = 200,
                          flash: str | None = None) -> Response:
    agreement = await viewer.services.get("billing", f"/api/rent/agreements/{agreement_id}")
    parts = await panels(
        changes=viewer.services.get("billing", f"/api/rent/agreements/{agreement_id}/changes"),
        routes=viewer.services.get("billing", "/api/rent/cash-routes"))
    on_routes = [r for r in (parts["routes"].data or [])
                 if any(s["agreement_id"] == str(agreement_id) for s in r["stops"])]
    return render(request, "desks/rent/agreement.html", {
        "agreement": agreement, "p": parts, "on_routes": on_routes, "forms": RENT_FORM,
        "values": values or {"effective_from": today().isoformat()},
        "errors": errors or {}, "flash": FLASH.get(flash or "")}, status=status)


@router.get("/agreements/{agreement_id}")
async def agreement(agreement_id: uuid.UUID, request: Request, viewer: RentViewer,
                    flash: str | None = None) -> Response:
    return await _agreement_page(request, viewer, agreement_id, flash=flash)


@router.post("/agreements/{agreement_id}/changes")
async def change_agreement(agreement_id: uuid.UUID, request: Request, viewer: CheckedViewer
                           ) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in CHANGE_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "amount_per_terminal" in body:
        body["amount_per_terminal"] = money_input(body["amount_per_terminal"])
    if not any(k in body for k in ("terminals", "amount_per_terminal", "payment_form")):
        return await _agreement_page(request, viewer, agreement_id, values=values, status=422,
                                     errors={"terminals": "Укажите, что меняется: терминалы, "
                                                          "сумму или форму оплаты."})
    try:
        await viewer.services.post("billing", f"/api/rent/agreements/{agreement_id}/changes",
                                   json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _agreement_page(request, viewer, agreement_id, values=values,
                                         errors=exc.field_errors() or {
                                             "": _refusal(exc, {})}, status=exc.status)
        raise
    return redirect(f"/billing/rent/agreements/{agreement_id}?flash=changed", request)


# --- the cashless registry -------------------------------------------------------------------


@router.get("/registry")
async def registry(request: Request, viewer: RentViewer, period: Period = None,
                   error: str | None = None) -> Response:
    period = period or next_period(today())
    parts = await panels(
        registry=viewer.services.get("billing", "/api/rent/registry", period=period),
        history=viewer.services.get("billing", "/api/rent/registries", limit=24))
    state = parts["registry"].data["state"] if parts["registry"].ok else None
    return render(request, "desks/rent/registry.html", {
        "period": period, "p": parts, "actions": REGISTRY_ACTIONS.get(state or "", []),
        "states": REGISTRY_STATE, "error": error,
        "notice": request.query_params.get("notice")})


@router.get("/registry.xlsx")
async def registry_xlsx(viewer: RentViewer, period: Period = None) -> Response:
    period = period or next_period(today())
    upstream = await viewer.services.document(
        "billing", "/api/rent/registry", period=period, format="xlsx")
    return Response(upstream.content, media_type=upstream.headers.get("content-type"),
                    headers={"Content-Disposition": upstream.headers.get(
                        "content-disposition",
                        f'attachment; filename="rent-registry-{period}.xlsx"')})


@router.post("/registry/{period}/state")
async def registry_state(period: str, request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    state, note = form_str(form, "state"), form_str(form, "note")
    back = "/billing/rent/registry"
    try:
        await viewer.services.post("billing", f"/api/rent/registry/{period}/state",
                                   json={"state": state, "note": note or None})
    except ServiceError as exc:
        if exc.status in (409, 422):
            return redirect(_back(back, period=period,
                                  error=_refusal(exc, REGISTRY_STATE)), request)
        raise
    text = f"Реестр за {ru_period(period)}: {REGISTRY_STATE.get(state, state)}."
    return redirect(_back(back, period=period, notice=text), request)


# --- cash routes -----------------------------------------------------------------------------


async def _routes_page(request: Request, viewer: Viewer, *,
                       values: dict[str, Any] | None = None,
                       errors: dict[str, str] | None = None, status: int = 200) -> Response:
    parts = await panels(
        routes=viewer.services.get("billing", "/api/rent/cash-routes"),
        cash=viewer.services.get("billing", "/api/rent/agreements", payment_form="cash",
                                 limit=500))
    return render(request, "desks/rent/routes.html", {
        "p": parts, "values": values or {"positions": {}}, "errors": errors or {},
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/routes")
async def routes(request: Request, viewer: RentViewer) -> Response:
    return await _routes_page(request, viewer)


def route_stops(form: Any) -> tuple[list[str], dict[str, str], str | None]:
    """Stops in the courier's order from the ``pos_<agreement id>`` fields (blank: not on
    the route); the order numbers as typed; the first problem with them, if any."""
    positions: dict[str, str] = {}
    for key in form:
        if key.startswith("pos_") and form_str(form, key):
            positions[key.removeprefix("pos_")] = form_str(form, key)
    numbered: list[tuple[int, str]] = []
    for agreement_id, text in positions.items():
        if not text.isdigit() or int(text) < 1:
            return [], positions, "Порядок объезда — целое число от 1."
        numbered.append((int(text), agreement_id))
    if len({n for n, _ in numbered}) != len(numbered):
        return [], positions, "У двух объектов один и тот же номер в порядке объезда."
    return [a for _, a in sorted(numbered)], positions, None


@router.post("/routes")
async def create_route(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    stops, positions, problem = route_stops(form)
    values: dict[str, Any] = {"name": form_str(form, "name"), "courier": form_str(form, "courier"),
                              "positions": positions}
    if problem or not stops:
        return await _routes_page(request, viewer, values=values, status=422, errors={
            "stops": problem or "Отметьте объекты маршрута: проставьте порядок объезда."})
    try:
        created = await viewer.services.post("billing", "/api/rent/cash-routes", json={
            "name": values["name"], "courier": values["courier"], "stops": stops})
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = exc.field_errors() or {"": _refusal(exc, {})}
            if exc.status == 409:
                errors = {"name": "Маршрут с таким названием уже есть."}
            return await _routes_page(request, viewer, values=values, errors=errors,
                                      status=exc.status)
        raise
    return redirect(f"/billing/rent/routes/{created['id']}?flash=route", request)


@router.get("/routes/{route_id}")
async def route(route_id: uuid.UUID, request: Request, viewer: RentViewer,
                flash: str | None = None, error: str | None = None) -> Response:
    found = await viewer.services.get("billing", f"/api/rent/cash-routes/{route_id}")
    return render(request, "desks/rent/route.html", {
        "route": found, "next_period": next_period(today()), "flash": FLASH.get(flash or ""),
        "error": error, "states": ROUTE_STATE})


@router.post("/routes/{route_id}/months")
async def plan_month(route_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    period = form_str(form, "period")
    try:
        month = await viewer.services.post(
            "billing", f"/api/rent/cash-routes/{route_id}/months", json={"period": period})
    except ServiceError as exc:
        if exc.status == 409:
            return redirect(_back(f"/billing/rent/routes/{route_id}", error=(
                f"Месяц {ru_period(period)} по этому маршруту уже рассчитан.")), request)
        if exc.status == 422:
            return redirect(_back(f"/billing/rent/routes/{route_id}",
                                  error=_refusal(exc, {})), request)
        raise
    return redirect(f"/billing/rent/route-months/{month['id']}?flash=planned", request)


async def _month_page(request: Request, viewer: Viewer, month_id: uuid.UUID, *,
                      values: dict[str, dict[str, str]] | None = None,
                      errors: dict[str, dict[str, str]] | None = None, status: int = 200,
                      error: str | None = None) -> Response:
    month = await viewer.services.get("billing", f"/api/rent/route-months/{month_id}")
    routes_ = await panel(viewer.services.get("billing", "/api/rent/cash-routes"))
    route_id = next((r["id"] for r in routes_.data or []
                     if any(m["id"] == month["id"] for m in r["months"])), None)
    return render(request, "desks/rent/route_month.html", {
        "month": month, "route_id": route_id, "states": ROUTE_STATE,
        "receipt_kinds": RECEIPT_KIND, "may_permit": viewer.has_role(*APPROVERS),
        "values": values or {}, "errors": errors or {}, "error": error,
        "flash": FLASH.get(request.query_params.get("flash", ""))}, status=status)


@router.get("/route-months/{month_id}")
async def route_month(month_id: uuid.UUID, request: Request, viewer: RentViewer,
                      error: str | None = None) -> Response:
    return await _month_page(request, viewer, month_id, error=error)


@router.post("/route-months/{month_id}/cash-request")
async def request_cash(month_id: uuid.UUID, request: Request, viewer: CheckedViewer
                       ) -> Response:
    _only_desk(viewer)
    try:
        await viewer.services.post("billing",
                                   f"/api/rent/route-months/{month_id}/cash-request")
    except ServiceError as exc:
        if exc.status == 409:
            return await _month_page(request, viewer, month_id, status=409,
                                     error=_refusal(exc, ROUTE_STATE))
        raise
    return redirect(f"/billing/rent/route-months/{month_id}?flash=requested", request)


@router.post("/route-months/{month_id}/permission")
async def permit(month_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*APPROVERS):
        raise PageForbidden("Разрешение на оплату даёт руководитель или бухгалтерия.")
    form = await request.form()
    number = form_str(form, "permission_no")
    if not number:
        return await _month_page(request, viewer, month_id, status=422, errors={
            "permission": {"permission_no": "Укажите номер разрешения на оплату."}})
    try:
        await viewer.services.post("billing", f"/api/rent/route-months/{month_id}/permission",
                                   json={"permission_no": number})
    except ServiceError as exc:
        if exc.status == 422:
            return await _month_page(request, viewer, month_id, status=422, errors={
                "permission": exc.field_errors() or {"": _refusal(exc, {})}})
        if exc.status == 409:
            return await _month_page(request, viewer, month_id, status=409,
                                     error=_refusal(exc, ROUTE_STATE))
        raise
    return redirect(f"/billing/rent/route-months/{month_id}?flash=permitted", request)


CONFIRM_FIELDS = ("paid_on", "receipt_kind", "receipt_no", "courier_note")


@router.post("/route-months/{month_id}/items/{agreement_id}/confirm")
async def confirm(month_id: uuid.UUID, agreement_id: uuid.UUID, request: Request,
                  viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in CONFIRM_FIELDS}
    body = {k: v for k, v in values.items() if v}
    key = str(agreement_id)
    try:
        await viewer.services.post(
            "billing", f"/api/rent/route-months/{month_id}/items/{agreement_id}/confirm",
            json=body)
    except ServiceError as exc:
        if exc.status == 422:
            return await _month_page(request, viewer, month_id, values={key: values},
                                     errors={key: exc.field_errors() or {
                                         "": _refusal(exc, {})}}, status=422)
        if exc.status in (404, 409):
            return await _month_page(request, viewer, month_id, status=exc.status,
                                     values={key: values},
                                     error=("Этот объект уже подтверждён."
                                            if exc.current_state == "confirmed"
                                            else _refusal(exc, ROUTE_STATE)))
        raise
    return redirect(f"/billing/rent/route-months/{month_id}?flash=confirmed", request)


@router.get("/open-items")
async def open_items(request: Request, viewer: RentViewer) -> Response:
    items = await panel(viewer.services.get("billing", "/api/rent/open-items"))
    total = sum((Decimal(str(i["amount"])) for i in items.data or []), Decimal(0))
    return render(request, "desks/rent/open_items.html", {
        "items": items, "total": total, "states": ROUTE_STATE})
