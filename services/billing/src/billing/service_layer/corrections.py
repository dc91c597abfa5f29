"""Corrections: when terms change for a period already invoiced, bring the books in line.

Issued invoices are never edited. For each affected period (from the change's date up to the
latest period invoiced), the fresh lines are computed from the current terms and compared with
what was billed:

* unpaid invoice (nothing paid on it): a credit note cancels it (status ``credited``) and a new
  revision carries the fresh lines (and any adjustment lines the old one carried);
* paid or partly paid invoice: the difference, per VAT rate, waits as an adjustment for the
  contract's next invoice (``invoice_adjustment``);
* no invoice yet for a period already run (e.g. an extension made it billable again): the
  invoice is issued now.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from prometheus_client import Counter

from billing.adapters.orm import invoice, invoice_adjustment, invoice_line, invoice_run
from billing.domain.invoicing import (
    InvoiceLine,
    LineKind,
    Totals,
    adjustment_lines,
    compute_lines,
    plan_correction,
)
from billing.domain.ledger import InvoiceKind, InvoiceStatus
from billing.domain.model import Subscription, periods_from
from billing.domain.periods import EARLIEST_PERIOD, Period, horizon
from billing.domain.vat import VatMode, split_vat
from billing.service_layer.issuing import (
    IssuedInvoice,
    Payer,
    PlannedInvoice,
    issue,
    lines_from_rows,
)
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.errors import Conflict
from clientops_shared.messaging import is_transient

log = logging.getLogger("billing.corrections")
CORRECTIONS_SKIPPED = Counter("billing_correction_periods_skipped_total",
                              "Invoiced periods a terms change could not correct (see the audit "
                              "log, action subscription.correction_skipped)")


@dataclass(frozen=True)
class CorrectionResult:
    period: str
    action: str  # credited_and_reissued | credited | adjustment | issued | unchanged
    credit_note: str | None = None
    new_invoice: str | None = None
    new_invoice_id: uuid.UUID | None = None
    adjustment_total: Decimal | None = None


async def latest_billed_period(uow: BillingUnitOfWork, contract_id: uuid.UUID
                               ) -> Period | None:
    """The last period either invoiced for this contract or covered by any run."""
    mine = (await uow.session.execute(sa.select(sa.func.max(invoice.c.period)).where(
        invoice.c.contract_id == contract_id))).scalar()
    runs = (await uow.session.execute(sa.select(sa.func.max(invoice_run.c.period)))).scalar()
    found = [Period.parse(p) for p in (mine, runs) if p]
    return max(found) if found else None


async def reconcile(uow: BillingUnitOfWork, sub: Subscription, changed_from: date | None,
                    reason: str) -> list[CorrectionResult]:
    """Correct every invoiced period from ``changed_from`` on; in the caller's transaction."""
    if changed_from is None:
        return []
    latest = await latest_billed_period(uow, sub.contract_id)
    if latest is None:
        return []
    await uow.flush()  # the subscription's new terms are what the fresh lines come from
    results = []
    last = horizon(uow.rules.today())
    if changed_from < EARLIEST_PERIOD.first_day or Period.of(changed_from) > last:
        _skipped(uow, sub, str(Period.of(changed_from)), "изменение вне допустимых дат")
        return []
    if latest > last:  # a run far ahead (e.g. 9999-12): correct up to the horizon, report it
        _skipped(uow, sub, f"{last.next()}..{latest}",
                 f"периоды после {last} не исправляются автоматически")
        latest = last
    for period in periods_from(changed_from, latest):
        try:
            async with uow.session.begin_nested():  # one period's failure undoes only itself
                result = await reconcile_period(uow, sub, period, reason)
        except Exception as exc:
            if is_transient(exc):
                raise  # the database blinked: the whole event is retried later
            log.exception("contract %s: period %s could not be corrected", sub.contract_number,
                          period)
            _skipped(uow, sub, str(period), f"{type(exc).__name__}: {exc}")
            continue
        if result.action != "unchanged":
            results.append(result)
    return results


def _skipped(uow: BillingUnitOfWork, sub: Subscription, periods: str, why: str) -> None:
    """A period the catch-up cannot handle is skipped, never the contract: on record for the
    billing desk (audit log), in the log and in a metric."""
    CORRECTIONS_SKIPPED.inc()
    log.error("contract %s: correction skipped for %s: %s", sub.contract_number, periods, why)
    uow.audit("subscription.correction_skipped", "subscription", sub.contract_id,
              after={"contract_number": sub.contract_number, "periods": periods,
                     "reason": why[:1000]})


async def _current(uow: BillingUnitOfWork, contract_id: uuid.UUID, period: Period
                   ) -> tuple[sa.RowMapping | None, int]:
    """The invoice in force for (contract, period), locked, and the next free revision."""
    rows = (await uow.session.execute(sa.select(invoice).where(
        invoice.c.contract_id == contract_id, invoice.c.period == str(period),
        invoice.c.kind == str(InvoiceKind.INVOICE)).order_by(invoice.c.revision.desc())
        .with_for_update())).mappings().all()
    live = [r for r in rows if r["status"] != InvoiceStatus.CREDITED]
    return (live[0] if live else None), (rows[0]["revision"] + 1 if rows else 0)


