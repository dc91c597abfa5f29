"""The billing desk's HTTP API: thin routes that parse, authorise and call one use case."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from billing import views
from billing.adapters import invoice_pdf, xlsx
from billing.adapters.orm import invoice
from billing.domain import guards
from billing.domain.periods import Period, check_run_period
from billing.entrypoints.api import back_office, schemas
from billing.entrypoints.api.deps import (
    BillingDep,
    Desk,
    DocumentReader,
    Limit,
    Offset,
    Reader,
    UoW,
)
from billing.service_layer import corrections, dunning, invoice_run, payments
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.errors import InvalidInput, NotFound
from clientops_shared.http import XLSX, file_responses
from clientops_shared.idempotency import idempotent
from clientops_shared.offload import in_worker_process
from clientops_shared.paging import After, answer_page, total_header
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedDate, PositiveMoney

router = APIRouter()
api = APIRouter(prefix="/api")

MAX_STATEMENT_BYTES = 20 * 1024 * 1024
STATUS_RU = {"issued": "выставлен", "partially_paid": "оплачен частично", "paid": "оплачен",
             "credited": "аннулирован кредит-нотой"}
"""Invoice statuses as people read them in the spreadsheets billing hands out."""
AGING_RU = {"not_due": "Срок не наступил", "d1_30": "Просрочено 1–30 дн.",
            "d31_60": "Просрочено 31–60 дн.", "d61_90": "Просрочено 61–90 дн.",
            "over_90": "Просрочено более 90 дн."}
"""Aging buckets as column headers people read."""
Format = Literal["json", "xlsx"]


def _period(value: str | None, field: str = "period") -> str | None:
    if value is None:
        return None
    try:
        return str(Period.parse(value))
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


# --- subscriptions ------------------------------------------------------------------------------

@api.get("/subscriptions", response_model=list[schemas.SubscriptionOut])
async def list_subscriptions(request: Request, response: Response, actor: Reader,
                             contract_id: uuid.UUID | None = None,
                             client_id: uuid.UUID | None = None,
                             limit: Limit = 50, offset: Offset = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.subscriptions(session, actor, contract_id=contract_id,
                                                client_id=client_id, limit=limit, offset=offset)
    total_header(response, total)
    return rows


# --- the monthly run ----------------------------------------------------------------------------

@api.post("/invoice-runs", response_model=schemas.InvoiceRunOut,
             responses={202: {"model": schemas.InvoiceRunOut}})
async def start_invoice_run(body: schemas.InvoiceRunIn, actor: Desk, billing: BillingDep,
                            wait: bool = True) -> Any:
    """Run the period now. ``wait=false`` answers 202 at once; follow it with GET.

    A period outside [first contract month … next month] needs the head's confirmation; never
    before 2000-01 nor more than five years ahead."""
    period = Period.parse(body.period)
    if body.confirm_out_of_range and actor.role not in ("head", "admin"):
        raise InvalidInput("confirm_out_of_range",
                           "Подтвердить период вне диапазона может только руководитель.")
    try:
        check_run_period(period, billing.today(), confirmed=True)
    except ValueError as exc:
        raise InvalidInput("period", str(exc)) from None
    guards.run_period(period, await invoice_run.first_billed_period(billing), billing.today(),
                      body.confirm_out_of_range)
    run_id = await invoice_run.start_run(billing, period, trigger="api",
                                         requested_by=actor.username)
    if wait:
        return await invoice_run.execute_run(billing, run_id)
    task = asyncio.create_task(invoice_run.execute_run(billing, run_id),
                               name=f"invoice-run-{run_id}")
    billing.background.add(task)
    task.add_done_callback(billing.background.discard)
    return JSONResponse(schemas.InvoiceRunOut.model_validate(
        await invoice_run.run_progress(billing, run_id)).model_dump(mode="json"),
        status_code=202)


@api.get("/invoice-runs", response_model=list[schemas.InvoiceRunOut])
async def list_invoice_runs(request: Request, actor: Desk, period: str | None = None,
                            limit: Limit = 50) -> Any:
    async with runtime_of(request).sessions() as session:
        return await views.runs(session, _period(period), limit)


@api.get("/invoice-runs/{run_id}", response_model=schemas.InvoiceRunOut)
async def get_invoice_run(run_id: uuid.UUID, actor: Desk, billing: BillingDep) -> Any:
    return await invoice_run.run_progress(billing, run_id)


# --- invoices -----------------------------------------------------------------------------------

@api.get("/invoices", response_model=list[schemas.InvoiceOut])
async def list_invoices(request: Request, response: Response, actor: Reader, billing: BillingDep,
                        client_id: uuid.UUID | None = None, period: str | None = None,
                        status: str | None = None, contract_id: uuid.UUID | None = None,
                        kind: Literal["invoice", "credit_note"] | None = None,
                        number: Annotated[str | None, Query(max_length=40)] = None,
                        overdue: bool = False,
                        limit: Limit = 100, offset: Offset = 0, after: After = None) -> Any:
    """Newest period first, then by number, a page at a time (``X-Next-Cursor`` → ``after``);
    X-Total-Count has the total up to 1000."""
    async with runtime_of(request).read_engine.connect() as conn:  # no BEGIN/ROLLBACK
        page = await views.invoices(conn, actor, client_id=client_id,
                                    period=_period(period), status=status,
                                    contract_id=contract_id, kind=kind, limit=limit,
                                    offset=offset, number=number,
                                    overdue_on=billing.today() if overdue else None, after=after)
    return answer_page(request, response, page, limit, views.INVOICE_ORDER, schemas.InvoiceOut)


@api.get("/invoices/{invoice_id}", response_model=schemas.InvoiceDetailOut)
async def get_invoice(request: Request, invoice_id: uuid.UUID, actor: Reader) -> Any:
    async with runtime_of(request).sessions() as session:
        return await views.invoice_detail(session, actor, invoice_id)


@api.get("/invoices/{invoice_id}/pdf", response_class=Response,
         responses=file_responses("application/pdf"))
async def invoice_document(request: Request, invoice_id: uuid.UUID, actor: DocumentReader,
                           billing: BillingDep) -> Response:
    async with runtime_of(request).sessions() as session:
        detail = await views.invoice_detail(session, actor, invoice_id)
    settings = billing.settings
    pdf = await in_worker_process(invoice_pdf.render_pdf, detail, detail["lines"],
                                  settings.payee(), settings.company_address)
    filename = f"invoice-{detail['number']}.pdf".encode("ascii", "ignore").decode()
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@api.post("/invoices/{invoice_id}/resend", status_code=202, response_model=schemas.ResendOut)
async def resend_invoice(invoice_id: uuid.UUID, body: schemas.ResendIn, actor: Reader,
                         uow: UoW) -> Any:
    """Send a lost invoice again (seed 000 §2): the client's manager may do it too."""
    async with uow:
        return await dunning.resend(uow, actor, invoice_id, body.email)


