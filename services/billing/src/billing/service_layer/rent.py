"""Site rent use cases: agreements and their dated changes, the cashless registry for a month,
cash routes with their monthly cash request, payment permission and courier receipts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.orm import (
    cash_route,
    cash_route_item,
    cash_route_month,
    cash_route_stop,
    rent_agreement,
    rent_registry,
    rent_term,
)
from billing.domain import rent as domain
from billing.domain.periods import Period
from billing.domain.rent import PaymentForm, RentTerm, RouteState
from billing.domain.vat import ZERO
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import billing as ev


def _term(row: Any) -> RentTerm:
    return RentTerm(row.effective_from, row.terminals, row.amount_per_terminal,
                    PaymentForm(row.payment_form))


async def _terms(uow: BillingUnitOfWork, agreement_ids: list[uuid.UUID]
                 ) -> dict[uuid.UUID, list[RentTerm]]:
    out: dict[uuid.UUID, list[RentTerm]] = defaultdict(list)
    for r in await uow.session.execute(sa.select(rent_term).where(
            rent_term.c.agreement_id.in_(agreement_ids)).order_by(rent_term.c.effective_from)):
        out[r.agreement_id].append(_term(r))
    return out


terms_of = _terms


async def create_agreement(uow: BillingUnitOfWork, actor: Principal, **data: Any
                           ) -> dict[str, Any]:
    form = PaymentForm(data.pop("payment_form"))
    terminals, per_terminal = data.pop("terminals"), data.pop("amount_per_terminal")
    if form is PaymentForm.CASHLESS and not (data.get("owner_account") and data.get("owner_bic")):
        raise InvalidInput("owner_account", "cashless rent needs the owner's account and BIC")
    if data.get("ends_on") is not None and data["ends_on"] < data["starts_on"]:
        raise InvalidInput("ends_on", "the agreement cannot end before it starts")
    agreement_id = uuid.uuid4()
    created = (await uow.session.execute(insert(rent_agreement).values(
        id=agreement_id, created_by=actor.username, **data).on_conflict_do_nothing(
        index_elements=[rent_agreement.c.number]).returning(rent_agreement.c.id))).first()
    if created is None:
        raise Conflict(f"rent agreement {data['number']} already exists", field="number")
    await uow.session.execute(rent_term.insert().values(
        agreement_id=agreement_id, effective_from=data["starts_on"], terminals=terminals,
        amount_per_terminal=per_terminal, payment_form=str(form), note="договор",
        created_by=actor.username))
    uow.audit("rent.agreement_created", "rent_agreement", agreement_id,
              after={**data, "terminals": terminals, "amount_per_terminal": per_terminal,
                     "payment_form": str(form)})
    await uow.commit()
    return await agreement(uow, agreement_id)


async def change_terms(uow: BillingUnitOfWork, actor: str, agreement_id: uuid.UUID, *,
                       effective_from: date, terminals: int | None = None,
                       amount_per_terminal: Decimal | None = None,
                       payment_form: PaymentForm | None = None, terminals_delta: int = 0,
                       note: str | None = None) -> RentTerm:
    row = (await uow.session.execute(sa.select(rent_agreement).where(
        rent_agreement.c.id == agreement_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"rent agreement {agreement_id} not found")
    if effective_from < row.starts_on:
        raise InvalidInput("effective_from", f"the agreement starts on {row.starts_on}")
    if payment_form is PaymentForm.CASHLESS and not (row.owner_account and row.owner_bic):
        raise InvalidInput("payment_form", "the owner's bank account is not on file")
    terms = (await _terms(uow, [agreement_id]))[agreement_id]
    try:
        new = domain.changed_terms(terms, effective_from, terminals=terminals,
                                   amount_per_terminal=amount_per_terminal,
                                   payment_form=payment_form, terminals_delta=terminals_delta)
    except ValueError as exc:
        raise InvalidInput("effective_from", str(exc)) from None
    stmt = insert(rent_term).values(
        agreement_id=agreement_id, effective_from=new.effective_from, terminals=new.terminals,
        amount_per_terminal=new.amount_per_terminal, payment_form=str(new.payment_form),
        note=note, created_by=actor)
    await uow.session.execute(stmt.on_conflict_do_update(
        index_elements=[rent_term.c.agreement_id, rent_term.c.effective_from],
        set_={"terminals": stmt.excluded.terminals,
              "amount_per_terminal": stmt.excluded.amount_per_terminal,
              "payment_form": stmt.excluded.payment_form, "note": stmt.excluded.note}))
    uow.audit("rent.terms_changed", "rent_agreement", agreement_id,
              after={"effective_from": effective_from, "terminals": new.terminals,
                     "amount_per_terminal": new.amount_per_terminal,
                     "payment_form": str(new.payment_form), "note": note})
    return new


async def equipment_at_site(uow: BillingUnitOfWork, site_id: uuid.UUID | None, on: date,
                            delta: int, what: str) -> None:
    """A terminal installed at / removed from a rented site changes the rent from that day."""
    if site_id is None:
        return
    ids = (await uow.session.execute(sa.select(rent_agreement.c.id).where(
        rent_agreement.c.site_id == site_id, rent_agreement.c.starts_on <= on,
        rent_agreement.c.contract_id.is_(None),  # contract-fed: rent_contracts counts them
        sa.or_(rent_agreement.c.ends_on.is_(None), rent_agreement.c.ends_on >= on)))).scalars()
    for agreement_id in ids:
        await change_terms(uow, "event:field_ops", agreement_id, effective_from=on,
                           terminals_delta=delta, note=what)


async def agreement(uow: BillingUnitOfWork, agreement_id: uuid.UUID) -> dict[str, Any]:
    row = (await uow.session.execute(sa.select(rent_agreement).where(
        rent_agreement.c.id == agreement_id))).mappings().first()
    if row is None:
        raise NotFound(f"rent agreement {agreement_id} not found")
    terms = (await _terms(uow, [agreement_id]))[agreement_id]
    return {**dict(row), "terms": [
        {"effective_from": t.effective_from, "terminals": t.terminals,
         "amount_per_terminal": t.amount_per_terminal, "payment_form": str(t.payment_form),
         "monthly_amount": t.monthly_amount} for t in terms]}


async def due(uow: BillingUnitOfWork, period: Period, form: PaymentForm,
              agreement_ids: list[uuid.UUID] | None = None) -> list[dict[str, Any]]:
    """Rent due for a month in one payment form, per agreement (zero amounts left out)."""
    a = rent_agreement.c
    stmt = sa.select(rent_agreement).where(
        a.starts_on <= period.last_day, sa.or_(a.ends_on.is_(None), a.ends_on >= period.first_day))
    if agreement_ids is not None:
        stmt = stmt.where(a.id.in_(agreement_ids))
    rows = (await uow.session.execute(stmt.order_by(a.number))).mappings().all()
    terms = await _terms(uow, [r["id"] for r in rows])
    out = []
    for r in rows:
        amount = domain.due_for(terms[r["id"]], period, r["starts_on"], r["ends_on"], form)
        if amount > 0:
            out.append({**dict(r), "amount": amount})
    return out


def _registry_row(r: dict[str, Any], period: Period) -> dict[str, Any]:
    return {"agreement_id": str(r["id"]), "number": r["number"], "owner_name": r["owner_name"],
            "owner_inn": r["owner_inn"], "owner_account": r["owner_account"],
            "owner_bic": r["owner_bic"], "owner_bank": r["owner_bank"],
            "site_name": r["site_name"], "amount": str(r["amount"]),
            "purpose": (f"Арендная плата за размещение оборудования за {period.title_ru} по "
                        f"договору № {r['number']}. НДС не облагается")}


async def registry(uow: BillingUnitOfWork, period: Period) -> dict[str, Any]:
    """The cashless payout registry for a month: frozen once sent to accounting."""
    saved = (await uow.session.execute(sa.select(rent_registry).where(
        rent_registry.c.period == str(period)))).mappings().first()
    if saved is not None and saved["state"] != domain.RegistryState.DRAFT:
        return {"period": str(period), "state": saved["state"], "rows": saved["rows"],
                "total": saved["total"], "note": saved["note"]}
    rows = [_registry_row(r, period) for r in await due(uow, period, PaymentForm.CASHLESS)]
    return {"period": str(period), "state": str(domain.RegistryState.DRAFT), "rows": rows,
            "total": sum((Decimal(r["amount"]) for r in rows), ZERO),
            "note": saved["note"] if saved else None}


async def set_registry_state(uow: BillingUnitOfWork, actor: Principal, period: Period,
                             state: domain.RegistryState, note: str | None) -> dict[str, Any]:
    current = await registry(uow, period)
    was = domain.RegistryState(current["state"])
    if state not in domain.REGISTRY_NEXT[was]:
        raise Conflict(f"the registry for {period} is {was}; it cannot become {state}",
                       current_state=str(was))
    stmt = insert(rent_registry).values(period=str(period), state=str(state),
                                        rows=current["rows"], total=current["total"],
                                        note=note, changed_by=actor.username)
    await uow.session.execute(stmt.on_conflict_do_update(
        index_elements=[rent_registry.c.period],
        set_={"state": stmt.excluded.state, "note": stmt.excluded.note,
              "changed_by": stmt.excluded.changed_by, "changed_at": sa.func.now()}))
    uow.audit("rent.registry_state", "rent_registry", str(period),
              before={"state": str(was)}, after={"state": str(state), "note": note,
                                                 "total": current["total"]})
    await uow.commit()
    return await registry(uow, period)


async def create_route(uow: BillingUnitOfWork, actor: Principal, name: str, courier: str,
                       stops: list[uuid.UUID]) -> dict[str, Any]:
    if len(set(stops)) != len(stops):
        raise InvalidInput("stops", "a site appears twice on the route")
    found = set((await uow.session.execute(sa.select(rent_agreement.c.id).where(
        rent_agreement.c.id.in_(stops)))).scalars())
    missing = [str(s) for s in stops if s not in found]
    if missing:
        raise InvalidInput("stops", f"unknown rent agreements: {', '.join(missing)}")
    route_id = uuid.uuid4()
    created = (await uow.session.execute(insert(cash_route).values(
        id=route_id, name=name, courier=courier).on_conflict_do_nothing().returning(
        cash_route.c.id))).first()
    if created is None:
        raise Conflict(f"a route named {name!r} exists", field="name")
    await uow.session.execute(cash_route_stop.insert(), [
        {"route_id": route_id, "agreement_id": a, "position": n}
        for n, a in enumerate(stops, start=1)])
    uow.audit("rent.route_created", "cash_route", route_id,
              after={"name": name, "courier": courier, "stops": stops})
    await uow.commit()
    return {"id": route_id, "name": name, "courier": courier, "stops": stops}


async def plan_route_month(uow: BillingUnitOfWork, actor: Principal, route_id: uuid.UUID,
                           period: Period) -> dict[str, Any]:
    """The month's cash for a route: each cash site's rent, in route order, and the sum."""
    route = (await uow.session.execute(sa.select(cash_route).where(cash_route.c.id == route_id))
             ).first()
    if route is None:
        raise NotFound(f"cash route {route_id} not found")
    stops = {r.agreement_id: r.position for r in await uow.session.execute(
        sa.select(cash_route_stop).where(cash_route_stop.c.route_id == route_id))}
    owed = await due(uow, period, PaymentForm.CASH, list(stops))
    month_id = uuid.uuid4()
    total = sum((r["amount"] for r in owed), ZERO)
    created = (await uow.session.execute(insert(cash_route_month).values(
        id=month_id, route_id=route_id, period=str(period), total=total,
        state=str(RouteState.PLANNED)).on_conflict_do_nothing().returning(
        cash_route_month.c.id))).first()
    if created is None:
        raise Conflict(f"the route's month {period} is planned already", field="period")
    if owed:
        await uow.session.execute(cash_route_item.insert(), [
            {"route_month_id": month_id, "agreement_id": r["id"], "position": stops[r["id"]],
             "amount": r["amount"]} for r in owed])
    uow.audit("rent.route_month_planned", "cash_route_month", month_id,
              after={"route": route.name, "period": str(period), "total": total})
    await uow.commit()
    return await route_month(uow, month_id)


async def _month(uow: BillingUnitOfWork, month_id: uuid.UUID) -> sa.RowMapping:
    row = (await uow.session.execute(sa.select(cash_route_month).where(
        cash_route_month.c.id == month_id).with_for_update())).mappings().first()
    if row is None:
        raise NotFound(f"route month {month_id} not found")
    return row


def _refuse(exc: domain.RouteError) -> Conflict:
    return Conflict(str(exc), current_state=str(exc.state))


async def request_cash(uow: BillingUnitOfWork, actor: Principal, month_id: uuid.UUID
                       ) -> dict[str, Any]:
    row = await _month(uow, month_id)
    try:
        state = domain.advance(RouteState(row["state"]), RouteState.REQUESTED)
    except domain.RouteError as exc:
        raise _refuse(exc) from None
    await uow.session.execute(cash_route_month.update().where(
        cash_route_month.c.id == month_id).values(state=str(state), requested_by=actor.username,
                                                  requested_at=sa.func.now()))
    route = (await uow.session.execute(sa.select(cash_route).where(
        cash_route.c.id == row["route_id"]))).one()
    uow.emit(ev.RentCashRequested(route_month_id=month_id, route=route.name,
                                  courier=route.courier, period=row["period"],
                                  total=row["total"]))
    uow.audit("rent.cash_requested", "cash_route_month", month_id,
              after={"total": row["total"]})
    await uow.commit()
    return await route_month(uow, month_id)


async def permit(uow: BillingUnitOfWork, actor: Principal, month_id: uuid.UUID,
                 permission_no: str) -> dict[str, Any]:
    row = await _month(uow, month_id)
    try:
        state = domain.advance(RouteState(row["state"]), RouteState.PERMITTED)
    except domain.RouteError as exc:
        raise _refuse(exc) from None
    await uow.session.execute(cash_route_month.update().where(
        cash_route_month.c.id == month_id).values(state=str(state), permission_no=permission_no,
                                                  permitted_by=actor.username,
                                                  permitted_at=sa.func.now()))
    uow.audit("rent.payment_permitted", "cash_route_month", month_id,
              after={"permission_no": permission_no})
    await uow.commit()
    return await route_month(uow, month_id)


async def confirm(uow: BillingUnitOfWork, actor: Principal, month_id: uuid.UUID,
                  agreement_id: uuid.UUID, *, paid_on: date, receipt_kind: domain.ReceiptKind,
                  receipt_no: str, courier_note: str | None) -> dict[str, Any]:
    """The courier's report for one site, with the receipt handed to accounting."""
    row = await _month(uow, month_id)
    try:
        domain.may_confirm(RouteState(row["state"]))
    except domain.RouteError as exc:
        raise _refuse(exc) from None
    item = (await uow.session.execute(sa.select(cash_route_item).where(
        cash_route_item.c.route_month_id == month_id,
        cash_route_item.c.agreement_id == agreement_id))).first()
    if item is None:
        raise NotFound("this site is not on the route's month")
    if item.confirmed_at is not None:
        raise Conflict("this site is confirmed already", current_state="confirmed")
    await uow.session.execute(cash_route_item.update().where(
        cash_route_item.c.route_month_id == month_id,
        cash_route_item.c.agreement_id == agreement_id).values(
        paid_on=paid_on, receipt_kind=str(receipt_kind), receipt_no=receipt_no,
        courier_note=courier_note, confirmed_by=actor.username, confirmed_at=sa.func.now()))
    confirmed = (await uow.session.execute(sa.select(
        cash_route_item.c.confirmed_at.is_not(None)).where(
        cash_route_item.c.route_month_id == month_id))).scalars()
    state = domain.after_confirmation(confirmed)
    if state is RouteState.CLOSED:
        await uow.session.execute(cash_route_month.update().where(
            cash_route_month.c.id == month_id).values(state=str(state),
                                                      closed_at=sa.func.now()))
        route = (await uow.session.execute(sa.select(cash_route).where(
            cash_route.c.id == row["route_id"]))).one()
        uow.emit(ev.RentRouteClosed(route_month_id=month_id, route=route.name,
                                    period=row["period"], total=row["total"]))
    uow.audit("rent.cash_confirmed", "cash_route_month", month_id,
              after={"agreement_id": agreement_id, "receipt_no": receipt_no,
                     "receipt_kind": str(receipt_kind), "paid_on": paid_on})
    await uow.commit()
    return await route_month(uow, month_id)