async def _lines(uow: BillingUnitOfWork, invoice_id: uuid.UUID) -> tuple[InvoiceLine, ...]:
    rows = (await uow.session.execute(sa.select(invoice_line).where(
        invoice_line.c.invoice_id == invoice_id).order_by(invoice_line.c.position))
    ).mappings().all()
    return lines_from_rows(rows)


async def _adjusted(uow: BillingUnitOfWork, contract_id: uuid.UUID, period: Period
                    ) -> tuple[InvoiceLine, ...]:
    """Adjustments already recorded for a period, as lines (they count as billed)."""
    rows = (await uow.session.execute(sa.select(invoice_adjustment).where(
        invoice_adjustment.c.contract_id == contract_id,
        invoice_adjustment.c.for_period == str(period)))).mappings().all()
    return tuple(InvoiceLine(
        description=r["description"], service_from=period.first_day,
        service_to=period.last_day, days=0, days_in_month=period.days, fee=Decimal("0.00"),
        amount=r["amount"], vat_rate=r["vat_rate"], vat=r["vat"], total=r["total"],
        kind=LineKind.ADJUSTMENT) for r in rows)


def _payer(sub: Subscription, email: str | None) -> Payer:
    return Payer(sub.contract_id, sub.contract_number, sub.client_id, email)


async def _email(uow: BillingUnitOfWork, client_id: uuid.UUID) -> str | None:
    account = await uow.client_account(client_id)
    return account.email if account else None


async def replace_unpaid(uow: BillingUnitOfWork, sub: Subscription, current: sa.RowMapping,
                         next_revision: int, fresh: tuple[InvoiceLine, ...], reason: str
                         ) -> CorrectionResult:
    """Credit note for ``current`` and, if anything is still owed, a new revision."""
    period = Period.parse(current["period"])
    old = await _lines(uow, current["id"])
    carried = tuple(line for line in old if line.kind is LineKind.ADJUSTMENT)
    payer = _payer(sub, await _email(uow, sub.client_id))
    credit = PlannedInvoice(payer=payer, period=period, vat_mode=current["vat_mode"],
                            lines=tuple(line.reversed() for line in old),
                            kind=InvoiceKind.CREDIT_NOTE, revision=current["revision"],
                            corrects_id=current["id"], reason=reason)
    planned = [credit]
    new_lines = (*fresh, *carried)
    replacement = None
    if new_lines and Totals.of(new_lines).total > 0:
        replacement = PlannedInvoice(payer=payer, period=period, vat_mode=sub.vat_mode,
                                     lines=new_lines, revision=next_revision,
                                     corrects_id=current["id"], reason=reason)
        planned.append(replacement)
    rules = uow.rules
    written = await issue(uow, planned, issued_on=rules.today(), due_day=rules.due_day)
    if len(written) != len(planned):
        raise Conflict("the invoice was corrected concurrently; try again",
                       invoice_id=str(current["id"]))
    await uow.session.execute(invoice.update().where(invoice.c.id == current["id"]).values(
        status=str(InvoiceStatus.CREDITED)))
    new: IssuedInvoice | None = next((w for w in written if w.planned is replacement), None)
    if new is not None and carried:
        await uow.session.execute(invoice_adjustment.update().where(
            invoice_adjustment.c.applied_invoice_id == current["id"]
        ).values(applied_invoice_id=new.id))
    elif carried:  # nothing left to bill: the carried adjustments wait for the next invoice
        await uow.session.execute(invoice_adjustment.update().where(
            invoice_adjustment.c.applied_invoice_id == current["id"]
        ).values(applied_invoice_id=None))
    uow.audit("invoice.credited", "invoice", current["id"],
              before={"number": current["number"], "status": current["status"],
                      "total": current["total"]},
              after={"status": "credited", "credit_note": written[0].number,
                     "new_invoice": new.number if new else None, "reason": reason})
    return CorrectionResult(period=str(period),
                            action="credited_and_reissued" if new else "credited",
                            credit_note=written[0].number,
                            new_invoice=new.number if new else None,
                            new_invoice_id=new.id if new else None)


async def adjust_paid(uow: BillingUnitOfWork, sub: Subscription, current: sa.RowMapping,
                      billed: tuple[InvoiceLine, ...], fresh: tuple[InvoiceLine, ...],
                      reason: str) -> CorrectionResult:
    period = Period.parse(current["period"])
    lines = adjustment_lines(period, billed, fresh, current["number"])
    if not lines:
        return CorrectionResult(period=str(period), action="unchanged")
    await uow.session.execute(invoice_adjustment.insert(), [
        {"id": uuid.uuid4(), "contract_id": sub.contract_id, "for_period": str(period),
         "about_invoice_id": current["id"], "description": line.description,
         "vat_rate": line.vat_rate, "amount": line.amount, "vat": line.vat,
         "total": line.total, "reason": reason} for line in lines])
    total = Totals.of(lines).total
    uow.audit("invoice.adjustment_planned", "invoice", current["id"],
              after={"period": str(period), "total": total, "reason": reason})
    return CorrectionResult(period=str(period), action="adjustment", adjustment_total=total)


