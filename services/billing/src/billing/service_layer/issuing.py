"""Writing invoices: set-based, numbered without gaps, exactly once per (contract, period).

Every write of an invoice or credit note goes through ``issue``. It first locks the counter
row of each (series, period) it numbers in, which serialises issuing within a period across
requests, runs and replicas; then it inserts only what does not exist yet and lets the unique
key ``(contract_id, period, kind, revision)`` refuse anything that slipped through. Rows,
lines, the counter, applied adjustments, one ``billing.invoice.issued`` per invoice and the
client's advance applied to the new invoice (unless configured off) commit in the caller's
transaction.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.bulk import copy_insert, copy_rows
from billing.adapters.orm import (
    invoice,
    invoice_adjustment,
    invoice_counter,
    invoice_line,
)
from billing.domain.invoicing import (
    INVOICE_NUMBER_PREFIX,
    InvoiceLine,
    LineKind,
    Totals,
    format_invoice_number,
)
from billing.domain.ledger import CREDIT_NOTE_SERIES, InvoiceKind, InvoiceStatus
from billing.domain.periods import Period
from billing.service_layer.payments import apply_advance_to_new
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import billing as ev
from clientops_shared.events.base import Envelope
from clientops_shared.uow import number_steps

MIN_DAYS_TO_PAY = 5
"""An invoice issued late in its month is still given this many days to be paid."""


def due_date(period: Period, issued_on: date, due_day: int) -> date:
    """The period's due day; an invoice issued too close to (or after) it gets a few days."""
    return max(period.due_date(due_day), issued_on + timedelta(days=MIN_DAYS_TO_PAY))


@dataclass(frozen=True)
class Payer:
    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    email: str | None


@dataclass
class PlannedInvoice:
    """An invoice or credit note to write; its number is given when it is written."""

    payer: Payer
    period: Period
    vat_mode: str
    lines: tuple[InvoiceLine, ...]
    kind: InvoiceKind = InvoiceKind.INVOICE
    revision: int = 0
    corrects_id: uuid.UUID | None = None
    reason: str | None = None
    adjustment_ids: tuple[uuid.UUID, ...] = ()
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @cached_property
    def totals(self) -> Totals:
        """Summed once: the run reads them for the row and again for the event."""
        return Totals.of(self.lines)


@dataclass(frozen=True)
class IssuedInvoice:
    id: uuid.UUID
    number: str
    planned: PlannedInvoice
    due_on: date


_INVOICE_COLUMNS = ("id", "number", "kind", "contract_id", "contract_number", "client_id",
                    "period", "revision", "corrects_id", "vat_mode", "amount", "vat", "total",
                    "paid", "status", "issued_on", "due_on", "run_id", "reason")
_LINE_COLUMNS = ("invoice_id", "position", "kind", "description", "service_from", "service_to",
                 "days", "days_in_month", "fee", "amount", "vat_rate", "vat", "total")
_OUTBOX_COLUMNS = ("event_id", "routing_key", "body", "headers")


def _series(kind: InvoiceKind) -> str:
    return INVOICE_NUMBER_PREFIX if kind is InvoiceKind.INVOICE else CREDIT_NOTE_SERIES


def _number(series: str, period: Period, sequence: int) -> str:
    if series == INVOICE_NUMBER_PREFIX:
        return format_invoice_number(period, sequence)
    return f"{series}-{period}-{sequence:04d}"


async def lock_counters(uow: BillingUnitOfWork, keys: Sequence[tuple[str, str]]
                        ) -> dict[tuple[str, str], int]:
    """Lock (creating if need be) each (series, period) counter, in a fixed order.

    One upsert per counter: the no-op update takes the row lock and returns the value."""
    found: dict[tuple[str, str], int] = {}
    c = invoice_counter.c
    for series, period in sorted(set(keys)):
        stmt = insert(invoice_counter).values(series=series, period=period, last=0)
        found[(series, period)] = (await uow.session.execute(
            stmt.on_conflict_do_update(index_elements=[c.series, c.period],
                                       set_={"last": c.last}).returning(c.last))).scalar_one()
    return found


def invoice_counter_key(period: Period) -> tuple[str, str]:
    """The counter an invoice of the period is numbered from (what ``lock_counters`` takes)."""
    return _series(InvoiceKind.INVOICE), str(period)


_EXISTING = sa.text("""
    SELECT i.contract_id, i.period, i.kind, i.revision
    FROM unnest(CAST(:ids AS uuid[])) AS c(id)
    CROSS JOIN LATERAL (
        SELECT contract_id, period, kind, revision FROM invoice
        WHERE contract_id = c.id AND period = ANY(CAST(:periods AS varchar[]))) AS i""")


