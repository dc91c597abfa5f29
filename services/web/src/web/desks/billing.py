"""Billing desk: the month's invoice run with its progress and per-contract failures, who
paid and who did not for a period, payment entry, bank-statement upload with the unmatched
queue, the reminder (dunning) run."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.adapters.spreadsheets import people_by_name
from web.desks.contracts import money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    is_htmx,
    panels,
    redirect,
    render,
    today,
    viewer_with_roles,
)

router = APIRouter(prefix="/billing", include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
BillingViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
Period = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]
FINISHED = frozenset({"finished", "failed", "interrupted"})
FLASH = {
    "payment": "Оплата записана.",
    "matched": "Платёж разнесён.",
}


def _said(exc: ServiceError) -> str:
    """A refusal as one Russian sentence: the field messages, else the service's reason."""
    return "; ".join(exc.field_errors().values()) or exc.message


def _only_desk(viewer: Viewer) -> None:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие биллинга.")


def current_period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def run_progress(run: dict[str, Any]) -> dict[str, Any]:
    """How far an invoice run is: contracts processed (issued, skipped or failed) of all."""
    total = int(run.get("total") or 0)
    failed = int(run.get("failed") or 0)
    processed = max(int(run.get("done") or 0),
                    int(run.get("issued") or 0) + int(run.get("skipped") or 0) + failed)
    finished = run.get("status") in FINISHED or bool(run.get("finished_at"))
    if finished:
        percent = 100
    else:
        percent = min(99, int(100 * processed / total)) if total else 0
    return {"total": total, "processed": processed, "failed": failed, "percent": percent,
            "finished": finished}


def paid_split(rows: list[dict[str, Any]]) -> dict[str, Any]:
    paid = [r for r in rows if Decimal(str(r.get("outstanding") or 0)) <= 0]
    unpaid = [r for r in rows if Decimal(str(r.get("outstanding") or 0)) > 0]
    owed = sum((Decimal(str(r["outstanding"])) for r in unpaid), Decimal(0))
    return {"paid": paid, "unpaid": unpaid, "owed": owed}


@router.get("")
async def desk(request: Request, viewer: BillingViewer, period: Period = None,
               flash: str | None = None) -> Response:
    period = period or current_period(today())
    parts = await panels(
        report=viewer.services.get("billing", "/api/reports/period", period=period),
        unmatched=viewer.services.get("billing", "/api/payments", status="unmatched",
                                      limit=100),
        # what an unmatched payment can be put to: open invoices by number, clients by name
        issued=viewer.services.get("billing", "/api/invoices", kind="invoice",
                                   status="issued", limit=500),
        partly=viewer.services.get("billing", "/api/invoices", kind="invoice",
                                   status="partially_paid", limit=500),
        clients=viewer.services.get("billing", "/api/balances"),
    )
    open_invoices = [*(parts["issued"].data or []), *(parts["partly"].data or [])]
    split = paid_split(parts["report"].data) if parts["report"].ok else None
    return render(request, "desks/billing/desk.html", {
        "period": period, "p": parts, "split": split, "flash": FLASH.get(flash or ""),
        "open_invoices": open_invoices,
        "error": request.query_params.get("error"),
        "notice": request.query_params.get("notice")})


@router.get("/period.xlsx")
async def period_xlsx(viewer: BillingViewer, period: Period = None) -> Response:
    period = period or current_period(today())
    upstream = await viewer.services.document(
        "billing", "/api/reports/period", period=period, format="xlsx")
    content = await people_by_name(upstream.content, viewer.people)
    return Response(content, media_type=upstream.headers.get("content-type"),
                    headers={"Content-Disposition": upstream.headers.get(
                        "content-disposition", f'attachment; filename="payments-{period}.xlsx"')})


@router.get("/runs/new")
async def new_run(request: Request, viewer: BillingViewer) -> Response:
    return await _run_form(request, viewer, {"period": current_period(today())}, {})


async def _run_form(request: Request, viewer: Viewer, values: dict[str, str],
                    errors: dict[str, str], status: int = 200) -> Response:
    parts = await panels(runs=viewer.services.get("billing", "/api/invoice-runs", limit=12))
    return render(request, "desks/billing/run_form.html", {
        "values": values, "errors": errors, "runs": parts["runs"]}, status=status)


