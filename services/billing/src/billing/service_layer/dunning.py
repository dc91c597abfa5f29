"""Dunning: daily reminders for unpaid invoices, call notes and promises, re-sending.

Each working day from the due date, every invoice still open at the time of the run gets one
``billing.invoice.overdue`` (the reminder row's primary key ``(invoice_id, reminded_on)``
makes that exactly once, whoever runs it). A promise to pay pauses reminders up to and
including its date; payment ends them because only open invoices are considered.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from opentelemetry import propagate

from billing.adapters.orm import (
    client_account,
    dunning_note,
    dunning_reminder,
    invoice,
    subscription,
)
from billing.domain.dunning import DunningAction, plan_reminders
from billing.domain.ledger import OPEN_STATUSES, InvoiceKind
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork
from clientops_shared.auth import Principal
from clientops_shared.errors import Forbidden, InvalidInput, NotFound
from clientops_shared.events import billing as ev
from clientops_shared.events.base import Envelope
from clientops_shared.jobs import run_once
from clientops_shared.offload import in_worker_process

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


def _open_invoices(on: date) -> sa.Select[Any]:
    """Every open invoice due by ``on`` with what its reminder depends on."""
    r = dunning_reminder.c
    prior = (sa.select(sa.func.count()).where(r.invoice_id == invoice.c.id, r.reminded_on < on)
             .scalar_subquery())
    return (sa.select(invoice.c.id, invoice.c.number, invoice.c.client_id,
                      invoice.c.contract_id, invoice.c.due_on,
                      (invoice.c.total - invoice.c.paid).label("outstanding"),
                      client_account.c.manager, _promise().label("promised_until"),
                      prior.label("prior"))
            .join(client_account, client_account.c.client_id == invoice.c.client_id,
                  isouter=True)
            .where(invoice.c.kind == str(InvoiceKind.INVOICE),
                   invoice.c.status.in_([str(s) for s in OPEN_STATUSES]),
                   invoice.c.due_on <= on, ~_rent_invoice()))


# The reminders of the day and their ``billing.invoice.overdue`` outbox rows in one statement:
# the stage of each (due date, promise) pair comes in as arrays (worked out in the domain, a
# handful of pairs), the rows never travel to Python. The body is the envelope
# ``Envelope.wrap(InvoiceOverdue(...))`` would give, field for field (the ``template``
# supplies everything that is the same for every row).
_REMIND = """
WITH plan AS (
    SELECT * FROM unnest(CAST(:due AS date[]), CAST(:promised AS date[]),
                         CAST(:days AS integer[]), CAST(:stage AS varchar[]),
                         CAST(:starts AS boolean[]))
        AS p(due_on, promised_until, days_overdue, stage, stage_starts)
), due AS (
    SELECT o.*, p.days_overdue, p.stage, p.stage_starts
    FROM ({open}) AS o
    JOIN plan AS p ON p.due_on = o.due_on
                  AND p.promised_until IS NOT DISTINCT FROM o.promised_until
), reminded AS (
    INSERT INTO dunning_reminder (invoice_id, reminded_on, days_overdue, reminder_count, stage,
                                  outstanding)
    SELECT id, CAST(:on AS date), days_overdue, prior + 1, stage, outstanding FROM due
    ON CONFLICT DO NOTHING
    RETURNING invoice_id
), events AS (
    INSERT INTO {outbox} (event_id, routing_key, body, headers)
    SELECT event_id, CAST(:routing_key AS varchar),
           CAST(:template AS jsonb) || jsonb_build_object(
               'event_id', event_id,
               'payload', jsonb_build_object(
                   'invoice_id', id, 'number', number, 'client_id', client_id,
                   'on', CAST(:on AS date), 'days_overdue', days_overdue,
                   'reminder_count', prior + 1, 'stage', stage,
                   'outstanding', CAST(round(outstanding, 2) AS text),
                   'stage_starts', stage_starts, 'due_on', due_on,
                   'contract_id', contract_id, 'manager', manager)),
           CAST(:headers AS jsonb)
    FROM (SELECT gen_random_uuid() AS event_id, d.*
          FROM reminded JOIN due AS d ON d.id = reminded.invoice_id) AS r
    RETURNING 1
)
SELECT (SELECT count(*) FROM due) AS due, (SELECT count(*) FROM events) AS reminded
"""


async def run_dunning(uow: BillingUnitOfWork, on: date) -> dict[str, Any]:
    """Remind about every open invoice for which ``on`` is a reminder day.

    Set-wise: one query for the distinct (due date, promise) pairs of the open invoices, the
    reminder of each pair in the domain (in a worker process), then one statement writing every
    reminder row and its outbox row (100k invoices, 10 % unpaid: 10k reminders without a row
    in Python).
    """
    rules = uow.rules
    if not rules.calendar.is_working_day(on):
        return {"on": on.isoformat(), "working_day": False, "reminded": 0, "already": 0}
    opened = _open_invoices(on).subquery()
    pairs = [(due_on, promised_until) for due_on, promised_until in (await uow.session.execute(
        sa.select(opened.c.due_on, opened.c.promised_until).distinct())).all()]
    # counting working days back to old due dates is CPU work: a worker process does it
    planned = await in_worker_process(plan_reminders, on, pairs, dict(rules.calendar.overrides),
                                      rules.policy.as_data())
    plan: dict[str, list[Any]] = {"due": [], "promised": [], "days": [], "stage": [],
                                  "starts": []}
    for due_on, promised_until, days_overdue, action, starts in planned:
        plan["due"].append(due_on)
        plan["promised"].append(promised_until)
        plan["days"].append(days_overdue)
        plan["stage"].append(STAGE_NAMES[DunningAction(action)])
        plan["starts"].append(starts)
    if not plan["due"]:
        return {"on": on.isoformat(), "working_day": True, "reminded": 0, "already": 0}
    open_sql = str(_open_invoices(on).compile(
        dialect=uow.session.bind.dialect, compile_kwargs={"literal_binds": True}))
    headers: dict[str, str] = {}
    propagate.inject(headers)
    template = Envelope.common_fields(ev.InvoiceOverdue, uow.producer)
    counts = (await uow.session.execute(sa.text(_REMIND.format(
        open=open_sql, outbox=uow.tables.outbox.name)), {
        **plan, "on": on, "routing_key": ev.InvoiceOverdue.TYPE,
        "template": json.dumps(template), "headers": json.dumps(headers)})).one()
    uow.outbox_written()
    await uow.commit()
    return {"on": on.isoformat(), "working_day": True, "reminded": counts.reminded,
            "already": counts.due - counts.reminded}


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
