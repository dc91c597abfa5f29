"""Billing desk: the month's invoice run with its progress and failures, who paid and who
did not for a period, payment entry and bank-statement upload."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    is_htmx,
    panel,
    redirect,
    render,
    today,
    viewer_with_roles,
)

router = APIRouter(prefix="/billing", include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
BillingViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
RUN_ROLES = ("billing", "accountant")
RunViewer = Annotated[Viewer, Depends(viewer_with_roles(*RUN_ROLES))]


def current_period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def run_progress(run: dict[str, Any]) -> dict[str, Any]:
    """How far an invoice run is: contracts processed (issued, skipped or failed) of all."""
    total = int(run.get("total") or 0)
    failed = int(run.get("failed") or 0)
    processed = max(int(run.get("done") or 0),
                    int(run.get("issued") or 0) + int(run.get("skipped") or 0) + failed)
    finished = bool(run.get("finished_at")) or run.get("status") in ("finished", "failed")
    if finished:
        percent = 100
    else:
        percent = min(99, int(100 * processed / total)) if total else 0
    return {"total": total, "processed": processed, "failed": failed, "percent": percent,
            "finished": finished}


def paid_split(invoices: list[dict[str, Any]]) -> dict[str, Any]:
    paid = [i for i in invoices if i.get("status") == "paid"]
    unpaid = [i for i in invoices if i.get("status") not in ("paid", "cancelled", "void")]
    total = sum((Decimal(str(i.get("outstanding", i.get("total")) or 0)) for i in unpaid),
                Decimal(0))
    return {"paid": paid, "unpaid": unpaid, "owed": total}


@router.get("")
async def desk(request: Request, viewer: BillingViewer, period: str | None = None) -> Response:
    period = period or current_period(today())
    invoices = await panel(viewer.services.get("billing", "/api/invoices", period=period,
                                               limit=500))
    split = paid_split(invoices.data) if invoices.ok else None
    return render(request, "desks/billing/desk.html", {
        "period": period, "invoices": invoices, "split": split,
        "may_run": viewer.has_role(*RUN_ROLES), "flash": request.query_params.get("flash")})


@router.get("/runs/new")
async def new_run(request: Request, viewer: RunViewer) -> Response:
    return render(request, "desks/billing/run_form.html", {
        "values": {"period": current_period(today())}, "errors": {}})


@router.post("/runs")
async def start_run(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*RUN_ROLES):
        raise PageForbidden("Счета выставляет биллинг.")
    form = await request.form()
    values = {"period": form_str(form, "period")}
    try:
        run = await viewer.services.post("billing", "/api/invoice-runs", json=values)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return render(request, "desks/billing/run_form.html", {
                "values": values, "errors": exc.field_errors() or {"": exc.detail}},
                status=exc.status)
        raise
    return redirect(f"/billing/runs/{run['id']}", request)


@router.get("/runs/{run_id}")
async def run_page(run_id: uuid.UUID, request: Request, viewer: RunViewer) -> Response:
    run = await viewer.services.get("billing", f"/api/invoice-runs/{run_id}")
    progress = run_progress(run)
    ctx = {"run": run, "progress": progress}
    if is_htmx(request):
        return render(request, "desks/billing/run.html", ctx, block="progress")
    return render(request, "desks/billing/run.html", ctx)


PAYMENT_FIELDS = ("invoice_id", "payer_inn", "amount", "paid_on", "reference")


@router.get("/payments/new")
async def new_payment(request: Request, viewer: RunViewer, invoice_id: str = "") -> Response:
    return render(request, "desks/billing/payment_form.html", {
        "values": {"invoice_id": invoice_id, "paid_on": today().isoformat()}, "errors": {}})


@router.post("/payments")
async def record_payment(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*RUN_ROLES):
        raise PageForbidden("Оплаты вносит биллинг.")
    form = await request.form()
    values = {k: form_str(form, k) for k in PAYMENT_FIELDS}
    body = {k: v for k, v in values.items() if v}
    if "amount" in body:
        body["amount"] = money_input(body["amount"])
    try:
        await viewer.services.post("billing", "/api/payments", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return render(request, "desks/billing/payment_form.html", {
                "values": values, "errors": exc.field_errors() or {"": exc.detail}},
                status=exc.status)
        raise
    return redirect("/billing?flash=payment", request)


@router.post("/statements")
async def upload_statement(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*RUN_ROLES):
        raise PageForbidden("Выписки загружает биллинг.")
    form = await request.form()
    upload = form.get("statement")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(request, "desks/billing/payment_form.html", {
            "values": {}, "errors": {"statement": "Выберите файл выписки"}}, status=422)
    content = await upload.read()
    try:
        result = await viewer.services.post(
            "billing", "/api/bank-statements",
            files={"file": (upload.filename, content, upload.content_type or "text/plain")})
    except ServiceError as exc:
        if exc.status in (409, 422):
            return render(request, "desks/billing/payment_form.html", {
                "values": {}, "errors": exc.field_errors() or {"statement": exc.detail}},
                status=exc.status)
        raise
    return render(request, "desks/billing/statement.html", {"result": result})
