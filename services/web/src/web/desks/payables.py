"""Billing desk, payables: supplier and carrier invoices entered, approved (head or
accounting), turned into a payment request, marked paid or rejected; each mirrored in
PlanFact, with a button to retry what did not reach it."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import money_input
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
from web.formatting import PAYABLE_CATEGORY, PAYABLE_STATUS

router = APIRouter(prefix="/billing/payables", include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
APPROVERS = ("head", "accountant")  # approve, mark paid, reject
PayablesViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
OPEN = ("received", "approved", "payment_requested")

FLASH = {
    "entered": "Счёт поставщика записан.",
    "approve": "Счёт согласован.",
    "payment-request": "Заявка на оплату создана.",
    "paid": "Счёт отмечен оплаченным.",
    "reject": "Счёт отклонён.",
}
# what each action needs and who may take it
ACTIONS: dict[str, tuple[str, ...]] = {
    "approve": APPROVERS, "payment-request": DESK_ROLES, "paid": APPROVERS,
    "reject": APPROVERS,
}


def _back(**params: str | None) -> str:
    clean = {k: v for k, v in params.items() if v}
    return "/billing/payables" + ("?" + urlencode(clean) if clean else "")


def due_sum(rows: list[dict[str, Any]]) -> Decimal:
    """What is still to be paid: every invoice not paid and not rejected."""
    return sum((Decimal(str(r["amount"])) for r in rows if r["status"] in OPEN), Decimal(0))


@router.get("")
async def payables(request: Request, viewer: PayablesViewer, status: str = "",
                   flash: str | None = None, error: str | None = None,
                   notice: str | None = None) -> Response:
    listed = await panel(viewer.services.get("billing", "/api/payables"))
    rows: list[dict[str, Any]] = listed.data if listed.ok else []
    counts = Counter(r["status"] for r in rows)
    chosen = status if status in PAYABLE_STATUS or status == "all" else "open"
    shown = (rows if chosen == "all" else
             [r for r in rows if r["status"] in OPEN] if chosen == "open" else
             [r for r in rows if r["status"] == chosen])
    return render(request, "desks/payables/list.html", {
        "listed": listed, "rows": shown, "status": chosen, "counts": counts,
        "open_count": sum(counts[s] for s in OPEN), "due": due_sum(rows),
        "statuses": PAYABLE_STATUS, "categories": PAYABLE_CATEGORY,
        "may_approve": viewer.has_role(*APPROVERS), "failed": counts_failed(rows),
        "flash": FLASH.get(flash or ""), "error": error, "notice": notice})


def counts_failed(rows: list[dict[str, Any]]) -> int:
    return sum(1 for r in rows if r.get("planfact_state") in ("pending", "failed"))


PAYABLE_FIELDS = ("supplier_name", "supplier_inn", "number", "issued_on", "amount", "vat",
                  "due_on", "category", "description")


def _form(request: Request, values: dict[str, str], errors: dict[str, str],
          status: int = 200) -> Response:
    return render(request, "desks/payables/form.html", {
        "values": values, "errors": errors, "categories": PAYABLE_CATEGORY}, status=status)


@router.get("/new")
async def new_payable(request: Request, viewer: PayablesViewer) -> Response:
    return _form(request, {"issued_on": today().isoformat(), "vat": "0,00",
                           "category": "equipment"}, {})


@router.post("/new")
async def enter_payable(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Счета поставщиков вносят биллинг и бухгалтерия.")
    form = await request.form()
    values = {k: form_str(form, k) for k in PAYABLE_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    for money in ("amount", "vat"):
        if money in body:
            body[money] = money_input(body[money])
    try:
        await viewer.services.post("billing", "/api/payables", json=body)
    except ServiceError as exc:
        if exc.status == 409:
            return _form(request, values, {"number": "Этот счёт поставщика от этой даты уже "
                                                     "внесён."}, status=409)
        if exc.status == 422:
            return _form(request, values, exc.field_errors() or {"": exc.message},
                         status=422)
        raise
    return redirect("/billing/payables?flash=entered", request)


@router.post("/{payable_id}/{action}")
async def move(payable_id: uuid.UUID, action: str, request: Request, viewer: CheckedViewer
               ) -> Response:
    if action not in ACTIONS:
        raise PageForbidden("Такого действия со счётом поставщика нет.")
    if not viewer.has_role(*ACTIONS[action]):
        raise PageForbidden("Согласовать, отметить оплату или отклонить счёт поставщика "
                            "могут руководитель и бухгалтерия.")
    form = await request.form()
    back_status = form_str(form, "back_status") or None
    body: dict[str, Any] | None = None
    if action == "paid":
        body = {"paid_on": form_str(form, "paid_on") or today().isoformat()}
    elif action == "reject":
        body = {"reason": form_str(form, "reason")}
    try:
        await viewer.services.post("billing", f"/api/payables/{payable_id}/{action}",
                                   json=body)
    except ServiceError as exc:
        if exc.status == 409:
            now = PAYABLE_STATUS.get(exc.current_state or "", exc.current_state or "")
            return redirect(_back(status=back_status, error=(
                f"Сейчас это сделать нельзя: счёт в статусе «{now}».")), request)
        if exc.status == 422:
            fields = exc.field_errors()
            text = "; ".join(fields.values()) if fields else exc.message
            if "reason" in fields:
                text = "Причина отклонения: " + fields["reason"].lower()
            return redirect(_back(status=back_status, error=text), request)
        raise
    return redirect(_back(status=back_status, flash=action), request)


@router.post("/planfact-sync")
async def planfact_sync(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие биллинга.")
    result = await viewer.services.post("billing", "/api/payables/planfact-sync")
    return redirect(_back(notice=f"Отправлено в ПланФакт: {int(result.get('synced', 0))}."),
                    request)