@router.post("/runs")
async def start_run(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {"period": form_str(form, "period")}
    body: dict[str, Any] = dict(values)
    if form.get("confirm_out_of_range") == "on":  # the head's confirmation of a far period
        body["confirm_out_of_range"] = True
    try:
        response = await viewer.services.request(
            "billing", "POST", "/api/invoice-runs", params={"wait": "false"}, json=body)
    except ServiceError as exc:
        return await _run_form(request, viewer, values,
                               exc.form_errors(), status=exc.status)
    return redirect(f"/billing/runs/{response.json()['id']}", request)


@router.get("/runs/{run_id}")
async def run_page(run_id: uuid.UUID, request: Request, viewer: BillingViewer) -> Response:
    run = await viewer.services.get("billing", f"/api/invoice-runs/{run_id}")
    ctx = {"run": run, "progress": run_progress(run)}
    if is_htmx(request):
        return render(request, "desks/billing/run.html", ctx, block="progress")
    return render(request, "desks/billing/run.html", ctx)


PAYMENT_FIELDS = ("invoice_id", "payer_inn", "amount", "paid_on", "reference")


async def _payment_form(request: Request, viewer: Viewer, values: dict[str, str],
                        errors: dict[str, str], status: int = 200,
                        statement: Any = None, key: str | None = None) -> Response:
    invoice = None
    if values.get("invoice_id"):
        try:
            invoice = await viewer.services.get("billing",
                                                f"/api/invoices/{values['invoice_id']}")
        except ServiceError:
            invoice = None
    return render(request, "desks/billing/payment_form.html", {
        "values": values, "errors": errors, "invoice": invoice, "statement": statement,
        # a double-clicked or re-sent form records the payment once; the key is the rendered
        # form's (in its URL), so Back and submit again replays the first answer
        "idempotency_key": key or str(uuid.uuid4())}, status=status)


@router.get("/payments/new")
async def new_payment(request: Request, viewer: BillingViewer, invoice_id: str = "",
                      amount: str = "",
                      form: Annotated[str | None, Query(pattern=r"^[0-9a-f-]{36}$")] = None
                      ) -> Response:
    if form is None:  # each rendered form gets its own key, kept in its URL for Back
        keyed = request.url.include_query_params(form=str(uuid.uuid4()))
        return redirect(f"{keyed.path}?{keyed.query}", request)
    return await _payment_form(request, viewer, {
        "invoice_id": invoice_id, "amount": amount, "paid_on": today().isoformat()}, {},
        key=form)


@router.post("/payments")
async def record_payment(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in PAYMENT_FIELDS}
    body = {k: v for k, v in values.items() if v}
    if "amount" in body:
        body["amount"] = money_input(body["amount"])
    try:
        await viewer.services.post("billing", "/api/payments", json=body,
                                   headers={"Idempotency-Key": form_str(form, "idempotency_key")}
                                   if form_str(form, "idempotency_key") else None)
    except ServiceError as exc:
        return await _payment_form(request, viewer, values,
                                   exc.form_errors(refusals=(404, 409, 422)),
                                   status=exc.status,
                                   key=form_str(form, "idempotency_key") or None)
    return redirect("/billing?flash=payment", request)


@router.post("/statements")
async def upload_statement(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    upload = form.get("statement")
    values = {"paid_on": today().isoformat()}
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await _payment_form(request, viewer, values,
                                   {"statement": "Выберите файл выписки"}, status=422)
    content = await upload.read()
    try:
        result = await viewer.services.post(
            "billing", "/api/bank-statements",
            files={"file": (upload.filename, content, upload.content_type or "text/plain")})
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = {"statement": "; ".join(exc.field_errors().values()) or exc.message}
            return await _payment_form(request, viewer, values, errors, status=exc.status)
        raise
    return await _payment_form(request, viewer, values, {}, statement=result)


@router.post("/payments/{payment_id}/match")
async def match_payment(payment_id: uuid.UUID, request: Request, viewer: CheckedViewer
                        ) -> Response:
    _only_desk(viewer)
    form = await request.form()
    number, client = form_str(form, "invoice_number"), form_str(form, "client_id")
    body: dict[str, str] = {}
    if number:  # picked by its number: the desk finds the invoice, people never see ids
        found = [i for i in await viewer.services.get(
            "billing", "/api/invoices", number=number, kind="invoice", limit=20)
            if i["number"].casefold() == number.casefold()]
        if not found:
            return redirect("/billing?error=" + quote(f"Счёта № {number} нет — выберите "
                                                      "номер из списка."), request)
        body["invoice_id"] = str(found[0]["id"])
    elif client:
        try:
            body["client_id"] = str(uuid.UUID(client))
        except ValueError:
            return redirect("/billing?error=" + quote("Выберите клиента из списка."), request)
    else:
        return redirect("/billing?error=" + quote("Выберите счёт по номеру или клиента."),
                        request)
    try:
        await viewer.services.post("billing", f"/api/payments/{payment_id}/match", json=body)
    except ServiceError as exc:
        if exc.status in (404, 409, 422):
            return redirect("/billing?error=" + quote(_said(exc)[:300]),
                            request)
        raise
    return redirect("/billing?flash=matched", request)


@router.post("/dunning-runs")
async def dunning_run(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    on = form_str(form, "on") or today().isoformat()
    try:
        result = await viewer.services.post("billing", "/api/dunning-runs", json={"on": on})
    except ServiceError as exc:
        if exc.status in (409, 422):
            return redirect("/billing?error=" + quote(_said(exc)[:300]),
                            request)
        raise
    text = (f"Обзвон на {on}: напоминаний {result.get('reminded', 0)}"
            + ("" if result.get("working_day", True) else " (нерабочий день)") + ".")
    return redirect("/billing?notice=" + quote(text), request)
