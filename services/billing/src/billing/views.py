"""Read side of billing: lists and reports for the desk (plain queries, no domain)."""

from __future__ import annotations

import functools
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.orm import (
    cash_route,
    cash_route_item,
    cash_route_month,
    cash_route_stop,
    client_account,
    invoice,
    invoice_adjustment,
    invoice_line,
    invoice_run,
    payment,
    payment_allocation,
    rent_agreement,
    rent_registry,
    rent_term,
    subscription,
    subscription_fee,
    subscription_suspension,
)
from billing.domain.ledger import (
    AGING_BUCKETS,
    OPEN_STATUSES,
    Balance,
    InvoiceKind,
    InvoiceStatus,
    aging_bucket,
)
from billing.domain.model import service_stop
from billing.domain.vat import ZERO
from clientops_shared.auth import Principal
from clientops_shared.db import Reader
from clientops_shared.errors import Forbidden, NotFound
from clientops_shared.paging import (
    Order,
    PageStatement,
    capped_count,
    fetch_page,
    page_statement,
    run_page,
)


def _visible(actor: Principal) -> list[sa.ColumnElement[bool]]:
    """A manager sees only the clients assigned to them (billing's client projection)."""
    return [] if actor.sees_all_clients else [client_account.c.manager == actor.username]


async def _page(session: AsyncSession, base: sa.Select[Any], order: Any, limit: int,
                offset: int) -> tuple[int, list[dict[str, Any]]]:
    total = await capped_count(session, base)
    rows = (await session.execute(base.order_by(*order).limit(limit).offset(offset))
            ).mappings().all()
    return total, [dict(r) for r in rows]


