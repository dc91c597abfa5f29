"""The monthly invoice run: one invoice per billable contract and period, exactly once.

A run is a row (``invoice_run``) and a loop over the period's billable contracts in batches.
Each batch is one transaction: it reads the terms of its contracts set-wise, prorates them in
the domain, writes the invoices, lines and ``billing.invoice.issued`` events (``issuing.issue``)
and moves the run's counters. A contract that cannot be billed is recorded with its reason and
never stops the rest. A run killed half-way leaves whole batches behind; the next run skips
what exists and issues what is missing. While a run works it holds an advisory lock of its
own, so a later run can tell a dead run (lock free: ``interrupted``) from a live one.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.bulk import any_uuid
from billing.adapters.orm import (
    client_account,
    invoice_adjustment,
    invoice_run,
    invoice_run_failure,
    subscription,
    subscription_fee,
    subscription_suspension,
)
from billing.domain import model
from billing.domain.invoicing import InvoiceLine, LineKind, Totals, compute_lines
from billing.domain.ledger import InvoiceKind
from billing.domain.periods import Period
from billing.domain.vat import ZERO
from billing.service_layer.issuing import (
    Payer,
    PlannedInvoice,
    existing_invoices,
    invoice_counter_key,
    issue,
    lock_counters,
)
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork
from clientops_shared import context
from clientops_shared.errors import NotFound
from clientops_shared.jobs import run_once

log = logging.getLogger("billing.invoice_run")

RUN_JOB = "invoice-run"


class RunStatus:
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


def _lock_key(run_id: uuid.UUID) -> int:
    return int.from_bytes(hashlib.sha256(b"invoice-run:" + run_id.bytes).digest()[:8], "big",
                          signed=True)


def billable_filter(period: Period) -> sa.ColumnElement[bool]:
    """Subscriptions whose service window touches the period (proration decides the rest)."""
    s = subscription.c
    return sa.and_(
        s.kind.not_in(tuple(model.NOT_BILLED_MONTHLY)),
        s.service_start.is_not(None),
        s.service_start <= period.last_day,
        sa.or_(s.terminated_on.is_(None), s.terminated_on > period.first_day),
        sa.or_(s.auto_renew, s.ends_on.is_(None), s.ends_on >= period.first_day),
    )


@dataclass
class Billable:
    payer: Payer
    vat_mode: str
    terms: Any  # BillingTerms | None
    error: str | None = None


async def load_billables(session: Any, contract_ids: Sequence[uuid.UUID]
                         ) -> dict[uuid.UUID, Billable]:
    """Terms of many contracts in three queries (subscriptions, fees, suspensions)."""
    s = subscription.c
    subs = (await session.execute(
        sa.select(s.id, s.contract_id, s.contract_number, s.client_id, s.vat_mode,
                  s.service_start, s.terminated_on, s.ends_on, s.auto_renew,
                  client_account.c.email)
        .join(client_account, client_account.c.client_id == s.client_id, isouter=True)
        .where(s.contract_id == any_uuid(contract_ids)))).all()
    sub_ids = [r.id for r in subs]
    # ``.all()``: fetched in one go, not row by row through the driver adapter's cursor
    fees: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in (await session.execute(sa.select(
            subscription_fee.c.subscription_id, subscription_fee.c.effective_from,
            subscription_fee.c.monthly_fee).where(
            subscription_fee.c.subscription_id == any_uuid(sub_ids)))).all():
        fees[r.subscription_id].append(r)  # rows have effective_from and monthly_fee
    stops: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in (await session.execute(sa.select(
            subscription_suspension.c.subscription_id, subscription_suspension.c.suspended_from,
            subscription_suspension.c.resume_on).where(
            subscription_suspension.c.subscription_id == any_uuid(sub_ids)))).all():
        stops[r.subscription_id].append(r)
    out: dict[uuid.UUID, Billable] = {}
    for r in subs:
        payer = Payer(r.contract_id, r.contract_number, r.client_id, r.email)
        try:
            terms = model.billing_terms(
                service_start=r.service_start, vat_mode=r.vat_mode, fees=fees[r.id],
                service_stop=model.service_stop(r.terminated_on, r.ends_on, r.auto_renew),
                suspensions=stops[r.id])
            out[r.contract_id] = Billable(payer, r.vat_mode, terms)
        except ValueError as exc:
            out[r.contract_id] = Billable(payer, r.vat_mode, None, error=str(exc))
    return out


async def pending_adjustments(session: Any, contract_ids: Sequence[uuid.UUID]
                              ) -> dict[uuid.UUID, list[tuple[uuid.UUID, InvoiceLine]]]:
    """Adjustments waiting for a contract's next invoice, as invoice lines."""
    a = invoice_adjustment.c
    rows = (await session.execute(sa.select(invoice_adjustment).where(
        a.contract_id == any_uuid(contract_ids), a.applied_invoice_id.is_(None)
    ).order_by(a.created_at))).mappings().all()
    out: dict[uuid.UUID, list[tuple[uuid.UUID, InvoiceLine]]] = defaultdict(list)
    for r in rows:
        period = Period.parse(r["for_period"])
        out[r["contract_id"]].append((r["id"], InvoiceLine(
            description=r["description"], service_from=period.first_day,
            service_to=period.last_day, days=0, days_in_month=period.days,
            fee=ZERO, amount=r["amount"], vat_rate=r["vat_rate"], vat=r["vat"],
            total=r["total"], kind=LineKind.ADJUSTMENT)))
    return out


