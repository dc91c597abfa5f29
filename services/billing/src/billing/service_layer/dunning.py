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
from clientops_shared.uow import number_steps_sql

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


_OPEN = ", ".join(f"'{status}'" for status in sorted(str(s) for s in OPEN_STATUSES))
"""The open statuses as literals: the partial index on open invoices must stay provably usable
whatever plan the server keeps for the statement (a parameter would hide them from it)."""

# the latest promise to pay on each invoice that has one (notes are few: typed by people)
_PROMISES = """
    SELECT DISTINCT ON (invoice_id) invoice_id, promised_on FROM dunning_note
    WHERE promised_on IS NOT NULL ORDER BY invoice_id, at DESC"""

# Which (due date, promise) pairs the open invoices due by ``on`` have, for the domain to work
# out each pair's reminder: every due date without a promise (straight from the partial
# index, no invoice row read) plus the pairs of the few invoices with a promise. A pair no
# invoice has only costs the domain a look: the statement below matches none to it.
_PAIRS = f"""
SELECT DISTINCT due_on, CAST(NULL AS date) AS promised_until FROM invoice
WHERE status IN ({_OPEN}) AND due_on <= :on
UNION
SELECT i.due_on, p.promised_on FROM ({_PROMISES}) AS p JOIN invoice AS i ON i.id = p.invoice_id
WHERE i.status IN ({_OPEN}) AND i.due_on <= :on
"""


async def _reminder_pairs(session: Any, on: date) -> list[tuple[date, date | None]]:
    return [(r.due_on, r.promised_until)
            for r in (await session.execute(sa.text(_PAIRS), {"on": on})).all()]


# The reminders of the day and their ``billing.invoice.overdue`` outbox rows in one statement:
# the stage of each (due date, promise) pair comes in as arrays (worked out in the domain, a
# handful of pairs), the rows never travel to Python. Set-wise throughout (no subquery per
# invoice but the index-only count of its earlier reminders): the promises are one pass over
# the notes, a rent contract's invoice (issued in error: we pay the site owner; never dunned,
# the desk cancels it) is left out by one hashed list of the few rent contracts
# (``contract_id`` is NOT NULL, so NOT IN is exact) — a correlated NOT EXISTS let the planner
# pick a loop over the subscriptions per invoice, costed high enough to JIT-compile the
# statement for a second. The body is the envelope
# ``Envelope.wrap(InvoiceOverdue(...))`` would give, field for field (the ``template``
# supplies everything that is the same for every row).
_REMIND = f"""
WITH plan AS (
    SELECT * FROM unnest(CAST(:due AS date[]), CAST(:promised AS date[]),
                         CAST(:days AS integer[]), CAST(:stage AS varchar[]),
                         CAST(:starts AS boolean[]))
        AS p(due_on, promised_until, days_overdue, stage, stage_starts)
), due AS (
    SELECT i.id, i.number, i.client_id, i.contract_id, i.due_on,
           i.total - i.paid AS outstanding, a.manager, p.days_overdue, p.stage, p.stage_starts,
           (SELECT count(*) FROM dunning_reminder AS r
            WHERE r.invoice_id = i.id AND r.reminded_on < :on) AS prior
    FROM invoice AS i
    LEFT JOIN ({_PROMISES}) AS pr ON pr.invoice_id = i.id
    JOIN plan AS p ON p.due_on = i.due_on
                  AND p.promised_until IS NOT DISTINCT FROM pr.promised_on
    LEFT JOIN client_account AS a ON a.client_id = i.client_id
    WHERE i.kind = :kind AND i.status IN ({_OPEN}) AND i.due_on <= :on
      AND i.contract_id NOT IN (SELECT contract_id FROM subscription WHERE kind = 'rent')
), reminded AS (
    INSERT INTO dunning_reminder (invoice_id, reminded_on, days_overdue, reminder_count, stage,
                                  outstanding)
    SELECT id, CAST(:on AS date), days_overdue, prior + 1, stage, outstanding FROM due
    ON CONFLICT DO NOTHING
    RETURNING invoice_id
), steps AS ({{steps}}
), events AS (
    INSERT INTO {{outbox}} (event_id, routing_key, body, headers)
    SELECT event_id, CAST(:routing_key AS varchar),
           CAST(:template AS jsonb) || jsonb_build_object(
               'event_id', event_id,
               'aggregate_id', aggregate_id, 'aggregate_version', version,
               'payload', jsonb_build_object(
                   'invoice_id', id, 'number', number, 'client_id', client_id,
                   'on', CAST(:on AS date), 'days_overdue', days_overdue,
                   'reminder_count', prior + 1, 'stage', stage,
                   'outstanding', CAST(round(outstanding, 2) AS text),
                   'stage_starts', stage_starts, 'due_on', due_on,
                   'contract_id', contract_id, 'manager', manager)),
           CAST(:headers AS jsonb)
    FROM (SELECT gen_random_uuid() AS event_id, d.*, steps.aggregate_id, steps.version
          FROM reminded JOIN due AS d ON d.id = reminded.invoice_id
          JOIN steps ON steps.aggregate_id = CAST(d.id AS text)) AS r
    RETURNING 1
)
SELECT (SELECT count(*) FROM due) AS due, (SELECT count(*) FROM events) AS reminded
"""


async def _write_reminders(uow: BillingUnitOfWork, on: date, plan: dict[str, list[Any]]
                           ) -> sa.Row[Any]:
    """Write the day's reminders of ``plan`` (the arrays of the pairs' stages) and their
    events; returns how many were due and how many were written now."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    template = Envelope.common_fields(ev.InvoiceOverdue, uow.producer, steps_numbered=True)
    steps, step_params = number_steps_sql(uow.tables.aggregate_version, ev.InvoiceOverdue,
                                          "SELECT CAST(invoice_id AS text) FROM reminded")
    # a statement over every open invoice is costed past ``jit_above_cost`` (the count of
    # earlier reminders, per invoice); compiling it took longer than running it (up to
    # 1.3 s against 0.8 s, EXPLAIN ANALYZE at 100k invoices): not for this transaction
    await uow.session.execute(sa.text("SET LOCAL jit = off"))
    counts = (await uow.session.execute(sa.text(_REMIND.format(
        outbox=uow.tables.outbox.name, steps=steps)), {
        **plan, **step_params, "on": on, "kind": str(InvoiceKind.INVOICE),
        "routing_key": ev.InvoiceOverdue.TYPE, "template": json.dumps(template),
        "headers": json.dumps(carrier)})).one()
    uow.outbox_written()
    return counts


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
    pairs = await _reminder_pairs(uow.session, on)
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
    counts = await _write_reminders(uow, on, plan)
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