async def existing_invoices(session: Any, contract_ids: Sequence[uuid.UUID],
                            periods: Sequence[str]) -> Sequence[sa.Row[Any]]:
    """Invoices (any kind and revision) of these contracts in these periods.

    Driven from the contract ids, one probe of the unique key each: a run's own inserts make
    the table's statistics stale, and a filter on the period alone would read every invoice
    issued so far in the period for every batch (quadratic over the run)."""
    if not contract_ids:
        return []
    return (await session.execute(_EXISTING, {"ids": list(contract_ids),
                                              "periods": list(periods)})).all()


async def issue(uow: BillingUnitOfWork, planned: Sequence[PlannedInvoice], *, issued_on: date,
                due_day: int, run_id: uuid.UUID | None = None,
                locked: dict[tuple[str, str], int] | None = None) -> list[IssuedInvoice]:
    """Write what is planned and not written yet; returns what this call wrote.

    ``locked``: the caller already holds every counter the plan numbers from (``lock_counters``
    in this transaction, the values it returned) and planned only contracts it found without
    an invoice after taking them (the invoice run: one look-up per batch, not two).
    """
    if not planned:
        return []
    keys = [(_series(p.kind), str(p.period)) for p in planned]
    if locked is not None:
        missing = set(keys) - set(locked)
        if missing:
            raise ValueError(f"issue(locked=...) without the counters {sorted(missing)}")
        last, fresh = dict(locked), list(planned)
    else:
        last = await lock_counters(uow, keys)
        # with the counters locked nobody else writes these periods: skip what already exists
        wanted = {(p.payer.contract_id, str(p.period), str(p.kind), p.revision)
                  for p in planned}
        existing = set()
        contract_ids = list({p.payer.contract_id for p in planned})
        periods = list({str(p.period) for p in planned})
        for row in await existing_invoices(uow.session, contract_ids, periods):
            key = (row.contract_id, row.period, row.kind, row.revision)
            if key in wanted:
                existing.add(key)
        fresh = [p for p in planned
                 if (p.payer.contract_id, str(p.period), str(p.kind), p.revision)
                 not in existing]
    # in a fixed order, so that numbers follow contract numbers within a period
    fresh.sort(key=lambda p: (str(p.period), p.kind != InvoiceKind.CREDIT_NOTE,
                              p.payer.contract_number, str(p.payer.contract_id)))

    records: list[tuple[Any, ...]] = []
    issued: list[IssuedInvoice] = []
    paid_none, status = Decimal("0.00"), str(InvoiceStatus.ISSUED)
    for p in fresh:
        counter = (_series(p.kind), str(p.period))
        last[counter] += 1
        number = _number(counter[0], p.period, last[counter])
        totals = p.totals
        due_on = due_date(p.period, issued_on, due_day)
        records.append((
            p.id, number, str(p.kind), p.payer.contract_id, p.payer.contract_number,
            p.payer.client_id, str(p.period), p.revision, p.corrects_id, p.vat_mode,
            totals.amount, totals.vat, totals.total, paid_none, status, issued_on, due_on,
            run_id, p.reason))
        issued.append(IssuedInvoice(p.id, number, p, due_on))
    if not records:
        return []
    # COPY through a temporary table, then one INSERT that the unique key still polices
    written = set((await copy_insert(
        uow.session, invoice, _INVOICE_COLUMNS, records,
        suffix="ON CONFLICT ON CONSTRAINT invoice_contract_period_key DO NOTHING RETURNING id"
    )).scalars())
    issued = [i for i in issued if i.id in written]

    # the lines of invoices this transaction just wrote: fresh keys, COPY straight in
    await copy_rows(uow.session, invoice_line, _LINE_COLUMNS, [
        (i.id, n, str(line.kind), line.description, line.service_from, line.service_to,
         line.days, line.days_in_month, line.fee, line.amount, line.vat_rate, line.vat,
         line.total)
        for i in issued for n, line in enumerate(i.planned.lines, start=1)])
    for (series, period), value in last.items():
        await uow.session.execute(invoice_counter.update().where(
            invoice_counter.c.series == series, invoice_counter.c.period == period
        ).values(last=value))
    applied = [{"adj_id": adj, "invoice_id": i.id} for i in issued
               for adj in i.planned.adjustment_ids]
    if applied:
        await uow.session.execute(
            invoice_adjustment.update()
            .where(invoice_adjustment.c.id == sa.bindparam("adj_id"))
            .values(applied_invoice_id=sa.bindparam("invoice_id")), applied)
    # a client's advance pays their new invoice at once (setting ``auto_apply_advance``);
    # applied before the issue events are written, so the mail asks only for what is left,
    # but its "paid" events are put back after them: consumers see issued, then paid
    mark = len(uow.emitted)
    from_advance = await apply_advance_to_new(
        uow, {i.id: i.planned.payer.client_id for i in issued
              if i.planned.kind is InvoiceKind.INVOICE})
    paid_events = uow.emitted[mark:]
    del uow.emitted[mark:]
    if locked is not None:  # the run: invoices only, their events written set-wise (the
        # "paid" events go to the outbox at the commit, after these rows)
        await _write_issued_events(uow, issued, from_advance)
        issued_here: Sequence[IssuedInvoice] = ()
    else:
        issued_here = issued
    for i in issued_here:
        if i.planned.kind is InvoiceKind.INVOICE:
            uow.emit(_issued_event(i, from_advance.get(i.id, Decimal("0.00"))))
        else:
            uow.emit(ev.CreditNoteIssued(
                credit_note_id=i.id, number=i.number, client_id=i.planned.payer.client_id,
                contract_id=i.planned.payer.contract_id, period=str(i.planned.period),
                amount=i.planned.totals.amount, vat=i.planned.totals.vat,
                total=i.planned.totals.total, cancels_invoice_id=i.planned.corrects_id,
                reason=i.planned.reason or ""))
    uow.emitted.extend(e.model_copy(update={"occurred_at": datetime.now(UTC)})
                       for e in paid_events)
    return issued


