"""Billing desk, invoices: the filterable list (period, status, client, number, overdue), an
invoice's record with its lines, payments and corrections, the PDF, re-sending it, a
correction with a reason, and cancelling an invoice issued in error with a credit note (e.g.
one a rent contract produced before rent was paid to the site owner instead)."""

from __future__ import annotations

import uuid
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
    panels,
    redirect,
    render,
    uuid_or_blank,
    viewer_with_roles,
)
from web.formatting import INVOICE_STATUS

router = APIRouter(prefix="/billing/invoices", include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
InvoicesViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
Period = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2})?$")]
STATUSES = {k: INVOICE_STATUS[k] for k in ("issued", "partially_paid", "paid", "credited")}
PAGE = 50

FLASH = {
    "resent": "Счёт отправлен повторно.",
    "corrected": "Счёт исправлен.",
    "cancelled": "Счёт аннулирован кредит-нотой.",
}


def _only_desk(viewer: Viewer) -> None:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие биллинга.")


@router.get("")
async def invoice_list(request: Request, viewer: InvoicesViewer, period: Period = None,
                       status: Annotated[str | None, Query(max_length=20)] = None,
                       client_id: Annotated[str | None, Query(max_length=40)] = None,
                       number: Annotated[str | None, Query(max_length=40)] = None,
                       overdue: bool = False, page: Annotated[int, Query(ge=1, le=1000)] = 1
                       ) -> Response:
    params: dict[str, Any] = {"limit": PAGE, "offset": (page - 1) * PAGE}
    if period:
        params["period"] = period
    if status in STATUSES:
        params["status"] = status
    if client_id := uuid_or_blank(client_id):
        params["client_id"] = client_id
    if number:
        params["number"] = number
    if overdue:
        params["overdue"] = "true"
    parts = await panels(
        invoices=viewer.services.get_page("billing", "/api/invoices", **params),
        clients=viewer.services.get("billing", "/api/balances"))
    filters = {"period": period or "", "status": status or "", "client_id": client_id or "",
               "number": number or "", "overdue": "1" if overdue else ""}
    total = parts["invoices"].total or 0
    more = {k: v for k, v in filters.items() if v}
    return render(request, "desks/billing/invoices.html", {
        "p": parts, "filters": filters, "statuses": STATUSES, "page": page,
        "next_url": ("/billing/invoices?" + urlencode({**more, "page": page + 1})
                     if page * PAGE < total else None),
        "prev_url": ("/billing/invoices?" + urlencode({**more, "page": page - 1})
                     if page > 1 else None)})


async def _record(request: Request, viewer: Viewer, invoice_id: uuid.UUID, *,
                  errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  form: str = "", flash: str | None = None, status: int = 200) -> Response:
    invoice = await viewer.services.get("billing", f"/api/invoices/{invoice_id}")
    return render(request, "desks/billing/invoice.html", {
        "invoice": invoice, "errors": errors or {}, "values": values or {}, "form": form,
        "flash": FLASH.get(flash or ""),
        "open": invoice["kind"] == "invoice" and invoice["status"] != "credited"}, status=status)


@router.get("/{invoice_id}")
async def invoice_page(invoice_id: uuid.UUID, request: Request, viewer: InvoicesViewer,
                       flash: str | None = None) -> Response:
    return await _record(request, viewer, invoice_id, flash=flash)


@router.get("/{invoice_id}/pdf")
async def invoice_pdf(invoice_id: uuid.UUID, viewer: InvoicesViewer) -> Response:
    upstream = await viewer.services.document("billing", f"/api/invoices/{invoice_id}/pdf")
    return Response(upstream.content, media_type="application/pdf", headers={
        "Content-Disposition": upstream.headers.get("content-disposition",
                                                    'attachment; filename="invoice.pdf"')})


async def _act(request: Request, viewer: Viewer, invoice_id: uuid.UUID, action: str,
               fields: tuple[str, ...], body_of: Any) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in fields}
    try:
        body = body_of(values)
    except ValueError as exc:
        return await _record(request, viewer, invoice_id, errors=exc.args[0], values=values,
                             form=action, status=422)
    try:
        await viewer.services.post("billing", f"/api/invoices/{invoice_id}/{action}", json=body)
    except ServiceError as exc:
        errors = exc.form_errors()
        return await _record(request, viewer, invoice_id, errors=errors, values=values,
                             form=action, status=exc.status)
    flash = {"resend": "resent", "corrections": "corrected", "cancellation": "cancelled"}
    return redirect(f"/billing/invoices/{invoice_id}?flash={flash[action]}", request)


def _reason(values: dict[str, str]) -> dict[str, Any]:
    if len(values.get("reason", "")) < 3:
        raise ValueError({"reason": "Укажите причину (не короче 3 символов)."})
    return {"reason": values["reason"]}


def _correction(values: dict[str, str]) -> dict[str, Any]:
    body = _reason(values)
    if values.get("amount"):
        body["amount"] = money_input(values["amount"])
    return body


@router.post("/{invoice_id}/resend")
async def resend(invoice_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _act(request, viewer, invoice_id, "resend", ("email",),
                      lambda v: {"email": v["email"]} if v["email"] else {})


@router.post("/{invoice_id}/corrections")
async def correct(invoice_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _act(request, viewer, invoice_id, "corrections", ("reason", "amount"),
                      _correction)


@router.post("/{invoice_id}/cancellation")
async def cancel(invoice_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    return await _act(request, viewer, invoice_id, "cancellation", ("reason",), _reason)