async def subscriptions(session: AsyncSession, actor: Principal, *,
                        contract_id: uuid.UUID | None, client_id: uuid.UUID | None, limit: int,
                        offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = _visible(actor)
    if contract_id:
        where.append(subscription.c.contract_id == contract_id)
    if client_id:
        where.append(subscription.c.client_id == client_id)
    base = (sa.select(subscription, client_account.c.name.label("client_name"))
            .join(client_account, client_account.c.client_id == subscription.c.client_id,
                  isouter=True).where(*where))
    total, rows = await _page(session, base, [subscription.c.opened_at], limit, offset)
    ids = [r["id"] for r in rows]
    fees: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for f in (await session.execute(sa.select(subscription_fee).where(
            subscription_fee.c.subscription_id.in_(ids)).order_by(
            subscription_fee.c.effective_from))).mappings():
        fees[f["subscription_id"]].append({"effective_from": f["effective_from"],
                                           "monthly_fee": f["monthly_fee"],
                                           "source": f["source"]})
    stops: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for s in (await session.execute(sa.select(subscription_suspension).where(
            subscription_suspension.c.subscription_id.in_(ids)).order_by(
            subscription_suspension.c.suspended_from))).mappings():
        stops[s["subscription_id"]].append({"suspended_from": s["suspended_from"],
                                            "resume_on": s["resume_on"]})
    for r in rows:
        r["fees"], r["suspensions"] = fees[r["id"]], stops[r["id"]]
        r["service_stop"] = service_stop(r["terminated_on"], r["ends_on"], r["auto_renew"])
    return total, rows


def _invoice_columns() -> list[Any]:
    i = invoice.c
    return [i.id, i.number, i.kind, i.contract_id, i.contract_number, i.client_id,
            client_account.c.name.label("client_name"), i.period, i.revision, i.corrects_id,
            i.vat_mode, i.amount, i.vat, i.total, i.paid, (i.total - i.paid).label("outstanding"),
            i.status, i.issued_on, i.due_on, i.paid_on, i.run_id, i.reason]


INVOICE_ORDER = Order((invoice.c.period, invoice.c.number), ("period", "number"), (str, str),
                      (True, False))
"""Invoices newest period first, then by number (unique): ``invoice_period_number_idx``."""


@functools.cache
def _invoice_page(filters: frozenset[str], cursor: bool) -> PageStatement:
    """The invoice list's statement for one shape of filters, built once (``PageStatement``);
    each filter's value is the bound parameter of its name."""
    i = invoice.c
    conditions: dict[str, list[sa.ColumnElement[bool]]] = {
        "manager": [client_account.c.manager == sa.bindparam("manager")],
        "number": [i.number.ilike(sa.bindparam("number"))],
        # open and past its due date on that day
        "overdue_on": [i.kind == "invoice", i.status.in_(("issued", "partially_paid")),
                       i.due_on < sa.bindparam("overdue_on")],
        "client_id": [i.client_id == sa.bindparam("client_id")],
        "contract_id": [i.contract_id == sa.bindparam("contract_id")],
        "period": [i.period == sa.bindparam("period")],
        "status": [i.status == sa.bindparam("status")],
        "kind": [i.kind == sa.bindparam("kind")],
    }
    base = (sa.select(*_invoice_columns())
            .join(client_account, client_account.c.client_id == invoice.c.client_id,
                  isouter=True)
            .where(*[c for name in sorted(filters) for c in conditions[name]]))
    return page_statement(base, INVOICE_ORDER, cursor=cursor)


async def invoices(session: Reader, actor: Principal, *, client_id: uuid.UUID | None,
                   period: str | None, status: str | None, contract_id: uuid.UUID | None,
                   kind: str | None, limit: int, offset: int, number: str | None = None,
                   overdue_on: date | None = None, after: str | None = None
                   ) -> tuple[int, list[dict[str, Any]]]:
    """A page of invoices (``limit + 1`` rows, for ``answer_page``) and the capped total.
    A manager sees only the clients assigned to them; ``number`` is the desk's search box (a
    part of the number, any case)."""
    given: dict[str, Any] = {
        "number": f"%{number.strip()}%" if number else None,
        "overdue_on": overdue_on, "client_id": client_id, "contract_id": contract_id,
        "period": period, "status": status, "kind": kind,
    }
    params = {name: value for name, value in given.items() if value}
    if not actor.sees_all_clients:
        params["manager"] = actor.username
    return await run_page(session, _invoice_page(frozenset(params), bool(after)), INVOICE_ORDER,
                          limit, offset, after, params)


async def invoice_detail(session: AsyncSession, actor: Principal, invoice_id: uuid.UUID
                         ) -> dict[str, Any]:
    row = (await session.execute(
        sa.select(*_invoice_columns(), client_account.c.inn.label("client_inn"),
                  client_account.c.email.label("client_email"), client_account.c.manager)
        .join(client_account, client_account.c.client_id == invoice.c.client_id, isouter=True)
        .where(invoice.c.id == invoice_id))).mappings().first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    if not actor.may_see_client_of(row["manager"]):
        raise Forbidden("this client is assigned to another manager")
    lines = (await session.execute(sa.select(invoice_line).where(
        invoice_line.c.invoice_id == invoice_id).order_by(invoice_line.c.position))
    ).mappings().all()
    allocations = (await session.execute(
        sa.select(payment_allocation.c.payment_id, payment_allocation.c.amount,
                  payment.c.paid_on, payment.c.reference)
        .join(payment, payment.c.id == payment_allocation.c.payment_id)
        .where(payment_allocation.c.invoice_id == invoice_id)
        .order_by(payment_allocation.c.id))).mappings().all()
    related = (await session.execute(sa.select(invoice.c.id, invoice.c.number, invoice.c.kind,
                                               invoice.c.status)
                                     .where(invoice.c.corrects_id == invoice_id))
               ).mappings().all()
    return {**dict(row), "lines": [dict(line) for line in lines],
            "payments": [dict(a) for a in allocations],
            "corrected_by": [dict(r) for r in related]}


async def runs(session: AsyncSession, period: str | None, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(invoice_run).order_by(invoice_run.c.started_at.desc()).limit(limit)
    if period:
        stmt = stmt.where(invoice_run.c.period == period)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


def _allocated_of_payment() -> sa.ScalarSelect[Any]:
    return (sa.select(sa.func.coalesce(sa.func.sum(payment_allocation.c.amount), 0))
            .where(payment_allocation.c.payment_id == payment.c.id).scalar_subquery())


PAYMENT_ORDER = Order((payment.c.paid_on, payment.c.id), ("paid_on", "id"), (date, uuid.UUID),
                      (True, True))
"""Payments newest first (``payment_paid_on_id_idx``)."""


def _payment_columns(allocated: sa.ScalarSelect[Any]) -> list[Any]:
    return [payment.c.id, payment.c.source, payment.c.amount, payment.c.paid_on,
            payment.c.payer_inn, payment.c.payer_name, payment.c.purpose, payment.c.reference,
            payment.c.client_id, client_account.c.name.label("client_name"), payment.c.status,
            payment.c.match_method, payment.c.note, allocated.label("allocated"),
            (payment.c.amount - allocated).label("unallocated"), payment.c.created_at]


async def payments(session: AsyncSession, actor: Principal, *, status: str | None,
                   client_id: uuid.UUID | None, limit: int, offset: int,
                   date_from: date | None = None, date_to: date | None = None,
                   amount: Decimal | None = None, q: str | None = None,
                   after: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """A page of payments (``limit + 1`` rows, for ``answer_page``) and the capped total.
    ``status``: ``matched`` (all of it on invoices), ``partly`` (a known client's, with money
    left over: their advance), ``unmatched`` (whose it is, nobody knows yet)."""
    allocated = _allocated_of_payment()
    where = _visible(actor)
    if status == "unmatched":
        where.append(payment.c.status == "unmatched")
    elif status == "matched":
        where += [payment.c.status == "matched", payment.c.amount - allocated <= 0]
    elif status == "partly":
        where += [payment.c.status == "matched", payment.c.amount - allocated > 0]
    if client_id:
        where.append(payment.c.client_id == client_id)
    if date_from:
        where.append(payment.c.paid_on >= date_from)
    if date_to:
        where.append(payment.c.paid_on <= date_to)
    if amount is not None:
        where.append(payment.c.amount == amount)
    if q:  # the search box: payer, reference or purpose, any case
        like = f"%{q.strip()}%"
        where.append(sa.or_(payment.c.reference.ilike(like), payment.c.payer_name.ilike(like),
                            payment.c.purpose.ilike(like),
                            payment.c.payer_inn.startswith(q.strip())))
    base = (sa.select(*_payment_columns(allocated))
            .join(client_account, client_account.c.client_id == payment.c.client_id,
                  isouter=True).where(*where))
    return await fetch_page(session, base, PAYMENT_ORDER, limit, offset, after)


async def payment_detail(session: AsyncSession, actor: Principal, payment_id: uuid.UUID
                         ) -> dict[str, Any]:
    """A payment with where it went: each invoice it paid and how much, and what is left
    (the client's advance)."""
    allocated = _allocated_of_payment()
    row = (await session.execute(
        sa.select(*_payment_columns(allocated), client_account.c.inn.label("client_inn"),
                  client_account.c.manager, payment.c.created_by)
        .join(client_account, client_account.c.client_id == payment.c.client_id, isouter=True)
        .where(payment.c.id == payment_id))).mappings().first()
    if row is None:
        raise NotFound(f"Платёж {payment_id} не найден.")
    if row["client_id"] is not None and not actor.may_see_client_of(row["manager"]):
        raise Forbidden("this client is assigned to another manager")
    if row["client_id"] is None and not actor.sees_all_clients:
        raise Forbidden("an unmatched payment is the billing desk's")
    allocations = (await session.execute(
        sa.select(payment_allocation.c.invoice_id, invoice.c.number, invoice.c.period,
                  invoice.c.total, invoice.c.status, payment_allocation.c.amount,
                  payment_allocation.c.at)
        .join(invoice, invoice.c.id == payment_allocation.c.invoice_id)
        .where(payment_allocation.c.payment_id == payment_id)
        .order_by(payment_allocation.c.id))).mappings().all()
    return {**dict(row), "allocations": [dict(a) for a in allocations]}


async def balances(session: AsyncSession, actor: Principal, client_id: uuid.UUID | None = None
                   ) -> list[dict[str, Any]]:
    """Per client: invoiced, paid, outstanding on open invoices, credit held, balance."""
    live = invoice.c.status != str(InvoiceStatus.CREDITED)
    inv = (sa.select(invoice.c.client_id,
                     sa.func.sum(invoice.c.total).label("invoiced"),
                     sa.func.sum(invoice.c.paid).label("paid"),
                     sa.func.sum(sa.case((invoice.c.status.in_([str(s) for s in OPEN_STATUSES]),
                                          invoice.c.total - invoice.c.paid), else_=0)
                                 ).label("outstanding"))
           .where(invoice.c.kind == str(InvoiceKind.INVOICE), live)
           .group_by(invoice.c.client_id).subquery())
    allocated = _allocated_of_payment()
    pay = (sa.select(payment.c.client_id,
                     sa.func.sum(payment.c.amount - allocated).label("credit"),
                     sa.func.sum(payment.c.amount).label("received"))
           .where(payment.c.client_id.is_not(None)).group_by(payment.c.client_id).subquery())
    stmt = (sa.select(client_account.c.client_id, client_account.c.name, client_account.c.inn,
                      client_account.c.manager, inv.c.invoiced, inv.c.paid, inv.c.outstanding,
                      pay.c.credit, pay.c.received)
            .join(inv, inv.c.client_id == client_account.c.client_id, isouter=True)
            .join(pay, pay.c.client_id == client_account.c.client_id, isouter=True)
            .where(*_visible(actor),
                   sa.or_(inv.c.client_id.is_not(None), pay.c.client_id.is_not(None)))
            .order_by(client_account.c.name))
    if client_id is not None:
        stmt = stmt.where(client_account.c.client_id == client_id)
    out = []
    for r in (await session.execute(stmt)).mappings():
        b = Balance(invoiced=r["invoiced"] or ZERO, paid=r["paid"] or ZERO,
                    outstanding=r["outstanding"] or ZERO, credit=r["credit"] or ZERO)
        out.append({"client_id": r["client_id"], "client_name": r["name"], "inn": r["inn"],
                    "manager": r["manager"], "invoiced": b.invoiced, "paid": b.paid,
                    "outstanding": b.outstanding, "credit": b.credit, "balance": b.balance,
                    "received": r["received"] or ZERO})
    return out


async def pending_adjustments(session: AsyncSession, contract_id: uuid.UUID | None
                              ) -> list[dict[str, Any]]:
    stmt = sa.select(invoice_adjustment).where(invoice_adjustment.c.applied_invoice_id.is_(None))
    if contract_id:
        stmt = stmt.where(invoice_adjustment.c.contract_id == contract_id)
    return [dict(r) for r in (await session.execute(stmt.order_by(
        invoice_adjustment.c.created_at))).mappings()]


async def period_report(session: AsyncSession, actor: Principal, period: str
                        ) -> list[dict[str, Any]]:
    """Who paid and who did not for a period (seed 000 §8): its invoices in force."""
    stmt = (sa.select(invoice.c.id, invoice.c.number, invoice.c.client_id,
                      client_account.c.name.label("client_name"), client_account.c.inn,
                      client_account.c.manager, invoice.c.contract_number, invoice.c.total,
                      invoice.c.paid, (invoice.c.total - invoice.c.paid).label("outstanding"),
                      invoice.c.status, invoice.c.due_on, invoice.c.paid_on)
            .join(client_account, client_account.c.client_id == invoice.c.client_id,
                  isouter=True)
            .where(invoice.c.period == period, invoice.c.kind == str(InvoiceKind.INVOICE),
                   invoice.c.status != str(InvoiceStatus.CREDITED), *_visible(actor))
            .order_by(invoice.c.status, client_account.c.name, invoice.c.number))
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def aging(session: AsyncSession, actor: Principal, on: date) -> dict[str, Any]:
    """Open invoices by days past due on a date, per client and in total."""
    stmt = (sa.select(invoice.c.client_id, client_account.c.name, client_account.c.manager,
                      invoice.c.due_on, (invoice.c.total - invoice.c.paid).label("outstanding"))
            .join(client_account, client_account.c.client_id == invoice.c.client_id,
                  isouter=True)
            .where(invoice.c.kind == str(InvoiceKind.INVOICE),
                   invoice.c.status.in_([str(s) for s in OPEN_STATUSES]),
                   invoice.c.issued_on <= on, *_visible(actor)))
    names = [name for name, _, _ in AGING_BUCKETS]
    totals = dict.fromkeys(names, ZERO)
    clients: dict[uuid.UUID, dict[str, Any]] = {}
    for r in (await session.execute(stmt)).mappings():
        bucket = aging_bucket(r["due_on"], on)
        entry = clients.setdefault(r["client_id"], {
            "client_id": r["client_id"], "client_name": r["name"], "manager": r["manager"],
            **dict.fromkeys(names, ZERO), "total": ZERO})
        amount: Decimal = r["outstanding"]
        entry[bucket] += amount
        entry["total"] += amount
        totals[bucket] += amount
    return {"on": on, "buckets": names,
            "totals": {**totals, "total": sum(totals.values(), ZERO)},
            "clients": sorted(clients.values(),
                              key=lambda c: (-c["total"], c["client_name"] or ""))}


# --- site rent ---------------------------------------------------------------------------------


def _term_in_force(on: date) -> sa.Subquery:
    """Per agreement, the terms in force on ``on``; for one that starts later, its first."""
    t = rent_term.c
    in_force = t.effective_from <= on
    return (sa.select(t.agreement_id, t.effective_from, t.terminals, t.amount_per_terminal,
                      t.payment_form,
                      (t.terminals * t.amount_per_terminal).label("monthly_amount"))
            .distinct(t.agreement_id)
            .order_by(t.agreement_id, in_force.desc(),
                      sa.case((in_force, t.effective_from)).desc().nulls_last(),
                      t.effective_from)
            .subquery("term_now"))


async def rent_agreements(session: AsyncSession, *, on: date, q: str | None,
                          owner_inn: str | None, site_id: uuid.UUID | None,
                          payment_form: str | None, limit: int, offset: int
                          ) -> tuple[int, list[dict[str, Any]]]:
    """Agreements with the terms in force on a date (terminals, amount, cash or cashless)."""
    a = rent_agreement.c
    term = _term_in_force(on)
    changes = (sa.select(sa.func.count()).where(rent_term.c.agreement_id == a.id)
               .scalar_subquery())
    where: list[sa.ColumnElement[bool]] = []
    if q:
        like = f"%{q.strip()}%"
        where.append(sa.or_(a.number.ilike(like), a.owner_name.ilike(like),
                            a.site_name.ilike(like), a.address.ilike(like),
                            a.owner_inn.startswith(q.strip())))
    if owner_inn:
        where.append(a.owner_inn == owner_inn)
    if site_id:
        where.append(a.site_id == site_id)
    if payment_form:
        where.append(term.c.payment_form == payment_form)
    base = (sa.select(a.id, a.number, a.owner_name, a.owner_inn, a.owner_account, a.owner_bic,
                      a.owner_bank, a.site_id, a.site_name, a.address, a.starts_on, a.ends_on,
                      term.c.effective_from.label("terms_from"), term.c.terminals,
                      term.c.amount_per_terminal, term.c.payment_form, term.c.monthly_amount,
                      changes.label("changes"),
                      sa.and_(a.ends_on.is_not(None), a.ends_on < on).label("ended"))
            .join(term, term.c.agreement_id == a.id).where(*where))
    return await _page(session, base, [a.owner_name, a.number], limit, offset)


async def rent_changes(session: AsyncSession, agreement_id: uuid.UUID) -> list[dict[str, Any]]:
    """An agreement's dated terms, oldest first, with why and by whom each was recorded."""
    t = rent_term.c
    found = (await session.execute(sa.select(rent_agreement.c.id).where(
        rent_agreement.c.id == agreement_id))).first()
    if found is None:
        raise NotFound(f"rent agreement {agreement_id} not found")
    rows = await session.execute(
        sa.select(t.effective_from, t.terminals, t.amount_per_terminal, t.payment_form,
                  (t.terminals * t.amount_per_terminal).label("monthly_amount"), t.note,
                  t.created_by, t.created_at)
        .where(t.agreement_id == agreement_id).order_by(t.effective_from))
    return [dict(r) for r in rows.mappings()]


async def rent_registries(session: AsyncSession, limit: int) -> list[dict[str, Any]]:
    """Registries handed to accounting (or disputed, reconciled), newest month first."""
    r = rent_registry.c
    rows = await session.execute(
        sa.select(r.period, r.state, r.total, r.note, r.changed_by, r.changed_at,
                  sa.func.jsonb_array_length(r.rows).label("count"))
        .order_by(r.period.desc()).limit(limit))
    return [dict(row) for row in rows.mappings()]


async def cash_routes(session: AsyncSession, route_id: uuid.UUID | None = None
                      ) -> list[dict[str, Any]]:
    """Routes with their stops in the courier's order and their months, newest first."""
    stmt = sa.select(cash_route).order_by(cash_route.c.name)
    if route_id is not None:
        stmt = stmt.where(cash_route.c.id == route_id)
    routes = [dict(r) for r in (await session.execute(stmt)).mappings()]
    ids = [r["id"] for r in routes]
    stops: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    a = rent_agreement.c
    for s in (await session.execute(
            sa.select(cash_route_stop.c.route_id, cash_route_stop.c.agreement_id,
                      cash_route_stop.c.position, a.number, a.owner_name, a.site_name,
                      a.address)
            .join(rent_agreement, a.id == cash_route_stop.c.agreement_id)
            .where(cash_route_stop.c.route_id.in_(ids))
            .order_by(cash_route_stop.c.position))).mappings():
        stops[s["route_id"]].append(dict(s))
    months: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    m = cash_route_month.c
    unconfirmed = (sa.select(sa.func.count()).where(
        cash_route_item.c.route_month_id == m.id, cash_route_item.c.confirmed_at.is_(None))
        .scalar_subquery())
    for row in (await session.execute(
            sa.select(m.id, m.route_id, m.period, m.total, m.state, m.permission_no,
                      unconfirmed.label("open_items"))
            .where(m.route_id.in_(ids)).order_by(m.period.desc()))).mappings():
        months[row["route_id"]].append(dict(row))
    for r in routes:
        r["stops"], r["months"] = stops[r["id"]], months[r["id"]]
    return routes