async def _write_issued_events(uow: BillingUnitOfWork, issued: Sequence[IssuedInvoice],
                               from_advance: dict[uuid.UUID, Decimal]) -> None:
    """``billing.invoice.issued`` for many invoices, COPYed into the outbox in one go.

    Each body is the envelope ``uow.emit(_issued_event(i))`` would write: the payload is the
    contract's own JSON (the model validates and serialises it), the envelope's other fields
    are what ``Envelope.common_fields`` says ``wrap`` would put around it here and now."""
    if not issued:
        return
    if any(i.planned.kind is not InvoiceKind.INVOICE for i in issued):
        raise ValueError("only invoices are written set-wise")
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    headers = json.dumps(carrier)
    # the envelope as JSON text without its closing brace; event_id and payload go after it
    head = json.dumps(Envelope.common_fields(ev.InvoiceIssued, uow.producer,
                                             steps_numbered=True), ensure_ascii=False)[:-1]
    # each invoice's "issued" is a step of the invoice (numbered as UnitOfWork.commit would)
    versions = await number_steps(uow.session, uow.tables.aggregate_version, ev.InvoiceIssued,
                                  [str(i.id) for i in issued])
    routing_key, none = ev.InvoiceIssued.TYPE, Decimal("0.00")
    records = []
    for i in issued:
        event_id = uuid.uuid4()
        payload = _issued_event(i, from_advance.get(i.id, none)).model_dump_json()
        records.append((event_id, routing_key,
                        f'{head}, "event_id": "{event_id}", "aggregate_id": "{i.id}", '
                        f'"aggregate_version": {versions[str(i.id)]}, "payload": {payload}}}',
                        headers))
    await copy_rows(uow.session, uow.tables.outbox, _OUTBOX_COLUMNS, records)
    uow.outbox_written()


def _issued_event(i: IssuedInvoice, paid_from_advance: Decimal = Decimal("0.00")
                  ) -> ev.InvoiceIssued:
    t = i.planned.totals
    return ev.InvoiceIssued(
        invoice_id=i.id, number=i.number, client_id=i.planned.payer.client_id,
        contract_id=i.planned.payer.contract_id, period=str(i.planned.period), amount=t.amount,
        vat=t.vat, total=t.total, due_on=i.due_on, email=i.planned.payer.email,
        revision=i.planned.revision, replaces_invoice_id=i.planned.corrects_id,
        paid_from_advance=paid_from_advance)


def lines_from_rows(rows: Sequence[sa.RowMapping]) -> tuple[InvoiceLine, ...]:
    """Invoice lines as stored, back into the domain's value objects."""
    return tuple(InvoiceLine(
        description=r["description"], service_from=r["service_from"],
        service_to=r["service_to"], days=r["days"], days_in_month=r["days_in_month"],
        fee=r["fee"], amount=r["amount"],
        vat_rate=r["vat_rate"],
        vat=r["vat"], total=r["total"], kind=LineKind(r["kind"])) for r in rows)


def group_lines(rows: Sequence[sa.RowMapping]) -> dict[uuid.UUID, tuple[InvoiceLine, ...]]:
    by_invoice: dict[uuid.UUID, list[sa.RowMapping]] = defaultdict(list)
    for r in rows:
        by_invoice[r["invoice_id"]].append(r)
    return {k: lines_from_rows(sorted(v, key=lambda r: r["position"]))
            for k, v in by_invoice.items()}
