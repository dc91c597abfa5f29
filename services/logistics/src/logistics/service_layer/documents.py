"""The document courier (seed 004 §6): request → journal number → courier → delivered →
originals back, per document → reminder → the head told → originals to accounting."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from clientops_shared.auth import Principal
from clientops_shared.errors import InvalidInput, NotFound
from clientops_shared.events import Event
from clientops_shared.events import logistics as ev
from clientops_shared.projections import client_row
from logistics.adapters import orm
from logistics.adapters.orm import delivery_document, document_delivery
from logistics.domain.model import (
    DEFAULT_ORIGINALS_DAYS,
    CourierKind,
    DeliveryStatus,
    delivery_move,
    journal_number,
)
from logistics.service_layer import follow_up
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork


async def register(uow: LogisticsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                   documents: list[tuple[str, bool]], originals_due_on: date | None,
                   address: str | None, note: str | None, registered_on: date
                   ) -> dict[str, Any]:
    """A request enters the journal. A past ``originals_due_on`` is allowed: deliveries made
    before the journal existed are entered afterwards (seed 004 §6 — done without one)."""
    if await client_row(uow.session, orm.clients, client_id) is None:
        raise InvalidInput("client_id", "клиент не найден")
    delivery_id = uuid.uuid4()
    number = journal_number(registered_on.year,
                            await uow.next_number("document_delivery", registered_on.year))
    await uow.session.execute(document_delivery.insert().values(
        id=delivery_id, journal_number=number, client_id=client_id,
        status=str(DeliveryStatus.REGISTERED), address=address, note=note,
        originals_due_on=originals_due_on, created_by=actor.username))
    await uow.session.execute(delivery_document.insert(), [
        {"id": uuid.uuid4(), "delivery_id": delivery_id, "position": i + 1, "title": title,
         "original_required": required} for i, (title, required) in enumerate(documents)])
    uow.audit("document_delivery.registered", "document_delivery", delivery_id,
              after={"journal_number": number, "documents": [d[0] for d in documents]})
    await uow.commit()
    return {"id": delivery_id, "journal_number": number}


async def _locked(uow: LogisticsUnitOfWork, delivery_id: uuid.UUID) -> sa.RowMapping:
    row = await uow.one(sa.select(document_delivery).where(
        document_delivery.c.id == delivery_id).with_for_update())
    if row is None:
        raise NotFound(f"доставка документов {delivery_id} не найдена")
    return row


async def _documents(uow: LogisticsUnitOfWork, delivery_id: uuid.UUID) -> list[sa.RowMapping]:
    return list((await uow.session.execute(sa.select(delivery_document).where(
        delivery_document.c.delivery_id == delivery_id).order_by(delivery_document.c.position)
        .with_for_update())).mappings())


async def _set(uow: LogisticsUnitOfWork, row: sa.RowMapping, action: str,
               **values: Any) -> None:
    await uow.session.execute(document_delivery.update().where(
        document_delivery.c.id == row["id"]).values(**values))
    uow.audit(f"document_delivery.{action}", "document_delivery", row["id"],
              before={"status": row["status"]}, after=values)
    await uow.commit()


async def handed(uow: LogisticsUnitOfWork, actor: Principal, delivery_id: uuid.UUID, *,
                 courier: str, courier_kind: CourierKind, handed_on: date) -> None:
    row = await _locked(uow, delivery_id)
    status = delivery_move(DeliveryStatus(row["status"]), DeliveryStatus.HANDED)
    await _set(uow, row, "handed", status=str(status), courier=courier,
               courier_kind=str(courier_kind), handed_on=handed_on)


async def delivered(uow: LogisticsUnitOfWork, actor: Principal, delivery_id: uuid.UUID, *,
                    delivered_on: date) -> None:
    row = await _locked(uow, delivery_id)
    if row["handed_on"] is not None and delivered_on < row["handed_on"]:
        raise InvalidInput("delivered_on", f"доставка не может быть раньше передачи курьеру "
                                           f"({row['handed_on']:%d.%m.%Y})")
    status = delivery_move(DeliveryStatus(row["status"]), DeliveryStatus.DELIVERED)
    due = row["originals_due_on"] or delivered_on + timedelta(days=DEFAULT_ORIGINALS_DAYS)
    docs = await _documents(uow, delivery_id)
    if not any(d["original_required"] for d in docs):
        # nothing to come back: the delivery is complete as soon as it is delivered
        await _set(uow, row, "delivered", status=str(DeliveryStatus.RETURNED),
                   delivered_on=delivered_on, returned_on=delivered_on)
        return
    await _set(uow, row, "delivered", status=str(status), delivered_on=delivered_on,
               originals_due_on=due)


async def returned(uow: LogisticsUnitOfWork, actor: Principal, delivery_id: uuid.UUID, *,
                   returned_on: date, document_ids: list[uuid.UUID] | None) -> dict[str, Any]:
    row = await _locked(uow, delivery_id)
    if row["status"] != DeliveryStatus.DELIVERED:
        delivery_move(DeliveryStatus(row["status"]), DeliveryStatus.RETURNED)
    if row["delivered_on"] is not None and returned_on < row["delivered_on"]:
        raise InvalidInput("returned_on", f"оригиналы не могут вернуться раньше доставки "
                                          f"({row['delivered_on']:%d.%m.%Y})")
    docs = await _documents(uow, delivery_id)
    outstanding = {d["id"] for d in docs if d["original_required"] and d["returned_on"] is None}
    chosen = set(document_ids) if document_ids else outstanding
    unknown = chosen - {d["id"] for d in docs}
    if unknown:
        raise InvalidInput("documents", "документ не из этой доставки")
    if not chosen <= outstanding:
        raise InvalidInput("documents", "оригинал этого документа уже возвращён или не нужен")
    await uow.session.execute(delivery_document.update().where(
        delivery_document.c.id.in_(list(chosen))).values(returned_on=returned_on))
    left = outstanding - chosen
    values: dict[str, Any] = {}
    if not left:
        values = {"status": str(DeliveryStatus.RETURNED), "returned_on": returned_on}
        uow.emit(ev.OriginalsReturned(delivery_id=delivery_id,
                                      journal_number=row["journal_number"],
                                      client_id=row["client_id"], returned_on=returned_on))
    uow.audit("document_delivery.originals_returned", "document_delivery", delivery_id,
              after={"documents": sorted(str(d) for d in chosen), "returned_on": returned_on})
    if values:
        await uow.session.execute(document_delivery.update().where(
            document_delivery.c.id == delivery_id).values(**values))
    await uow.commit()
    return {"id": delivery_id, "outstanding": len(left),
            "status": values.get("status", row["status"])}


async def to_accounting(uow: LogisticsUnitOfWork, actor: Principal, delivery_id: uuid.UUID, *,
                        handed_on: date, mark: str | None) -> None:
    row = await _locked(uow, delivery_id)
    status = delivery_move(DeliveryStatus(row["status"]), DeliveryStatus.ARCHIVED)
    if row["returned_on"] is not None and handed_on < row["returned_on"]:
        raise InvalidInput("handed_on", "передать в бухгалтерию можно только после возврата")
    await _set(uow, row, "to_accounting", status=str(status), accounting_on=handed_on,
               accounting_mark=mark or f"Оригиналы переданы в бухгалтерию {handed_on:%d.%m.%Y}")


async def control(logistics: Logistics, on: date) -> dict[str, Any]:
    """The daily originals control for ``on``: once per date across replicas."""

    async def events(uow: LogisticsUnitOfWork, row: sa.RowMapping) -> tuple[Event, Event]:
        titles = [doc["title"] for doc in await _documents(uow, row["id"])
                  if doc["original_required"] and doc["returned_on"] is None]
        common = {"delivery_id": row["id"], "journal_number": row["journal_number"],
                  "client_id": row["client_id"], "due_on": row["originals_due_on"],
                  "documents": titles}
        return ev.OriginalsReminderDue(**common), ev.OriginalsOverdue(**common)

    return await follow_up.control(
        logistics, job="originals-control", on=on, table=document_delivery,
        status=str(DeliveryStatus.DELIVERED), anchor="originals_due_on",
        rule=logistics.originals, events=events)