async def reconcile_period(uow: BillingUnitOfWork, sub: Subscription, period: Period,
                           reason: str) -> CorrectionResult:
    rules = uow.rules
    terms = sub.terms() if sub.billed_monthly else None
    fresh = compute_lines(terms, period, rules.vat_rates) if terms is not None else ()
    current, next_revision = await _current(uow, sub.contract_id, period)
    if current is None:
        if not fresh or Totals.of(fresh).total <= 0:
            return CorrectionResult(period=str(period), action="unchanged")
        payer = _payer(sub, await _email(uow, sub.client_id))
        written = await issue(uow, [PlannedInvoice(
            payer=payer, period=period, vat_mode=sub.vat_mode, lines=fresh,
            revision=next_revision, reason=reason)], issued_on=rules.today(),
            due_day=rules.due_day)
        return CorrectionResult(period=str(period), action="issued" if written else "unchanged",
                                new_invoice=written[0].number if written else None,
                                new_invoice_id=written[0].id if written else None)
    issued_lines = tuple(line for line in await _lines(uow, current["id"])
                         if line.kind is LineKind.SUBSCRIPTION)
    if current["paid"] == 0 and current["status"] == InvoiceStatus.ISSUED:
        if not plan_correction(period, issued_lines, fresh).changed:
            return CorrectionResult(period=str(period), action="unchanged")
        return await replace_unpaid(uow, sub, current, next_revision, fresh, reason)
    billed = (*issued_lines, *await _adjusted(uow, sub.contract_id, period))
    return await adjust_paid(uow, sub, current, billed, fresh, reason)


async def manual_correction(uow: BillingUnitOfWork, sub: Subscription, invoice_id: uuid.UUID,
                            reason: str, amount: Decimal | None) -> CorrectionResult:
    """A billing officer's correction with a reason: recompute from terms, or set the amount.

    ``amount`` is the period's fee as it should have been billed (net for ``on_top`` and
    ``exempt``, gross for ``inclusive``): one line replaces the subscription lines.
    """
    row = (await uow.session.execute(sa.select(invoice).where(invoice.c.id == invoice_id)
                                     .with_for_update())).mappings().one()
    if row["kind"] != InvoiceKind.INVOICE:
        raise Conflict("a credit note is not corrected; correct the invoice", field="invoice_id")
    if row["status"] == InvoiceStatus.CREDITED:
        raise Conflict("this invoice was already replaced by a newer revision",
                       current_state=row["status"])
    period = Period.parse(row["period"])
    if amount is None:
        result = await reconcile_period(uow, sub, period, reason)
        if result.action == "unchanged":
            raise Conflict("the invoice already matches the contract's terms; give an amount "
                           "to set it by hand", current_state=row["status"])
        return result
    mode = VatMode(row["vat_mode"])
    rate = None if mode is VatMode.EXEMPT else uow.rules.vat_rates.rate_on(period.first_day)
    split = split_vat(amount, mode, rate)
    line = InvoiceLine(
        description=f"Абонентская плата за {period.title_ru} (исправлено: {reason})",
        service_from=period.first_day, service_to=period.last_day, days=period.days,
        days_in_month=period.days, fee=amount, amount=split.net, vat_rate=split.rate,
        vat=split.vat, total=split.gross)
    _, next_revision = await _current(uow, sub.contract_id, period)
    if row["paid"] == 0 and row["status"] == InvoiceStatus.ISSUED:
        return await replace_unpaid(uow, sub, row, next_revision, (line,), reason)
    issued_lines = tuple(x for x in await _lines(uow, row["id"])
                         if x.kind is LineKind.SUBSCRIPTION)
    billed = (*issued_lines, *await _adjusted(uow, sub.contract_id, period))
    return await adjust_paid(uow, sub, row, billed, (line,), reason)


async def cancel(uow: BillingUnitOfWork, sub: Subscription, invoice_id: uuid.UUID,
                 reason: str) -> CorrectionResult:
    """Cancel an invoice issued in error (e.g. rent invoiced to a site owner we pay) with a
    credit note and no new revision; in the caller's transaction."""
    row = (await uow.session.execute(sa.select(invoice).where(invoice.c.id == invoice_id)
                                     .with_for_update())).mappings().one()
    if row["kind"] != InvoiceKind.INVOICE:
        raise Conflict("Кредит-ноту нельзя аннулировать: аннулируйте сам счёт",
                       field="invoice_id")
    if row["status"] == InvoiceStatus.CREDITED:
        raise Conflict("Счёт уже аннулирован кредит-нотой", current_state=row["status"])
    if row["paid"] != 0 or row["status"] != InvoiceStatus.ISSUED:
        raise Conflict("По счёту уже есть оплата: сначала верните или перенесите её, "
                       "затем аннулируйте счёт", current_state=row["status"])
    _, next_revision = await _current(uow, sub.contract_id, Period.parse(row["period"]))
    return await replace_unpaid(uow, sub, row, next_revision, (), reason)
