"""Closing documents (seed 000 §4): for each delivered shipment a UPD and for each completed
work order an act are expected → sent → signed → the original returned; unsigned after N
working days the client is reminded, then the head is told. And the register of invoices,
acts and VAT invoices received from clients on their way to accounting (seed 004, questions
4-5: the commercial side logs them and hands them over)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import Event
from clientops_shared.events import logistics as ev
from clientops_shared.projections import client_row
from logistics.adapters import orm
from logistics.adapters.orm import closing_document, received_document
from logistics.domain.model import ClosingKind, ClosingStatus, ReceivedKind, closing_move
from logistics.service_layer import follow_up
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork


async def expect(uow: LogisticsUnitOfWork, *, client_id: uuid.UUID, kind: ClosingKind,
                 expected_on: date, shipment_id: uuid.UUID | None = None,
                 work_order_id: uuid.UUID | None = None, number: str | None = None,
                 amount: Decimal | None = None, actor: str = "system") -> uuid.UUID | None:
    """Expect the closing document of a shipment or work order (once per basis)."""
    created = (await uow.session.execute(insert(closing_document).values(
        id=uuid.uuid4(), client_id=client_id, kind=str(kind),
        status=str(ClosingStatus.EXPECTED), shipment_id=shipment_id,
        work_order_id=work_order_id, number=number, amount=amount, expected_on=expected_on,
        created_by=actor).on_conflict_do_nothing().returning(closing_document.c.id))).first()
    return None if created is None else created[0]


async def create(uow: LogisticsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                 kind: ClosingKind, expected_on: date, number: str | None,
                 amount: Decimal | None, shipment_id: uuid.UUID | None,
                 work_order_id: uuid.UUID | None) -> uuid.UUID:
    if await client_row(uow.session, orm.clients, client_id) is None:
        raise InvalidInput("client_id", "клиент не найден")
    document_id = await expect(uow, client_id=client_id, kind=kind, expected_on=expected_on,
                               shipment_id=shipment_id, work_order_id=work_order_id,
                               number=number, amount=amount, actor=actor.username)
    if document_id is None:
        raise Conflict("по этой отгрузке или заявке закрывающий документ уже есть",
                       field="shipment_id" if shipment_id else "work_order_id")
    uow.audit("closing_document.expected", "closing_document", document_id,
              after={"kind": kind, "number": number})
    await uow.commit()
    return document_id


async def _locked(uow: LogisticsUnitOfWork, document_id: uuid.UUID) -> sa.RowMapping:
    row = await uow.one(sa.select(closing_document).where(
        closing_document.c.id == document_id).with_for_update())
    if row is None:
        raise NotFound(f"закрывающий документ {document_id} не найден")
    return row


async def advance(uow: LogisticsUnitOfWork, actor: Principal, document_id: uuid.UUID,
                  wanted: ClosingStatus, on: date, *, number: str | None = None,
                  amount: Decimal | None = None) -> None:
    row = await _locked(uow, document_id)
    status = closing_move(ClosingStatus(row["status"]), wanted)
    date_field = {ClosingStatus.SENT: "sent_on", ClosingStatus.SIGNED: "signed_on",
                  ClosingStatus.RETURNED: "returned_on"}[status]
    before = {ClosingStatus.SENT: row["expected_on"], ClosingStatus.SIGNED: row["sent_on"],
              ClosingStatus.RETURNED: row["signed_on"]}[status]
    if before is not None and on < before:
        raise InvalidInput(date_field, f"дата раньше предыдущего шага ({before:%d.%m.%Y})")
    values: dict[str, Any] = {"status": str(status), date_field: on}
    if number is not None:
        values["number"] = number
    if amount is not None:
        values["amount"] = amount
    if status is ClosingStatus.SIGNED:
        uow.emit(ev.ClosingDocsSigned(document_id=document_id, client_id=row["client_id"],
                                      signed_on=on, shipment_id=row["shipment_id"],
                                      work_order_id=row["work_order_id"]))
    await uow.session.execute(closing_document.update().where(
        closing_document.c.id == document_id).values(**values))
    uow.audit(f"closing_document.{status}", "closing_document", document_id,
              before={"status": row["status"]}, after=values)
    await uow.commit()


async def control(logistics: Logistics, on: date) -> dict[str, Any]:
    """Daily: documents sent but unsigned get a reminder, then an escalation, once each."""

    async def events(uow: LogisticsUnitOfWork, row: sa.RowMapping) -> tuple[Event, Event]:
        common = {"document_id": row["id"], "client_id": row["client_id"],
                  "kind": row["kind"], "number": row["number"], "sent_on": row["sent_on"],
                  "shipment_id": row["shipment_id"], "work_order_id": row["work_order_id"]}
        return ev.ClosingDocsUnsigned(**common), ev.ClosingDocsOverdue(**common)

    return await follow_up.control(
        logistics, job="closing-docs-control", on=on, table=closing_document,
        status=str(ClosingStatus.SENT), anchor="sent_on", rule=logistics.closing,
        events=events)


# --- received from clients ----------------------------------------------------------------------

async def receive_document(uow: LogisticsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                           kind: ReceivedKind, number: str, issued_on: date,
                           amount: Decimal | None, received_on: date) -> uuid.UUID:
    if await client_row(uow.session, orm.clients, client_id) is None:
        raise InvalidInput("client_id", "клиент не найден")
    if received_on < issued_on:
        raise InvalidInput("received_on", "документ не мог прийти раньше, чем выставлен")
    document_id = uuid.uuid4()
    created = (await uow.session.execute(insert(received_document).values(
        id=document_id, client_id=client_id, kind=str(kind), number=number,
        issued_on=issued_on, amount=amount, received_on=received_on,
        created_by=actor.username).on_conflict_do_nothing().returning(received_document.c.id)
    )).first()
    if created is None:
        raise Conflict(f"документ № {number} от {issued_on:%d.%m.%Y} уже в реестре",
                       field="number")
    uow.audit("received_document.logged", "received_document", document_id,
              after={"kind": kind, "number": number, "amount": amount})
    await uow.commit()
    return document_id


async def hand_to_accounting(uow: LogisticsUnitOfWork, actor: Principal,
                             document_ids: list[uuid.UUID], handed_on: date) -> int:
    r = received_document
    rows = list((await uow.session.execute(sa.select(r).where(r.c.id.in_(document_ids))
                                           .with_for_update())).mappings())
    if len(rows) != len(set(document_ids)):
        raise InvalidInput("documents", "документ не найден в реестре")
    for row in rows:
        if row["accounting_on"] is not None:
            raise Conflict(f"документ № {row['number']} уже передан в бухгалтерию",
                           field="documents")
        if handed_on < row["received_on"]:
            raise InvalidInput("handed_on", "передача раньше получения документа")
    await uow.session.execute(r.update().where(r.c.id.in_(document_ids)).values(
        accounting_on=handed_on, accounting_by=actor.username))
    uow.audit("received_document.to_accounting", "received_document", ",".join(
        sorted(str(d) for d in document_ids))[:500], after={"handed_on": handed_on})
    await uow.commit()
    return len(rows)