@dataclass
class BatchOutcome:
    issued: int = 0
    already: int = 0
    skipped: int = 0
    failures: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)


def plan_invoice(b: Billable, period: Period, vat_rates: Any,
                 adjustments: Sequence[tuple[uuid.UUID, InvoiceLine]]) -> PlannedInvoice | None:
    """The period's invoice for one contract, with adjustments carried from paid invoices.

    None when nothing is to be billed. A negative sum of adjustments that would push the total
    below zero stays pending for a later invoice.
    """
    if b.error is not None:
        raise ValueError(b.error)
    lines = compute_lines(b.terms, period, vat_rates) if b.terms is not None else ()
    if not lines:
        return None
    extra = tuple(line for _, line in adjustments)
    if extra and Totals.of((*lines, *extra)).total < 0:
        extra, adjustments = (), ()
    if Totals.of((*lines, *extra)).total <= 0:
        return None  # a zero-fee contract (e.g. a free pilot) gets no invoice
    return PlannedInvoice(payer=b.payer, period=period, vat_mode=b.vat_mode,
                          lines=(*lines, *extra),
                          adjustment_ids=tuple(adj_id for adj_id, _ in adjustments))


async def _batch(billing: Billing, uow: BillingUnitOfWork, run_id: uuid.UUID, period: Period,
                 ids: Sequence[uuid.UUID], issued_on: date) -> BatchOutcome:
    out = BatchOutcome()
    # the period's counter first: while this transaction holds it nobody else issues in the
    # period, so the one look-up of what exists (driven from the batch's ids, against the
    # unique key) stays true until the commit and ``issue`` need not look again
    locked = await lock_counters(uow, [invoice_counter_key(period)])
    existing = {r.contract_id for r in await existing_invoices(uow.session, ids, [str(period)])
                if r.kind == str(InvoiceKind.INVOICE)}
    todo = [i for i in ids if i not in existing]
    out.already = len(ids) - len(todo)
    billables = await load_billables(uow.session, todo)
    adjustments = await pending_adjustments(uow.session, todo)
    planned: list[PlannedInvoice] = []
    for contract_id in todo:
        b = billables.get(contract_id)
        if b is None:
            out.failures[contract_id] = ("", "the subscription disappeared during the run")
            continue
        try:
            p = plan_invoice(b, period, billing.vat_rates, adjustments.get(contract_id, ()))
        except ValueError as exc:
            out.failures[contract_id] = (b.payer.contract_number, str(exc))
            continue
        if p is None:
            out.skipped += 1
        else:
            planned.append(p)
    issued = await issue(uow, planned, issued_on=issued_on, due_day=billing.due_day,
                         run_id=run_id, locked=locked)
    out.issued = len(issued)
    out.already += len(planned) - len(issued)  # refused by the unique key (not while locked)
    await _record(uow, run_id, out)
    return out


async def _record(uow: BillingUnitOfWork, run_id: uuid.UUID, out: BatchOutcome) -> None:
    if out.failures:
        stmt = insert(invoice_run_failure)
        await uow.session.execute(stmt.on_conflict_do_update(
            index_elements=[invoice_run_failure.c.run_id, invoice_run_failure.c.contract_id],
            set_={"reason": stmt.excluded.reason}),
            [{"run_id": run_id, "contract_id": cid, "contract_number": number, "reason": reason}
             for cid, (number, reason) in out.failures.items()])
    r = invoice_run.c
    await uow.session.execute(invoice_run.update().where(r.id == run_id).values(
        done=r.done + out.issued + out.already + out.skipped, issued=r.issued + out.issued,
        skipped=r.skipped + out.skipped, failed=r.failed + len(out.failures),
        already=r.already + out.already))


