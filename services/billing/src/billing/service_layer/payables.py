"""Payables use cases: enter, approve, request payment, mark paid or reject; PlanFact sync.

The state change commits first (with its audit row and event); PlanFact is called after the
commit, never inside the transaction, and the outcome of the call is recorded on the row
(``planfact_state``: pending → synced, or failed with the error). A periodic job retries what
is pending or failed, so PlanFact being down never blocks the desk.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.orm import supplier_invoice
from billing.adapters.planfact import Outcome, PlanFactError, PlanFactPort
from billing.domain.payables import IllegalMove, PayableCategory, PayableStatus, committed, move
from billing.service_layer.unit_of_work import Billing, BillingUnitOfWork
from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import billing as ev

log = logging.getLogger("billing.payables")


async def enter(uow: BillingUnitOfWork, actor: Principal, *, supplier_name: str,
                supplier_inn: str, number: str, issued_on: date, amount: Decimal, vat: Decimal,
                due_on: date | None, category: PayableCategory, description: str
                ) -> uuid.UUID:
    if vat > amount:
        raise InvalidInput("vat", "VAT cannot exceed the invoice amount")
    if due_on is not None and due_on < issued_on:
        raise InvalidInput("due_on", "the invoice cannot be due before it was issued")
    payable_id = uuid.uuid4()
    created = (await uow.session.execute(insert(supplier_invoice).values(
        id=payable_id, supplier_name=supplier_name, supplier_inn=supplier_inn, number=number,
        issued_on=issued_on, amount=amount, vat=vat, due_on=due_on, category=str(category),
        description=description, source="manual", status=str(PayableStatus.RECEIVED),
        created_by=actor.username).on_conflict_do_nothing().returning(supplier_invoice.c.id)
    )).first()
    if created is None:
        raise Conflict(f"invoice {number} of {supplier_inn} from {issued_on} is entered already",
                       field="number")
    uow.audit("payable.entered", "supplier_invoice", payable_id,
              after={"supplier_inn": supplier_inn, "number": number, "amount": amount})
    await uow.commit()
    return payable_id


async def from_logistics(uow: BillingUnitOfWork, *, purchase_order: str, supplier_name: str,
                         supplier_inn: str, number: str, issued_on: date, amount: Decimal,
                         vat: Decimal, due_on: date | None, category: str, description: str
                         ) -> bool:
    """A supplier's invoice the logistics desk recorded for a purchase order becomes a payable
    here, as if entered by hand (seed 000 §10); the same invoice twice is one payable.
    False when it was there already."""
    try:
        kind = PayableCategory(category)
    except ValueError:
        kind = PayableCategory.OTHER
    payable_id = uuid.uuid4()
    created = (await uow.session.execute(insert(supplier_invoice).values(
        id=payable_id, supplier_name=supplier_name, supplier_inn=supplier_inn, number=number,
        issued_on=issued_on, amount=amount, vat=min(vat, amount), due_on=due_on,
        category=str(kind), description=f"{description} (заказ {purchase_order})",
        source="logistics", status=str(PayableStatus.RECEIVED), created_by="logistics",
    ).on_conflict_do_nothing().returning(supplier_invoice.c.id))).first()
    if created is None:
        return False
    uow.audit("payable.entered", "supplier_invoice", payable_id,
              after={"supplier_inn": supplier_inn, "number": number, "amount": amount,
                     "source": "logistics", "purchase_order": purchase_order})
    return True


async def transition(uow: BillingUnitOfWork, actor: Principal, payable_id: uuid.UUID,
                     wanted: PayableStatus, *, paid_on: date | None = None,
                     reason: str | None = None) -> None:
    row = (await uow.session.execute(sa.select(supplier_invoice).where(
        supplier_invoice.c.id == payable_id).with_for_update())).mappings().first()
    if row is None:
        raise NotFound(f"supplier invoice {payable_id} not found")
    try:
        status = move(PayableStatus(row["status"]), wanted)
    except IllegalMove as exc:
        raise Conflict(str(exc), current_state=str(exc.current)) from None
    values: dict[str, Any] = {"status": str(status), "planfact_state": "pending",
                              "planfact_error": None}
    if status is PayableStatus.APPROVED:
        values["approved_by"] = actor.username
    elif status is PayableStatus.PAYMENT_REQUESTED:
        values["requested_by"] = actor.username
        uow.emit(ev.PayablePaymentRequested(
            payable_id=payable_id, supplier_name=row["supplier_name"],
            supplier_inn=row["supplier_inn"], number=row["number"], amount=row["amount"],
            due_on=row["due_on"], requested_by=actor.username))
    elif status is PayableStatus.PAID:
        assert paid_on is not None
        values["paid_on"] = paid_on
        uow.emit(ev.PayablePaid(payable_id=payable_id, supplier_name=row["supplier_name"],
                                number=row["number"], amount=row["amount"], paid_on=paid_on))
    elif status is PayableStatus.REJECTED:
        values["reason"] = reason
    await uow.session.execute(supplier_invoice.update().where(
        supplier_invoice.c.id == payable_id).values(**values))
    uow.audit(f"payable.{status}", "supplier_invoice", payable_id,
              before={"status": row["status"]}, after={k: v for k, v in values.items()
                                                       if not k.startswith("planfact")})
    await uow.commit()


def _outcome(row: sa.RowMapping) -> Outcome:
    status = PayableStatus(row["status"])
    when = (row["paid_on"] if status is PayableStatus.PAID
            else row["due_on"] or row["issued_on"])
    return Outcome(external_id=str(row["id"]), operation_date=when, amount=row["amount"],
                   committed=committed(status), counterparty=row["supplier_name"],
                   counterparty_inn=row["supplier_inn"],
                   comment=f"Счёт № {row['number']} от {row['issued_on']:%d.%m.%Y}: "
                           f"{row['description']}",
                   category=row["category"])


async def sync(billing: Billing, port: PlanFactPort, payable_id: uuid.UUID) -> str:
    """Mirror one supplier invoice in PlanFact; records and returns the sync state."""
    async with billing.engine.connect() as conn:
        row = (await conn.execute(sa.select(supplier_invoice).where(
            supplier_invoice.c.id == payable_id))).mappings().first()
    if row is None:
        raise NotFound(f"supplier invoice {payable_id} not found")
    operation_id = row["planfact_operation_id"]
    try:
        if row["status"] == PayableStatus.REJECTED:
            if operation_id is not None:
                await port.delete_outcome(operation_id)
            operation_id, state, error = None, "synced", None
        else:
            operation_id = await port.save_outcome(_outcome(row), operation_id)
            state, error = "synced", None
    except PlanFactError as exc:
        log.warning("PlanFact sync of %s failed: %s", payable_id, exc)
        state, error = "failed", str(exc)[:500]
    async with billing.engine.begin() as conn:
        # only if nothing moved meanwhile; otherwise the newer state is synced next
        await conn.execute(supplier_invoice.update().where(
            supplier_invoice.c.id == payable_id, supplier_invoice.c.status == row["status"]
        ).values(planfact_operation_id=operation_id, planfact_state=state,
                 planfact_error=error))
    return state


async def sync_pending(billing: Billing, port: PlanFactPort, limit: int = 200) -> int:
    """The retry job: sync what is pending or failed; returns how many synced now."""
    async with billing.engine.connect() as conn:
        ids = list((await conn.execute(sa.select(supplier_invoice.c.id).where(
            supplier_invoice.c.planfact_state.in_(("pending", "failed")))
            .order_by(supplier_invoice.c.created_at).limit(limit))).scalars())
    synced = 0
    for payable_id in ids:
        synced += await sync(billing, port, payable_id) == "synced"
    return synced


async def get(billing: Billing, payable_id: uuid.UUID) -> dict[str, Any]:
    async with billing.engine.connect() as conn:
        row = (await conn.execute(sa.select(supplier_invoice).where(
            supplier_invoice.c.id == payable_id))).mappings().first()
    if row is None:
        raise NotFound(f"supplier invoice {payable_id} not found")
    return dict(row)


async def listing(billing: Billing, status: str | None) -> list[dict[str, Any]]:
    stmt = sa.select(supplier_invoice).order_by(supplier_invoice.c.due_on.nulls_last(),
                                                supplier_invoice.c.created_at)
    if status:
        stmt = stmt.where(supplier_invoice.c.status == status)
    async with billing.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]