async def route_month(uow: BillingUnitOfWork, month_id: uuid.UUID) -> dict[str, Any]:
    row = (await uow.session.execute(
        sa.select(cash_route_month, cash_route.c.name.label("route"), cash_route.c.courier)
        .join(cash_route, cash_route.c.id == cash_route_month.c.route_id)
        .where(cash_route_month.c.id == month_id))).mappings().first()
    if row is None:
        raise NotFound(f"route month {month_id} not found")
    items = (await uow.session.execute(
        sa.select(cash_route_item, rent_agreement.c.number, rent_agreement.c.owner_name,
                  rent_agreement.c.site_name, rent_agreement.c.address)
        .join(rent_agreement, rent_agreement.c.id == cash_route_item.c.agreement_id)
        .where(cash_route_item.c.route_month_id == month_id)
        .order_by(cash_route_item.c.position))).mappings().all()
    return {**dict(row), "items": [dict(i) for i in items],
            "open_items": sum(1 for i in items if i["confirmed_at"] is None)}


async def open_items(uow: BillingUnitOfWork) -> list[dict[str, Any]]:
    """Every site on a route whose cash is not confirmed yet, oldest month first."""
    rows = (await uow.session.execute(
        sa.select(cash_route_month.c.id.label("route_month_id"), cash_route_month.c.period,
                  cash_route_month.c.state, cash_route.c.name.label("route"),
                  cash_route.c.courier, cash_route_item.c.agreement_id,
                  rent_agreement.c.site_name, rent_agreement.c.owner_name,
                  cash_route_item.c.amount)
        .join(cash_route, cash_route.c.id == cash_route_month.c.route_id)
        .join(cash_route_item, cash_route_item.c.route_month_id == cash_route_month.c.id)
        .join(rent_agreement, rent_agreement.c.id == cash_route_item.c.agreement_id)
        .where(cash_route_item.c.confirmed_at.is_(None))
        .order_by(cash_route_month.c.period, cash_route.c.name, cash_route_item.c.position))
    ).mappings().all()
    return [dict(r) for r in rows]