async def _run_batch(billing: Billing, run_id: uuid.UUID, period: Period,
                     ids: Sequence[uuid.UUID], issued_on: date) -> None:
    try:
        async with billing.uow() as uow:
            await _batch(billing, uow, run_id, period, ids, issued_on)
            await uow.commit()
        return
    except asyncio.CancelledError:
        raise
    except Exception:
        if len(ids) == 1:
            raise
        log.exception("invoice run %s: a batch of %s failed; retrying one by one", run_id,
                      len(ids))
    for contract_id in ids:  # find the contract that breaks the batch; bill all the others
        try:
            async with billing.uow() as uow:
                await _batch(billing, uow, run_id, period, [contract_id], issued_on)
                await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("invoice run %s: contract %s failed", run_id, contract_id)
            async with billing.uow() as uow:
                await _record(uow, run_id, BatchOutcome(failures={
                    contract_id: ("", f"{type(exc).__name__}: {exc}"[:500])}))
                await uow.commit()


@contextmanager
def _older_objects_left_alone() -> Iterator[None]:
    """While the batches run, what the process held before the run is left out of the cyclic
    garbage collector's scans (``gc.freeze``): a batch allocates hundreds of thousands of
    objects, and each full collection they trigger would walk the whole process again —
    a third of a 20k run's CPU, measured. Nothing is leaked: ``unfreeze`` hands them back."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def billable_contracts(billing: Billing, period: Period) -> list[uuid.UUID]:
    async with billing.engine.connect() as conn:
        return list((await conn.execute(
            sa.select(subscription.c.contract_id).where(billable_filter(period))
            .order_by(subscription.c.contract_number, subscription.c.contract_id))).scalars())


async def start_run(billing: Billing, period: Period, *, trigger: str, requested_by: str
                    ) -> uuid.UUID:
    run_id = uuid.uuid4()
    async with billing.engine.connect() as conn:
        total = int((await conn.execute(sa.select(sa.func.count()).select_from(subscription)
                                        .where(billable_filter(period)))).scalar_one())
    async with billing.uow() as uow:
        await uow.session.execute(invoice_run.insert().values(
            id=run_id, period=str(period), status=RunStatus.RUNNING, trigger=trigger,
            requested_by=requested_by, total=total, lock_key=_lock_key(run_id)))
        uow.audit("invoice_run.started", "invoice_run", run_id,
                  after={"period": str(period), "trigger": trigger, "total": total})
        await uow.commit()
    return run_id


async def _mark_dead_runs(billing: Billing, conn: Any, run_id: uuid.UUID, period: Period
                          ) -> None:
    others = (await conn.execute(sa.select(invoice_run.c.id, invoice_run.c.lock_key).where(
        invoice_run.c.period == str(period), invoice_run.c.status == RunStatus.RUNNING,
        invoice_run.c.id != run_id))).all()
    for other in others:
        if (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(other.lock_key)))
                ).scalar():
            await conn.execute(sa.select(sa.func.pg_advisory_unlock(other.lock_key)))
            await conn.execute(invoice_run.update().where(
                invoice_run.c.id == other.id, invoice_run.c.status == RunStatus.RUNNING
            ).values(status=RunStatus.INTERRUPTED, finished_at=sa.func.now(),
                     error="the process running it stopped; a later run finished the period"))
    await conn.commit()


async def execute_run(billing: Billing, run_id: uuid.UUID) -> dict[str, Any]:
    """Work a started run to its end; safe to call for a run whose process died."""
    async with billing.engine.connect() as conn:
        row = (await conn.execute(sa.select(invoice_run).where(invoice_run.c.id == run_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"invoice run {run_id} not found")
        period = Period.parse(row["period"])
        await conn.execute(sa.select(sa.func.pg_advisory_lock(row["lock_key"])))
        await conn.commit()
        try:
            await _mark_dead_runs(billing, conn, run_id, period)
            ids = await billable_contracts(billing, period)
            await conn.execute(invoice_run.update().where(invoice_run.c.id == run_id).values(
                total=len(ids), done=0, issued=0, skipped=0, failed=0, already=0,
                status=RunStatus.RUNNING))
            await conn.execute(invoice_run_failure.delete().where(
                invoice_run_failure.c.run_id == run_id))
            await conn.commit()
            issued_on = billing.today()
            with context.bound(who=row["requested_by"]), _older_objects_left_alone():
                for start in range(0, len(ids), billing.run_batch):
                    await _run_batch(billing, run_id, period,
                                     ids[start:start + billing.run_batch], issued_on)
            status, error = RunStatus.FINISHED, None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("invoice run %s failed", run_id)
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
        finally:
            if not conn.closed and not conn.invalidated:
                try:
                    await conn.rollback()
                    await conn.execute(sa.select(sa.func.pg_advisory_unlock(row["lock_key"])))
                    await conn.commit()
                except Exception:  # the lock goes with the connection anyway
                    log.warning("could not release the lock of invoice run %s", run_id)
    await _finish(billing, run_id, status, error)
    return await run_progress(billing, run_id)


async def _finish(billing: Billing, run_id: uuid.UUID, status: str, error: str | None,
                  patience: float = 60.0) -> None:
    """Record how the run ended; while the database is away keep trying a while (a run left
    ``running`` after that is corrected by ``sweep_dead_runs`` on the next poll)."""
    deadline = asyncio.get_running_loop().time() + patience
    pause = 0.5
    while True:
        try:
            async with billing.engine.begin() as conn:
                await conn.execute(invoice_run.update().where(invoice_run.c.id == run_id)
                                   .values(status=status, error=error,
                                           finished_at=sa.func.now()))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if asyncio.get_running_loop().time() + pause > deadline:
                log.error("invoice run %s ended %s but could not be recorded: %s", run_id,
                          status, exc)
                raise
            log.warning("invoice run %s: recording its end failed (%s); retrying", run_id, exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


async def sweep_dead_runs(billing: Billing) -> int:
    """Runs left ``running`` by a process or a database connection that is gone (their lock
    is free) become ``interrupted``; the next run of the period finishes the work."""
    swept = 0
    async with billing.engine.connect() as conn:
        stale = (await conn.execute(sa.select(invoice_run.c.id, invoice_run.c.lock_key).where(
            invoice_run.c.status == RunStatus.RUNNING))).all()
        for run in stale:
            if not (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(run.lock_key)))
                    ).scalar():
                continue  # a live run holds it
            try:
                swept += (await conn.execute(invoice_run.update().where(
                    invoice_run.c.id == run.id, invoice_run.c.status == RunStatus.RUNNING
                ).values(status=RunStatus.INTERRUPTED, finished_at=sa.func.now(),
                         error="the run stopped before its end (process or database lost); "
                               "a later run of the period finishes it"))).rowcount
            finally:
                await conn.execute(sa.select(sa.func.pg_advisory_unlock(run.lock_key)))
            await conn.commit()
    if swept:
        log.warning("%s invoice run(s) left running were marked interrupted", swept)
    return swept


async def run_progress(billing: Billing, run_id: uuid.UUID) -> dict[str, Any]:
    async with billing.engine.connect() as conn:
        row = (await conn.execute(sa.select(invoice_run).where(invoice_run.c.id == run_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"invoice run {run_id} not found")
        failures = (await conn.execute(sa.select(
            invoice_run_failure.c.contract_id, invoice_run_failure.c.contract_number,
            invoice_run_failure.c.reason).where(invoice_run_failure.c.run_id == run_id)
            .order_by(invoice_run_failure.c.contract_number))).mappings().all()
    return {"id": str(row["id"]), "period": row["period"], "status": row["status"],
            "trigger": row["trigger"], "requested_by": row["requested_by"],
            "total": row["total"], "done": row["done"], "issued": row["issued"],
            "skipped": row["skipped"], "failed": row["failed"], "already": row["already"],
            "started_at": row["started_at"].isoformat(),
            "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
            "error": row["error"],
            "failures": [{"contract_id": str(f["contract_id"]),
                          "contract_number": f["contract_number"], "reason": f["reason"]}
                         for f in failures]}


async def run_period(billing: Billing, period: Period, *, trigger: str, requested_by: str
                     ) -> dict[str, Any]:
    run_id = await start_run(billing, period, trigger=trigger, requested_by=requested_by)
    return await execute_run(billing, run_id)


async def scheduled_run(billing: Billing, today: date | None = None) -> dict[str, Any] | None:
    """The job on the run day (and after it, if the service was down): once per period.

    A run that does not finish (its database went away, ...) raises: the job counts as failed,
    the period is not marked done, and the next tick runs it again.
    """
    await sweep_dead_runs(billing)
    today = today or billing.today()
    if today.day < billing.run_day:
        return None
    period = Period.of(today)

    async def work() -> dict[str, Any]:
        result = await run_period(billing, period, trigger="schedule", requested_by="system")
        if result["status"] != RunStatus.FINISHED:
            raise RuntimeError(f"invoice run for {period} ended {result['status']}: "
                               f"{result['error']}")
        return result

    ran, result = await run_once(billing.engine, billing.job_run, RUN_JOB, str(period), work)
    return result if ran else None


async def first_billed_period(billing: Any) -> Period | None:
    """The month the earliest billed contract starts in (None: no contracts yet)."""
    async with billing.uow() as uow:
        first = (await uow.session.execute(sa.select(sa.func.min(subscription.c.starts_on))
                                           .where(subscription.c.kind.not_in(
                                               tuple(model.NOT_BILLED_MONTHLY))))).scalar()
    return None if first is None else Period.of(first)
