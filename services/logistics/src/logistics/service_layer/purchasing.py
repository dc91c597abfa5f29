"""Purchasing (seed 000 §9, 10): suppliers with contacts, price lists with history, purchase
orders → the supplier's invoice (→ billing's payables by event) → the expected ship date
watched → goods received (also remotely, with photos and documents) → stock. Purchase requests
from field-ops and the search for non-standard goods."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import logistics as ev
from clientops_shared.requisites import validate_inn
from clientops_shared.uploads import check_upload
from logistics.adapters.orm import (
    goods_search,
    item,
    purchase_attachment,
    purchase_order,
    purchase_order_line,
    purchase_request,
    supplier,
    supplier_price,
)
from logistics.domain.model import (
    Location,
    PurchaseStatus,
    RequestStatus,
    SearchStatus,
    purchase_move,
)
from logistics.service_layer import stock
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork

ATTACHMENT_LIMIT = 5 * 1024 * 1024
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


async def add_supplier(uow: LogisticsUnitOfWork, actor: Principal, *, name: str, inn: str,
                       contacts: list[dict[str, Any]], notes: str | None) -> uuid.UUID:
    try:
        inn = validate_inn(inn)
    except ValueError as exc:
        raise InvalidInput("inn", f"ИНН не прошёл проверку: {exc}") from None
    supplier_id = uuid.uuid4()
    created = (await uow.session.execute(insert(supplier).values(
        id=supplier_id, name=name, inn=inn, contacts=contacts, notes=notes,
        created_by=actor.username).on_conflict_do_nothing().returning(supplier.c.id))).first()
    if created is None:
        raise Conflict(f"поставщик с ИНН {inn} уже есть", field="inn")
    uow.audit("supplier.added", "supplier", supplier_id, after={"name": name, "inn": inn})
    await uow.commit()
    return supplier_id


async def _supplier(uow: LogisticsUnitOfWork, supplier_id: uuid.UUID,
                    field: str = "supplier_id") -> sa.RowMapping:
    row = await uow.one(sa.select(supplier).where(supplier.c.id == supplier_id))
    if row is None:
        raise InvalidInput(field, "поставщик не найден")
    return row


async def set_price(uow: LogisticsUnitOfWork, actor: Principal, supplier_id: uuid.UUID, *,
                    sku: str, price: Decimal, valid_from: date, availability: str | None
                    ) -> None:
    await _supplier(uow, supplier_id)
    await stock.item_row(uow, sku)
    await uow.session.execute(insert(supplier_price).values(
        supplier_id=supplier_id, item=sku, price=price, valid_from=valid_from,
        availability=availability, created_by=actor.username).on_conflict_do_update(
        constraint="supplier_price_once",
        set_={"price": price, "availability": availability}))
    uow.audit("supplier.price", "supplier", supplier_id,
              after={"item": sku, "price": price, "valid_from": valid_from})
    await uow.commit()


async def order(uow: LogisticsUnitOfWork, actor: Principal, *, supplier_id: uuid.UUID,
                lines: list[dict[str, Any]], expected_ship_on: date | None,
                request_id: uuid.UUID | None, note: str | None, today: date
                ) -> dict[str, Any]:
    await _supplier(uow, supplier_id)
    for i, line in enumerate(lines):
        await stock.item_row(uow, line["item"], f"lines.{i}.item")
    if expected_ship_on is not None and expected_ship_on < today:
        raise InvalidInput("expected_ship_on", "дата отгрузки уже прошла")
    order_id = uuid.uuid4()
    number = f"ЗП-{today.year}/{await uow.next_number('purchase_order', today.year):04d}"
    await uow.session.execute(purchase_order.insert().values(
        id=order_id, number=number, supplier_id=supplier_id,
        status=str(PurchaseStatus.ORDERED), request_id=request_id,
        expected_ship_on=expected_ship_on, note=note, created_by=actor.username))
    await uow.session.execute(purchase_order_line.insert(), [
        {"order_id": order_id, "item": line["item"], "quantity": line["quantity"],
         "price": line["price"]} for line in lines])
    if request_id is not None:
        await uow.session.execute(purchase_request.update().where(
            purchase_request.c.id == request_id).values(status=str(RequestStatus.ORDERED)))
    uow.audit("purchase_order.ordered", "purchase_order", order_id,
              after={"number": number, "lines": lines})
    await uow.commit()
    return {"id": order_id, "number": number, "status": str(PurchaseStatus.ORDERED)}


async def _locked(uow: LogisticsUnitOfWork, order_id: uuid.UUID) -> sa.RowMapping:
    row = await uow.one(sa.select(purchase_order, supplier.c.name.label("supplier_name"),
                                  supplier.c.inn.label("supplier_inn"))
                        .join(supplier, supplier.c.id == purchase_order.c.supplier_id)
                        .where(purchase_order.c.id == order_id)
                        .with_for_update(of=purchase_order))
    if row is None:
        raise NotFound(f"заказ поставщику {order_id} не найден")
    return row


async def _lines(uow: LogisticsUnitOfWork, order_id: uuid.UUID) -> list[sa.RowMapping]:
    return list((await uow.session.execute(sa.select(purchase_order_line).where(
        purchase_order_line.c.order_id == order_id).order_by(purchase_order_line.c.id)
    )).mappings())


async def record_invoice(uow: LogisticsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                         number: str, issued_on: date, amount: Decimal, vat: Decimal,
                         due_on: date | None) -> None:
    row = await _locked(uow, order_id)
    status = purchase_move(PurchaseStatus(row["status"]), PurchaseStatus.INVOICED)
    if vat > amount:
        raise InvalidInput("vat", "НДС больше суммы счёта")
    if due_on is not None and due_on < issued_on:
        raise InvalidInput("due_on", "срок оплаты раньше даты счёта")
    lines = await _lines(uow, order_id)
    description = "; ".join(f"{line['item']} × {line['quantity']}" for line in lines)
    await uow.session.execute(purchase_order.update().where(purchase_order.c.id == order_id)
                              .values(status=str(status), invoice_number=number,
                                      invoice_issued_on=issued_on, invoice_amount=amount,
                                      invoice_vat=vat, invoice_due_on=due_on))
    uow.emit(ev.SupplierInvoiceRecorded(
        purchase_order_id=order_id, order_number=row["number"],
        supplier_name=row["supplier_name"], supplier_inn=row["supplier_inn"], number=number,
        issued_on=issued_on, amount=amount, vat=vat, due_on=due_on,
        description=f"Заказ {row['number']}: {description}"[:500]))
    uow.audit("purchase_order.invoiced", "purchase_order", order_id,
              after={"number": number, "amount": amount, "vat": vat})
    await uow.commit()


async def expect_shipping(uow: LogisticsUnitOfWork, actor: Principal, order_id: uuid.UUID,
                          expected_ship_on: date) -> None:
    row = await _locked(uow, order_id)
    if row["status"] in (PurchaseStatus.RECEIVED, PurchaseStatus.CANCELLED):
        raise Conflict("заказ уже закрыт", current_state=row["status"])
    await uow.session.execute(purchase_order.update().where(purchase_order.c.id == order_id)
                              .values(expected_ship_on=expected_ship_on,
                                      overdue_flagged_on=None))
    uow.audit("purchase_order.ship_date", "purchase_order", order_id,
              before={"expected_ship_on": row["expected_ship_on"]},
              after={"expected_ship_on": expected_ship_on})
    await uow.commit()


async def attach(uow: LogisticsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                 filename: str, declared_type: str | None, data: bytes) -> uuid.UUID:
    """A photo or document of the goods (remote acceptance): sniffed and size-limited."""
    await _locked(uow, order_id)
    content_type = check_upload(declared_type, data[:16], len(data), ATTACHMENT_LIMIT,
                                accepted=ATTACHMENT_TYPES)
    attachment_id = uuid.uuid4()
    await uow.session.execute(purchase_attachment.insert().values(
        id=attachment_id, order_id=order_id, filename=filename[:200] or "file",
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        data=data, created_by=actor.username))
    uow.audit("purchase_order.attached", "purchase_order", order_id,
              after={"filename": filename, "content_type": content_type, "size": len(data)})
    await uow.commit()
    return attachment_id


async def receive(uow: LogisticsUnitOfWork, actor: Principal, order_id: uuid.UUID, *,
                  received_on: date, location: Location, serials: dict[str, list[str]],
                  remote: bool, note: str | None) -> None:
    """The goods arrived (checked on site, or remotely from photos): everything ordered goes
    into stock in one transaction; serial-tracked items need their serial numbers."""
    row = await _locked(uow, order_id)
    status = purchase_move(PurchaseStatus(row["status"]), PurchaseStatus.RECEIVED)
    if remote and not await uow.session.scalar(sa.select(sa.func.count()).select_from(
            purchase_attachment).where(purchase_attachment.c.order_id == order_id)):
        raise InvalidInput("remote", "для дистанционной приёмки приложите фото или документы")
    lines = await _lines(uow, order_id)
    unknown = set(serials) - {line["item"] for line in lines}
    if unknown:
        raise InvalidInput("serials", f"этих товаров нет в заказе: {', '.join(sorted(unknown))}")
    for line in lines:
        given = serials.get(line["item"])
        await stock.receive(uow, actor, sku=line["item"],
                            quantity=line["quantity"] if given is None else None,
                            serials=given, location=location, ref=row["number"],
                            note=f"Заказ {row['number']}", commit=False)
    await uow.session.execute(purchase_order.update().where(purchase_order.c.id == order_id)
                              .values(status=str(status), received_on=received_on,
                                      remote_acceptance=remote, acceptance_note=note))
    work_order_id = None
    if row["request_id"] is not None:
        request = (await uow.session.execute(purchase_request.update().where(
            purchase_request.c.id == row["request_id"]).values(status=str(RequestStatus.DONE))
            .returning(purchase_request.c.work_order_id))).first()
        work_order_id = request[0] if request else None
    uow.emit(ev.GoodsReceived(purchase_order_id=order_id, order_number=row["number"],
                              supplier_name=row["supplier_name"], received_on=received_on,
                              remote_acceptance=remote, request_id=row["request_id"],
                              work_order_id=work_order_id))
    uow.audit("purchase_order.received", "purchase_order", order_id,
              after={"received_on": received_on, "remote": remote})
    await uow.commit()


async def flag_overdue(logistics: Logistics, on: date) -> int:
    """Orders the supplier should have shipped by now: flagged once (event → a task)."""
    p = purchase_order
    flagged = 0
    async with logistics.uow() as uow:
        rows = list((await uow.session.execute(sa.select(
            p.c.id, p.c.number, p.c.expected_ship_on, supplier.c.name).join(
            supplier, supplier.c.id == p.c.supplier_id).where(
            p.c.status.in_([PurchaseStatus.ORDERED, PurchaseStatus.INVOICED]),
            p.c.expected_ship_on < on, p.c.overdue_flagged_on.is_(None))
            .with_for_update(of=p, skip_locked=True))).mappings())
        for row in rows:
            uow.emit(ev.PurchaseOrderOverdue(purchase_order_id=row["id"],
                                             order_number=row["number"],
                                             supplier_name=row["name"],
                                             expected_ship_on=row["expected_ship_on"]))
            await uow.session.execute(p.update().where(p.c.id == row["id"])
                                      .values(overdue_flagged_on=on))
            flagged += 1
        await uow.commit()
    return flagged


# --- purchase requests (field-ops) and the search for non-standard goods ------------------------

async def request_parts(uow: LogisticsUnitOfWork, actor: Principal, *,
                        request_id: uuid.UUID | None, work_order_id: uuid.UUID | None,
                        client_id: uuid.UUID | None, site_id: uuid.UUID | None,
                        lines: list[dict[str, Any]], needed_by: date | None,
                        source: str) -> dict[str, Any]:
    """Parts a work order needs: what is in stock is reserved for the work order at once;
    the rest waits for a purchase order. Once per request id (a redelivered event or a
    retried request changes nothing)."""
    request_id = request_id or uuid.uuid4()
    created = (await uow.session.execute(insert(purchase_request).values(
        id=request_id, work_order_id=work_order_id, client_id=client_id, site_id=site_id,
        lines=lines, needed_by=needed_by, status=str(RequestStatus.OPEN), source=source,
        created_by=actor.username).on_conflict_do_nothing().returning(purchase_request.c.id)
    )).first()
    if created is None:
        return {"id": request_id, "status": "duplicate"}
    outcome = []
    for line in lines:
        found = await uow.one(sa.select(item).where(item.c.sku == line["item"]))
        reserved = False
        if found is not None and found["tracking"] == "count":
            async with uow.session.begin_nested():
                try:
                    await stock.reserve(uow, actor, sku=line["item"],
                                        quantity=int(line["quantity"]), serials=None,
                                        work_order_id=work_order_id, commit=False,
                                        note=f"Заявка на детали {request_id}")
                    reserved = True
                except Conflict:
                    reserved = False
        outcome.append({**line, "reserved": reserved})
    status = (RequestStatus.RESERVED if all(x["reserved"] for x in outcome)
              else RequestStatus.OPEN)
    await uow.session.execute(purchase_request.update().where(
        purchase_request.c.id == request_id).values(lines=outcome, status=str(status)))
    uow.audit("purchase_request.received", "purchase_request", request_id,
              after={"lines": outcome, "source": source})
    await uow.commit()
    return {"id": request_id, "status": str(status), "lines": outcome}


async def open_search(uow: LogisticsUnitOfWork, actor: Principal, *, title: str,
                      description: str | None) -> uuid.UUID:
    search_id = uuid.uuid4()
    await uow.session.execute(goods_search.insert().values(
        id=search_id, title=title, description=description, status=str(SearchStatus.OPEN),
        created_by=actor.username))
    uow.audit("goods_search.opened", "goods_search", search_id, after={"title": title})
    await uow.commit()
    return search_id


async def search_note(uow: LogisticsUnitOfWork, actor: Principal, search_id: uuid.UUID, *,
                      text: str, status: SearchStatus | None,
                      supplier_id: uuid.UUID | None, on: date) -> None:
    row = await uow.one(sa.select(goods_search).where(goods_search.c.id == search_id)
                        .with_for_update())
    if row is None:
        raise NotFound(f"поиск товара {search_id} не найден")
    if row["status"] == SearchStatus.CLOSED:
        raise Conflict("поиск уже закрыт", current_state=row["status"])
    if supplier_id is not None:
        await _supplier(uow, supplier_id)
    values: dict[str, Any] = {"notes": [*row["notes"], {"on": on.isoformat(),
                                                         "by": actor.username, "text": text}]}
    if status is not None:
        values["status"] = str(status)
    if supplier_id is not None:
        values["supplier_id"] = supplier_id
    await uow.session.execute(goods_search.update().where(goods_search.c.id == search_id)
                              .values(**values))
    uow.audit("goods_search.noted", "goods_search", search_id,
              after={"text": text, "status": status})
    await uow.commit()
