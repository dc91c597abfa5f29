"""Billing desk, payments: the filterable list (period or dates, client, state, amount, text)
a page at a time, a payment's record with where its money went (the invoices it paid, how
much, what is left as the client's advance), applying a client's advance to an open invoice
picked from a list, and the export to 1C for a period."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
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
    today,
    uuid_or_blank,
    viewer_with_roles,
)
from web.formatting import PAYMENT_STATE, payment_state, ru_period

router = APIRouter(include_in_schema=False)
DESK_ROLES = ("billing", "accountant", "head")
PaymentsViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
Text = Annotated[str | None, Query(max_length=100)]
PAGE = 50
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FLASH = {"applied": "Аванс зачтён в счёт."}


def _only_desk(viewer: Viewer) -> None:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие биллинга.")


def _day(text: str | None, field: str, errors: dict[str, str]) -> str | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = "Дата в виде ДД.ММ.ГГГГ."
        return None
    if not date(2000, 1, 1) <= day <= date(today().year + 5, 12, 31):
        errors[field] = "Дата вне допустимого диапазона (с 2000 года)."
        return None
    return text


def _amount(text: str | None, errors: dict[str, str]) -> str | None:
    if not text:
        return None
    value = money_input(text)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        errors["amount"] = "Сумма числом, например 18 300,00."
        return None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10") \
            or amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = "Сумма больше нуля, до 9 999 999 999,99 ₽, не больше двух знаков " \
                           "после запятой."
        return None
    return f"{amount:.2f}"


def period_error(text: str, on: date) -> str | None:
    """What is wrong with a month a person picked (``ГГГГ-ММ``), in Russian; None if fine.
    From January 2000 to next month (invoices may be issued a month ahead)."""
    found = MONTH.match(text or "")
    if not found:
        return "Выберите месяц (например, декабрь 2026)."
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        return "Такого месяца нет — выберите месяц из списка."
    latest = (on.year + (on.month == 12), on.month % 12 + 1)
    if (year, month) < (2000, 1):
        return "Период не раньше января 2000 года."
    if (year, month) > latest:
        return (f"Период ещё не наступил — самый поздний месяц: "
                f"{ru_period(f'{latest[0]:04d}-{latest[1]:02d}')}.")
    return None


async def _page_of(viewer: Viewer, params: dict[str, Any]) -> tuple[list[Any], int | None, str]:
    response = await viewer.services.request("billing", "GET", "/api/payments", params=params)
    total = response.headers.get("x-total-count")
    return (response.json(), int(total) if total and total.isdigit() else None,
            response.headers.get("x-next-cursor", ""))


@router.get("/billing/payments")
async def payment_list(request: Request, viewer: PaymentsViewer,
                       period: Annotated[str | None, Query(max_length=7)] = None,
                       date_from: Annotated[str | None, Query(max_length=10)] = None,
                       date_to: Annotated[str | None, Query(max_length=10)] = None,
                       client_id: Annotated[str | None, Query(max_length=40)] = None,
                       state: Annotated[str | None, Query(max_length=20)] = None,
                       amount: Annotated[str | None, Query(max_length=30)] = None,
                       q: Text = None,
                       after: Annotated[str | None, Query(max_length=1000)] = None
                       ) -> Response:
    errors: dict[str, str] = {}
    params: dict[str, Any] = {"limit": PAGE}
    if period:
        if period_error(period, date(today().year + 5, 12, 1)) is None:
            params["period"] = period
        else:
            errors["period"] = "Выберите месяц из списка."
    for name, text in (("date_from", date_from), ("date_to", date_to)):
        if (day := _day(text, name, errors)) is not None:
            params[name] = day
    if (sum_ := _amount(amount, errors)) is not None:
        params["amount"] = sum_
    if state in PAYMENT_STATE:
        params["status"] = state
    if client_id := uuid_or_blank(client_id):
        params["client_id"] = client_id
    if q:
        params["q"] = q
    if after:
        params["after"] = after
    parts = await panels(payments=_page_of(viewer, params),
                         clients=viewer.services.get("billing", "/api/balances"))
    filters = {"period": period or "", "date_from": date_from or "", "date_to": date_to or "",
               "client_id": client_id or "", "state": state or "", "amount": amount or "",
               "q": q or ""}
    more = {k: v for k, v in filters.items() if v}
    listed = parts["payments"]
    rows, total, cursor = listed.data if listed.ok else ([], None, "")
    if listed.ok:
        listed.data = rows
    if listed.error and listed.status == 422:
        listed.error = "Проверьте условия поиска: " + (listed.error or "")
    return render(request, "desks/billing/payments.html", {
        "p": parts, "rows": rows, "total": total, "filters": filters, "errors": errors,
        "states": PAYMENT_STATE, "state_of": payment_state, "paged": bool(after),
        "first_url": "/billing/payments?" + urlencode(more),
        "next_url": ("/billing/payments?" + urlencode({**more, "after": cursor})
                     if cursor else None)}, status=422 if errors else 200)


@router.get("/billing/payments/{payment_id}")
async def payment_page(payment_id: uuid.UUID, request: Request, viewer: PaymentsViewer
                       ) -> Response:
    pay = await viewer.services.get("billing", f"/api/payments/{payment_id}")
    return render(request, "desks/billing/payment.html", {
        "pay": pay, "state": payment_state(pay),
        "left": Decimal(str(pay.get("unallocated") or 0))})


async def _advance(request: Request, viewer: Viewer, client_id: uuid.UUID, *,
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   flash: str | None = None, status: int = 200) -> Response:
    cid = str(client_id)
    parts = await panels(
        balance=viewer.services.get("billing", f"/api/clients/{cid}/balance"),
        issued=viewer.services.get("billing", "/api/invoices", client_id=cid, kind="invoice",
                                   status="issued", limit=200),
        partly=viewer.services.get("billing", "/api/invoices", client_id=cid, kind="invoice",
                                   status="partially_paid", limit=200),
        payments=viewer.services.get("billing", "/api/payments", client_id=cid,
                                     status="partly", limit=100))
    if parts["balance"].status == 404:  # no invoices or payments yet: nothing to show
        parts["balance"].data, parts["balance"].error = {}, None
    open_invoices = sorted([*(parts["issued"].data or []), *(parts["partly"].data or [])],
                           key=lambda i: (i["issued_on"], i["number"]))
    credit = Decimal(str((parts["balance"].data or {}).get("credit") or 0)) \
        if parts["balance"].ok else Decimal(0)
    return render(request, "desks/billing/advance.html", {
        "client_id": cid, "p": parts, "open_invoices": open_invoices, "credit": credit,
        "errors": errors or {}, "values": values or {}, "flash": FLASH.get(flash or "")},
        status=status)


@router.get("/billing/clients/{client_id}/advance")
async def advance_page(client_id: uuid.UUID, request: Request, viewer: PaymentsViewer,
                       flash: str | None = None,
                       invoice_id: Annotated[str | None, Query(max_length=40)] = None
                       ) -> Response:
    return await _advance(request, viewer, client_id, flash=flash,
                          values={"invoice_id": invoice_id or ""})


@router.post("/billing/clients/{client_id}/advance")
async def apply_advance(client_id: uuid.UUID, request: Request, viewer: CheckedViewer
                        ) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {"invoice_id": form_str(form, "invoice_id")}
    try:
        invoice_id = str(uuid.UUID(values["invoice_id"]))
    except ValueError:
        return await _advance(request, viewer, client_id, values=values, status=422,
                              errors={"invoice_id": "Выберите счёт из списка."})
    try:
        await viewer.services.post("billing", f"/api/clients/{client_id}/apply-credit",
                                   json={"invoice_id": invoice_id})
    except ServiceError as exc:
        if exc.status in (404, 409, 422):
            said = "; ".join(exc.field_errors().values()) or exc.message
            return await _advance(request, viewer, client_id, values=values,
                                  errors={"invoice_id": said}, status=exc.status)
        raise
    return redirect(f"/billing/clients/{client_id}/advance?flash=applied", request)


# --- 1C -----------------------------------------------------------------------------------------


def _previous_month(day: date) -> str:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@router.get("/billing/onec")
async def onec_form(request: Request, viewer: PaymentsViewer) -> Response:
    return render(request, "desks/billing/onec.html", {
        "values": {"period": _previous_month(today())}, "errors": {}})


@router.post("/billing/onec")
async def onec_export(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {"period": form_str(form, "period")}
    problem = period_error(values["period"], today())
    if problem is None:
        try:
            made = await viewer.services.post("billing", "/api/onec/exports", json=values)
            upstream = await viewer.services.document(
                "billing", f"/api/onec/exports/{made['id']}/xml")
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            problem = "; ".join(exc.field_errors().values()) or exc.message
        else:
            return Response(upstream.content, media_type="application/xml", headers={
                "Content-Disposition": upstream.headers.get(
                    "content-disposition", f'attachment; filename="1c-{values["period"]}.xml"')})
    return render(request, "desks/billing/onec.html", {"values": values,
                                                       "errors": {"period": problem}},
                  status=422)