@api.post("/invoices/{invoice_id}/dunning-notes", status_code=201,
             response_model=schemas.DunningNoteOut)
async def add_dunning_note(invoice_id: uuid.UUID, body: schemas.DunningNoteIn, actor: Reader,
                           uow: UoW) -> Any:
    """A reminder call's outcome; a promise to pay pauses reminders until its date."""
    async with uow:
        return await dunning.add_note(uow, actor, invoice_id, outcome=body.outcome,
                                      promised_on=body.promised_on, comment=body.comment)


@api.get("/invoices/{invoice_id}/dunning")
async def dunning_history(invoice_id: uuid.UUID, actor: Reader, uow: UoW) -> Any:
    async with uow:
        return await dunning.history(uow, actor, invoice_id)


@api.post("/invoices/{invoice_id}/corrections", status_code=201,
             response_model=schemas.CorrectionOut)
async def correct_invoice(invoice_id: uuid.UUID, body: schemas.CorrectionIn, actor: Desk,
                          uow: UoW) -> Any:
    """A manual correction with a reason (audited): credit note + new invoice if unpaid,
    an adjustment on the next invoice if paid."""
    async with uow:
        row = (await uow.session.execute(invoice.select().where(invoice.c.id == invoice_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"invoice {invoice_id} not found")
        sub = await uow.subscription_for(row["contract_id"], for_update=True)
        if sub is None:
            raise NotFound(f"no subscription for contract {row['contract_id']}")
        result = await corrections.manual_correction(uow, sub, invoice_id, body.reason,
                                                     body.amount)
        uow.audit("invoice.corrected_by_hand", "invoice", invoice_id,
                  after={"reason": body.reason, "amount": body.amount,
                         "action": result.action})
        await uow.commit()
        return result


@api.post("/invoices/{invoice_id}/cancellation", status_code=201,
             response_model=schemas.CorrectionOut)
async def cancel_invoice(invoice_id: uuid.UUID, body: schemas.CancellationIn, actor: Desk,
                         uow: UoW) -> Any:
    """Cancel an invoice issued in error by a credit note with a reason (audited); e.g. an
    invoice a rent contract produced before rent was paid to the site owner instead."""
    async with uow:
        row = (await uow.session.execute(invoice.select().where(invoice.c.id == invoice_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"invoice {invoice_id} not found")
        sub = await uow.subscription_for(row["contract_id"], for_update=True)
        if sub is None:
            raise NotFound(f"no subscription for contract {row['contract_id']}")
        result = await corrections.cancel(uow, sub, invoice_id, body.reason)
        uow.audit("invoice.cancelled_by_hand", "invoice", invoice_id,
                  after={"reason": body.reason, "credit_note": result.credit_note})
        await uow.commit()
        return result


# --- payments -----------------------------------------------------------------------------------

@api.post("/payments", status_code=201, response_model=schemas.PaymentOut)
async def record_payment(request: Request, body: schemas.PaymentIn, actor: Desk, uow: UoW
                         ) -> Any:
    """A payment entered by hand. Retries with the same ``Idempotency-Key`` change nothing."""

    async def record(work: BillingUnitOfWork) -> Any:
        return await payments.record_payment(work, actor, **body.model_dump())

    return await idempotent(
        request, actor, body, record,
        lambda r: schemas.PaymentOut.model_validate(r).model_dump(mode="json"), uow=uow)


@api.get("/payments", response_model=list[schemas.PaymentListOut])
async def list_payments(request: Request, response: Response, actor: Reader,
                        status: Literal["matched", "unmatched", "partly"] | None = None,
                        client_id: uuid.UUID | None = None,
                        period: Annotated[str | None, Query(examples=["2026-12"])] = None,
                        date_from: BoundedDate | None = None, date_to: BoundedDate | None = None,
                        amount: PositiveMoney | None = None,
                        q: Annotated[str | None, Query(max_length=100)] = None,
                        limit: Limit = 100, offset: Offset = 0, after: After = None) -> Any:
    """Newest first, a page at a time (``X-Next-Cursor`` → ``after``). ``status=unmatched``
    is the queue of payments waiting for a person, ``partly`` a known client's payment with
    money left over (their advance); ``period`` (a month) or ``date_from``/``date_to``."""
    p = _period(period)
    if p is not None:
        month = Period.parse(p)
        date_from = max(date_from or month.first_day, month.first_day)
        date_to = min(date_to or month.last_day, month.last_day)
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_to", "Конец периода раньше начала.")
    async with runtime_of(request).sessions() as session:
        page = await views.payments(session, actor, status=status, client_id=client_id,
                                    date_from=date_from, date_to=date_to, amount=amount, q=q,
                                    limit=limit, offset=offset, after=after)
    return answer_page(request, response, page, limit, views.PAYMENT_ORDER)


@api.get("/payments/{payment_id}", response_model=schemas.PaymentDetailOut)
async def get_payment(request: Request, payment_id: uuid.UUID, actor: Reader) -> Any:
    """A payment and its allocations: the invoices it paid, how much, what is left."""
    async with runtime_of(request).sessions() as session:
        return await views.payment_detail(session, actor, payment_id)


@api.post("/payments/{payment_id}/match", response_model=schemas.PaymentOut)
async def match_payment(payment_id: uuid.UUID, body: schemas.MatchIn, actor: Desk, uow: UoW
                        ) -> Any:
    async with uow:
        result = await payments.match_manually(uow, actor, payment_id,
                                               invoice_id=body.invoice_id,
                                               client_id=body.client_id)
        await uow.commit()
        return result


@api.post("/bank-statements", status_code=201, response_model=schemas.StatementOut,
             responses={200: {"model": schemas.StatementOut,
                              "description": "this file was imported before: nothing changed"}})
async def import_bank_statement(actor: Desk, uow: UoW, billing: BillingDep,
                                file: Annotated[UploadFile, File()]) -> Any:
    """A 1CClientBankExchange file (windows-1251 or DOS): all of it is imported or nothing."""
    data = await file.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidInput("file", f"a statement file over {MAX_STATEMENT_BYTES} bytes")
    if not data:
        raise InvalidInput("file", "the file is empty")
    settings = billing.settings
    try:
        async with uow:
            created, summary = await payments.import_statement(
                uow, actor, data, file.filename, our_accounts=settings.our_accounts(),
                our_inn=settings.company_inn)
            await uow.commit()
    except IntegrityError:  # the same payment orders, imported concurrently from another file
        async with billing.uow() as again:
            created, summary = await payments.import_statement(
                again, actor, data, file.filename, our_accounts=settings.our_accounts(),
                our_inn=settings.company_inn)
            await again.commit()
    out = schemas.StatementOut.model_validate(summary).model_dump(mode="json")
    return JSONResponse(out, status_code=201 if created else 200)


# --- dunning ------------------------------------------------------------------------------------

@api.post("/dunning-runs", response_model=schemas.DunningRunOut)
async def run_dunning(body: schemas.DunningRunIn, actor: Desk, uow: UoW) -> Any:
    if body.on > uow.rules.today() + timedelta(days=uow.rules.dunning_ahead_days):
        raise InvalidInput("on", f"Обзвон не проводится на будущую дату: сегодня "
                                 f"{uow.rules.today():%d.%m.%Y}.")
    async with uow:
        return await dunning.run_dunning(uow, body.on)


# --- balances and reports -----------------------------------------------------------------------

@api.get("/clients/{client_id}/balance", response_model=schemas.BalanceOut)
async def client_balance(request: Request, client_id: uuid.UUID, actor: Reader) -> Any:
    async with runtime_of(request).sessions() as session:
        rows = await views.balances(session, actor, client_id)
    if not rows:
        raise NotFound(f"no invoices or payments for client {client_id}")
    return rows[0]


@api.post("/clients/{client_id}/apply-credit", response_model=schemas.CreditAppliedOut)
async def apply_credit(client_id: uuid.UUID, actor: Desk, uow: UoW,
                       body: schemas.ApplyCreditIn | None = None) -> Any:
    """Pay open invoices from the client's advance: the invoice named, else oldest first."""
    async with uow:
        result = await payments.apply_credit(uow, actor, client_id,
                                             body.invoice_id if body else None)
        await uow.commit()
        return result


@api.get("/balances", response_model=list[schemas.BalanceOut],
         responses=file_responses(XLSX))
async def list_balances(request: Request, actor: Reader, format: Format = "json") -> Any:
    async with runtime_of(request).sessions() as session:
        rows = await views.balances(session, actor)
    if format == "xlsx":
        return _xlsx("balances", ["Клиент", "ИНН", "Менеджер", "Выставлено", "Оплачено",
                                  "Долг", "Аванс", "Сальдо"],
                     [[r["client_name"], r["inn"], r["manager"], r["invoiced"], r["paid"],
                       r["outstanding"], r["credit"], r["balance"]] for r in rows],
                     money=(3, 4, 5, 6, 7))
    return rows


@api.get("/reports/period", response_model=list[schemas.PeriodReportRow],
         responses=file_responses(XLSX))
async def period_report(request: Request, actor: Reader,
                        period: Annotated[str, Query(examples=["2026-12"])],
                        format: Format = "json") -> Any:
    """Who paid and who did not for a period (seed 000 §8)."""
    p = _period(period)
    assert p is not None
    async with runtime_of(request).sessions() as session:
        rows = await views.period_report(session, actor, p)
    if format == "xlsx":
        return _xlsx(f"payments-{p}", ["Счёт", "Клиент", "ИНН", "Менеджер", "Договор", "Сумма",
                                       "Оплачено", "Долг", "Статус", "Срок", "Оплачен"],
                     [[r["number"], r["client_name"], r["inn"], r["manager"],
                       r["contract_number"], r["total"], r["paid"], r["outstanding"],
                       STATUS_RU.get(r["status"], r["status"]), r["due_on"], r["paid_on"]]
                      for r in rows],
                     money=(5, 6, 7))
    return rows


@api.get("/reports/aging", response_model=schemas.AgingOut, responses=file_responses(XLSX))
async def aging_report(request: Request, actor: Reader, billing: BillingDep,
                       on: BoundedDate | None = None, format: Format = "json") -> Any:
    on = on or billing.today()
    async with runtime_of(request).sessions() as session:
        report = await views.aging(session, actor, on)
    if format == "xlsx":
        names = report["buckets"]
        return _xlsx(f"aging-{on.isoformat()}",
                     ["Клиент", "Менеджер", *(AGING_RU.get(n, n) for n in names), "Итого"],
                     [[c["client_name"], c["manager"], *(c[n] for n in names), c["total"]]
                      for c in report["clients"]], money=range(2, 3 + len(names)))
    return report


def _xlsx(name: str, headers: list[str], rows: list[list[Any]], money: Any) -> Response:
    data = xlsx.workbook(name, headers, rows, money)
    return Response(data, media_type=xlsx.XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


router.include_router(api)
router.include_router(back_office.router)
