"""Dunning: daily reminders for unpaid invoices, call notes and promises, re-sending.

Each working day from the due date, every invoice still open at the time of the run gets one
``billing.invoice.overdue`` (the reminder row's primary key ``(invoice_id, reminded_on)``
makes that exactly once, whoever runs it). A promise to pay pauses reminders up to and
including its date; payment ends them because only open invoices are considered.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from billing.adapters.bulk import insert_rows
from billing.adapters.orm import (
    client_account,
    dunning_note,
    dunning_reminder,
    invoice,
    subscription,
)
from billing.domain.dunning import DunningAction, reminder_for
from billing.domain.ledger import OPEN_STATUSES, InvoiceKind
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork
from clientops_shared.auth import Principal
from clientops_shared.errors import Forbidden, InvalidInput, NotFound
from clientops_shared.events import billing as ev
from clientops_shared.jobs import run_once

DUNNING_JOB = "dunning"

STAGE_NAMES = {
    DunningAction.CALL: "call",
    DunningAction.LETTER: "letter",
    DunningAction.HEAD_ESCALATION: "head",
    DunningAction.SUSPENSION_PROPOSAL: "suspension",
}
"""The stage names of the ``billing.invoice.overdue`` contract."""


class CallOutcome(StrEnum):
    PROMISED = "promised"
    """The client promised to pay by ``promised_on``: reminders pause until then."""
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    DISPUTED = "disputed"
    REFUSED = "refused"
    WRONG_CONTACT = "wrong_contact"
    LETTER_SENT = "letter_sent"


def _promise() -> sa.ScalarSelect[Any]:
    n = dunning_note.c
    return (sa.select(n.promised_on).where(n.invoice_id == invoice.c.id,
                                           n.promised_on.is_not(None))
            .order_by(n.at.desc()).limit(1).scalar_subquery())


def _rent_invoice() -> sa.Exists:
    """An invoice of a rent contract: issued in error (we pay the site owner), never dunned;
    the desk cancels it with a credit note."""
    return sa.exists().where(subscription.c.contract_id == invoice.c.contract_id,
                             subscription.c.kind == "rent")


async def run_dunning(uow: BillingUnitOfWork, on: date) -> dict[str, Any]:
    """Remind about every open invoice for which ``on`` is a reminder day."""
    rules = uow.rules
    if not rules.calendar.is_working_day(on):
        return {"on": on.isoformat(), "working_day": False, "reminded": 0, "already": 0}
    r = dunning_reminder.c
    prior = (sa.select(sa.func.count()).where(r.invoice_id == invoice.c.id, r.reminded_on < on)
             .scalar_subquery())
    rows = (await uow.session.execute(
        sa.select(invoice.c.id, invoice.c.number, invoice.c.client_id, invoice.c.contract_id,
                  invoice.c.due_on, invoice.c.total, invoice.c.paid,
                  client_account.c.manager, _promise().label("promised_until"),
                  prior.label("prior"))
        .join(client_account, client_account.c.client_id == invoice.c.client_id, isouter=True)
        .where(invoice.c.kind == str(InvoiceKind.INVOICE),
               invoice.c.status.in_([str(s) for s in OPEN_STATUSES]),
               invoice.c.due_on <= on, ~_rent_invoice())
        .order_by(invoice.c.due_on, invoice.c.number))).all()
    # the reminder calendar is CPU work over every open invoice: a worker thread, not the loop
    due, events = await asyncio.to_thread(_reminders_due, rows, on, rules)
    written: list[uuid.UUID] = []
    if due:
        written = list((await insert_rows(
            uow.session, dunning_reminder, due,
            suffix="ON CONFLICT DO NOTHING RETURNING invoice_id")).scalars())
    for invoice_id in written:
        uow.emit(events[invoice_id])
    await uow.commit()
    return {"on": on.isoformat(), "working_day": True, "reminded": len(written),
            "already": len(due) - len(written)}


def _reminders_due(rows: Sequence[Any], on: date, rules: Any
                   ) -> tuple[list[dict[str, Any]], dict[uuid.UUID, ev.InvoiceOverdue]]:
    due: list[dict[str, Any]] = []
    events: dict[uuid.UUID, ev.InvoiceOverdue] = {}
    # the reminder depends on the due date and the promise only: worked out once per pair
    reminders: dict[tuple[date, date | None], Any] = {}
    for row in rows:
        key = (row.due_on, row.promised_until)
        if key not in reminders:
            reminders[key] = reminder_for(on, row.due_on, False, row.promised_until,
                                          calendar=rules.calendar, policy=rules.policy)
        reminder = reminders[key]
        if reminder is None:
            continue
        outstanding: Decimal = row.total - row.paid
        stage = STAGE_NAMES[reminder.stage.action]
        due.append({"invoice_id": row.id, "reminded_on": on,
                    "days_overdue": reminder.days_overdue, "reminder_count": row.prior + 1,
                    "stage": stage, "outstanding": outstanding})
        events[row.id] = ev.InvoiceOverdue(
            invoice_id=row.id, number=row.number, client_id=row.client_id, on=on,
            days_overdue=reminder.days_overdue, reminder_count=row.prior + 1, stage=stage,
            outstanding=outstanding, stage_starts=reminder.stage_starts, due_on=row.due_on,
            contract_id=row.contract_id, manager=row.manager)
    return due, events


async def scheduled_dunning(billing: Billing, today: date | None = None) -> dict[str, Any] | None:
    """The daily job: once per day across replicas; the reminder keys make reruns harmless."""
    today = today or billing.today()
    if not billing.rules.calendar.is_working_day(today):
        return None

    async def work() -> dict[str, Any]:
        async with billing.uow() as uow:
            return await run_dunning(uow, today)

    ran, result = await run_once(billing.engine, billing.job_run, DUNNING_JOB, today.isoformat(),
                                 work)
    return result if ran else None


async def _invoice_for(uow: BillingUnitOfWork, actor: Principal, invoice_id: uuid.UUID
                       ) -> sa.RowMapping:
    row = (await uow.session.execute(
        sa.select(invoice, client_account.c.manager, client_account.c.email)
        .join(client_account, client_account.c.client_id == invoice.c.client_id, isouter=True)
        .where(invoice.c.id == invoice_id))).mappings().first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    if not actor.may_see_client_of(row["manager"]):
        raise Forbidden("this client is assigned to another manager")
    return row


async def add_note(uow: BillingUnitOfWork, actor: Principal, invoice_id: uuid.UUID, *,
                   outcome: CallOutcome, promised_on: date | None, comment: str | None
                   ) -> dict[str, Any]:
    row = await _invoice_for(uow, actor, invoice_id)
    if row["kind"] != InvoiceKind.INVOICE:
        raise InvalidInput("invoice_id", "dunning notes are kept on invoices, not credit notes")
    if outcome is CallOutcome.PROMISED and promised_on is None:
        raise InvalidInput("promised_on", "a promise to pay needs the date it was promised for")
    if promised_on is not None and promised_on < uow.rules.today():
        raise InvalidInput("promised_on", "a promised payment date cannot be in the past")
    note_id = uuid.uuid4()
    values = {"id": note_id, "invoice_id": invoice_id, "outcome": str(outcome),
              "promised_on": promised_on, "comment": comment, "author": actor.username}
    await uow.session.execute(dunning_note.insert().values(**values))
    uow.audit("dunning.note_added", "invoice", invoice_id, after=values)
    await uow.commit()
    return {**values, "number": row["number"]}


async def resend(uow: BillingUnitOfWork, actor: Principal, invoice_id: uuid.UUID,
                 email: str | None) -> dict[str, Any]:
    row = await _invoice_for(uow, actor, invoice_id)
    to = email or row["email"]
    if not to:
        raise InvalidInput("email", "the client has no e-mail on file; give one to send to")
    uow.emit(ev.InvoiceResent(
        invoice_id=row["id"], number=row["number"], client_id=row["client_id"],
        contract_id=row["contract_id"], period=row["period"], amount=row["amount"],
        vat=row["vat"], total=row["total"], due_on=row["due_on"], email=to,
        revision=row["revision"], requested_by=actor.username))
    uow.audit("invoice.resent", "invoice", invoice_id, after={"email": to})
    await uow.commit()
    return {"invoice_id": str(invoice_id), "number": row["number"], "email": to}


async def history(uow: BillingUnitOfWork, actor: Principal, invoice_id: uuid.UUID
                  ) -> dict[str, Any]:
    await _invoice_for(uow, actor, invoice_id)
    reminders = (await uow.session.execute(sa.select(dunning_reminder).where(
        dunning_reminder.c.invoice_id == invoice_id).order_by(dunning_reminder.c.reminded_on))
    ).mappings().all()
    notes = (await uow.session.execute(sa.select(dunning_note).where(
        dunning_note.c.invoice_id == invoice_id).order_by(dunning_note.c.at))).mappings().all()
    return {"reminders": [dict(r) for r in reminders], "notes": [dict(n) for n in notes]}
