"""Read side: lists for the desk, with Russian labels next to every code."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from clientops_shared.errors import NotFound
from logistics.adapters import orm
from logistics.adapters.orm import (
    delivery_document,
    document_delivery,
    item,
    reservation,
    shipment,
    shipment_line,
    stock_balance,
    stock_move,
    stock_serial,
)
from logistics.domain.model import (
    CARRIER_LABELS,
    CARRIER_STATUS_LABELS,
    CLOSING_KIND_LABELS,
    CLOSING_LABELS,
    COURIER_KIND_LABELS,
    DELIVERY_LABELS,
    ITEM_KIND_LABELS,
    LOCATION_LABELS,
    MOVE_REASON_LABELS,
    OWN_LOCATIONS,
    PURCHASE_LABELS,
    RECEIVED_KIND_LABELS,
    REQUEST_LABELS,
    RESERVATION_LABELS,
    SEARCH_LABELS,
    SERIAL_LABELS,
    SHIPMENT_LABELS,
    TRACKING_LABELS,
    Carrier,
    CarrierStatus,
    ClosingKind,
    ClosingStatus,
    CourierKind,
    DeliveryStatus,
    ItemKind,
    Location,
    MoveReason,
    PurchaseStatus,
    ReceivedKind,
    RequestStatus,
    ReservationStatus,
    SearchStatus,
    SerialState,
    ShipmentStatus,
    Tracking,
    price_change_percent,
)

Page = tuple[int, list[dict[str, Any]]]


async def _page(session: AsyncSession, query: sa.Select[Any], limit: int, offset: int) -> Page:
    total = int((await session.execute(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery()))).scalar_one())
    rows = [dict(r) for r in (await session.execute(query.limit(limit).offset(offset)))
            .mappings()]
    return total, rows


def _item_labels(row: dict[str, Any]) -> dict[str, Any]:
    row["kind_label"] = ITEM_KIND_LABELS[ItemKind(row["kind"])]
    if "tracking" in row:
        row["tracking_label"] = TRACKING_LABELS[Tracking(row["tracking"])]
    return row


async def items(session: AsyncSession, limit: int, offset: int) -> Page:
    total, rows = await _page(session, sa.select(
        item.c.sku, item.c.name, item.c.kind, item.c.tracking, item.c.min_stock
    ).order_by(item.c.kind, item.c.name), limit, offset)
    return total, [_item_labels(r) for r in rows]


async def stock(session: AsyncSession, *, sku: str | None, location: str | None, limit: int,
                offset: int) -> Page:
    b = stock_balance
    own = sa.select(b.c.item, sa.func.sum(b.c.on_hand - b.c.reserved).label("own")).where(
        b.c.location.in_([str(x) for x in OWN_LOCATIONS])).group_by(b.c.item).subquery()
    query = (sa.select(b.c.item, item.c.name.label("item_name"), item.c.kind, b.c.location,
                       b.c.on_hand, b.c.reserved, (b.c.on_hand - b.c.reserved).label("available"),
                       item.c.min_stock, sa.func.coalesce(own.c.own, 0).label("own_available"))
             .join(item, item.c.sku == b.c.item).outerjoin(own, own.c.item == b.c.item)
             .where(b.c.on_hand > 0).order_by(b.c.location, item.c.name))
    if sku:
        query = query.where(b.c.item == sku)
    if location:
        query = query.where(b.c.location == location)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        _item_labels(r)
        r["location_name"] = LOCATION_LABELS[Location(r["location"])]
        r["low"] = r["min_stock"] > 0 and r.pop("own_available") < r["min_stock"]
    return total, rows


async def serials(session: AsyncSession, *, sku: str | None, location: str | None,
                  state: str | None, limit: int, offset: int) -> Page:
    s = stock_serial
    query = sa.select(s.c.item, item.c.name.label("item_name"), s.c.serial, s.c.location,
                      s.c.state, s.c.site_id).join(item, item.c.sku == s.c.item).order_by(
        s.c.item, s.c.serial)
    for column, value in ((s.c.item, sku), (s.c.location, location), (s.c.state, state)):
        if value:
            query = query.where(column == value)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["location_name"] = LOCATION_LABELS[Location(r["location"])]
        r["state_label"] = SERIAL_LABELS[SerialState(r["state"])]
    return total, rows


async def moves(session: AsyncSession, *, sku: str | None, limit: int, offset: int) -> Page:
    query = sa.select(stock_move, item.c.name.label("item_name")).join(
        item, item.c.sku == stock_move.c.item).order_by(stock_move.c.id.desc())
    if sku:
        query = query.where(stock_move.c.item == sku)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["reason_label"] = MOVE_REASON_LABELS[MoveReason(r["reason"])]
    return total, rows


async def reservations(session: AsyncSession, *, status: str | None,
                       work_order_id: uuid.UUID | None, sku: str | None, limit: int,
                       offset: int) -> Page:
    r_ = reservation
    query = sa.select(r_, item.c.name.label("item_name")).join(
        item, item.c.sku == r_.c.item).order_by(r_.c.created_at.desc())
    for column, value in ((r_.c.status, status), (r_.c.work_order_id, work_order_id),
                          (r_.c.item, sku)):
        if value:
            query = query.where(column == value)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["status_label"] = RESERVATION_LABELS[ReservationStatus(r["status"])]
        r["location_name"] = LOCATION_LABELS[Location(r["location"])]
    return total, rows


def _visible(query: sa.Select[Any], client_column: Any, actor: Principal) -> sa.Select[Any]:
    if actor.sees_all_clients:
        return query
    return query.where(client_column.in_(sa.select(orm.clients.c.client_id).where(
        orm.clients.c.manager == actor.username)))


def _shipment_labels(r: dict[str, Any]) -> dict[str, Any]:
    r["carrier_label"] = CARRIER_LABELS[Carrier(r["carrier"])]
    r["status_label"] = SHIPMENT_LABELS[ShipmentStatus(r["status"])]
    r["carrier_status_label"] = (CARRIER_STATUS_LABELS[CarrierStatus(r["carrier_status"])]
                                 if r["carrier_status"] else None)
    return r


async def shipments(session: AsyncSession, actor: Principal, *, status: str | None,
                    client_id: uuid.UUID | None, carrier: str | None, limit: int,
                    offset: int, shipment_id: uuid.UUID | None = None) -> Page:
    query = _visible(sa.select(shipment, orm.clients.c.name.label("client_name")).outerjoin(
        orm.clients, orm.clients.c.client_id == shipment.c.client_id), shipment.c.client_id,
        actor).order_by(shipment.c.created_at.desc())
    for column, value in ((shipment.c.status, status), (shipment.c.client_id, client_id),
                          (shipment.c.carrier, carrier), (shipment.c.id, shipment_id)):
        if value:
            query = query.where(column == value)
    total, rows = await _page(session, query, limit, offset)
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    if rows:
        for line in (await session.execute(sa.select(
                shipment_line.c.shipment_id, shipment_line.c.item, item.c.name.label("item_name"),
                item.c.kind, shipment_line.c.quantity, shipment_line.c.serials,
                shipment_line.c.reservation_id).join(item, item.c.sku == shipment_line.c.item)
                .where(shipment_line.c.shipment_id.in_(list(lines)))
                .order_by(shipment_line.c.id))).mappings():
            lines[line["shipment_id"]].append(_item_labels(
                {k: v for k, v in line.items() if k != "shipment_id"}))
    for r in rows:
        _shipment_labels(r)
        r["lines"] = lines[r["id"]]
    return total, rows


async def shipment_detail(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID
                          ) -> dict[str, Any]:
    _, rows = await shipments(session, actor, status=None, client_id=None, carrier=None,
                              limit=1, offset=0, shipment_id=shipment_id)
    if not rows:
        raise NotFound(f"отгрузка {shipment_id} не найдена")
    return rows[0]


async def deliveries(session: AsyncSession, actor: Principal, *, status: str | None,
                     client_id: uuid.UUID | None, overdue_only: bool, today: date, limit: int,
                     offset: int, delivery_id: uuid.UUID | None = None) -> Page:
    d = document_delivery
    late = sa.and_(d.c.status == DeliveryStatus.DELIVERED, d.c.originals_due_on < today)
    query = _visible(sa.select(d, orm.clients.c.name.label("client_name"),
                               late.label("overdue")).outerjoin(
        orm.clients, orm.clients.c.client_id == d.c.client_id), d.c.client_id, actor
    ).order_by(late.desc(), d.c.originals_due_on.nulls_last(), d.c.journal_number)
    for column, value in ((d.c.status, status), (d.c.client_id, client_id),
                          (d.c.id, delivery_id)):
        if value:
            query = query.where(column == value)
    if overdue_only:
        query = query.where(late)
    total, rows = await _page(session, query, limit, offset)
    docs: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    if rows:
        for doc in (await session.execute(sa.select(delivery_document).where(
                delivery_document.c.delivery_id.in_(list(docs))).order_by(
                delivery_document.c.position))).mappings():
            docs[doc["delivery_id"]].append({k: doc[k] for k in (
                "id", "title", "original_required", "returned_on")})
    for r in rows:
        r["status_label"] = DELIVERY_LABELS[DeliveryStatus(r["status"])]
        r["courier_kind_label"] = (COURIER_KIND_LABELS[CourierKind(r["courier_kind"])]
                                   if r["courier_kind"] else None)
        r["days_overdue"] = (today - r["originals_due_on"]).days if r["overdue"] else 0
        r["documents"] = docs[r["id"]]
    return total, rows


async def delivery_detail(session: AsyncSession, actor: Principal, delivery_id: uuid.UUID,
                          today: date) -> dict[str, Any]:
    _, rows = await deliveries(session, actor, status=None, client_id=None, overdue_only=False,
                               today=today, limit=1, offset=0, delivery_id=delivery_id)
    if not rows:
        raise NotFound(f"доставка документов {delivery_id} не найдена")
    return rows[0]


async def courier_accounts(session: AsyncSession) -> list[dict[str, Any]]:
    rows = [dict(r) for r in (await session.execute(sa.select(orm.courier_account).order_by(
        orm.courier_account.c.carrier))).mappings()]
    for r in rows:
        r["carrier_label"] = CARRIER_LABELS[Carrier(r["carrier"])]
    return rows


async def closing_documents(session: AsyncSession, actor: Principal, *, status: str | None,
                            client_id: uuid.UUID | None, today: date, limit: int,
                            offset: int) -> Page:
    c = orm.closing_document
    query = _visible(sa.select(c, orm.clients.c.name.label("client_name"),
                               shipment.c.number.label("shipment_number")).outerjoin(
        orm.clients, orm.clients.c.client_id == c.c.client_id).outerjoin(
        shipment, shipment.c.id == c.c.shipment_id), c.c.client_id, actor).order_by(
        (c.c.status == ClosingStatus.SENT).desc(), c.c.sent_on.nulls_last(), c.c.expected_on)
    for column, value in ((c.c.status, status), (c.c.client_id, client_id)):
        if value:
            query = query.where(column == value)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["kind_label"] = CLOSING_KIND_LABELS[ClosingKind(r["kind"])]
        r["status_label"] = CLOSING_LABELS[ClosingStatus(r["status"])]
        r["days_unsigned"] = ((today - r["sent_on"]).days
                              if r["status"] == ClosingStatus.SENT and r["sent_on"] else 0)
    return total, rows


async def received_documents(session: AsyncSession, actor: Principal, *, pending: bool,
                             client_id: uuid.UUID | None, limit: int, offset: int) -> Page:
    r_ = orm.received_document
    query = _visible(sa.select(r_, orm.clients.c.name.label("client_name")).outerjoin(
        orm.clients, orm.clients.c.client_id == r_.c.client_id), r_.c.client_id, actor
    ).order_by(r_.c.accounting_on.is_not(None), r_.c.received_on.desc())
    if pending:
        query = query.where(r_.c.accounting_on.is_(None))
    if client_id:
        query = query.where(r_.c.client_id == client_id)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["kind_label"] = RECEIVED_KIND_LABELS[ReceivedKind(r["kind"])]
    return total, rows


# --- purchasing --------------------------------------------------------------------------------

async def suppliers(session: AsyncSession, limit: int, offset: int) -> Page:
    return await _page(session, sa.select(
        orm.supplier.c.id, orm.supplier.c.name, orm.supplier.c.inn, orm.supplier.c.contacts,
        orm.supplier.c.notes).order_by(orm.supplier.c.name), limit, offset)


async def prices(session: AsyncSession, *, supplier_id: uuid.UUID | None, sku: str | None,
                 latest_only: bool, limit: int, offset: int) -> Page:
    """Price history with the change against the supplier's previous price of the item."""
    sp = orm.supplier_price
    previous = sa.func.lag(sp.c.price).over(partition_by=(sp.c.supplier_id, sp.c.item),
                                            order_by=sp.c.valid_from)
    newest = sa.func.row_number().over(partition_by=(sp.c.supplier_id, sp.c.item),
                                       order_by=sp.c.valid_from.desc())
    inner = sa.select(sp.c.supplier_id, sp.c.item, sp.c.price, sp.c.valid_from,
                      sp.c.availability, previous.label("previous_price"),
                      newest.label("newest")).subquery()
    query = (sa.select(inner.c.supplier_id, orm.supplier.c.name.label("supplier_name"),
                       inner.c.item, item.c.name.label("item_name"), inner.c.price,
                       inner.c.previous_price, inner.c.valid_from, inner.c.availability)
             .join(orm.supplier, orm.supplier.c.id == inner.c.supplier_id)
             .join(item, item.c.sku == inner.c.item))
    if latest_only:  # the current offers, cheapest first
        query = query.where(inner.c.newest == 1).order_by(inner.c.item, inner.c.price)
    else:  # each supplier's prices, newest first
        query = query.order_by(inner.c.item, orm.supplier.c.name, inner.c.valid_from.desc())
    if supplier_id:
        query = query.where(inner.c.supplier_id == supplier_id)
    if sku:
        query = query.where(inner.c.item == sku)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["change_percent"] = price_change_percent(r["previous_price"], r["price"])
    return total, rows


async def purchase_orders(session: AsyncSession, *, status: str | None, overdue_only: bool,
                          today: date, limit: int, offset: int,
                          order_id: uuid.UUID | None = None) -> Page:
    p = orm.purchase_order
    late = sa.and_(p.c.status.in_([PurchaseStatus.ORDERED, PurchaseStatus.INVOICED]),
                   p.c.expected_ship_on < today)
    query = (sa.select(*[c for c in p.c if c.name != "note"], p.c.note,
                       orm.supplier.c.name.label("supplier_name"), late.label("overdue"))
             .join(orm.supplier, orm.supplier.c.id == p.c.supplier_id)
             .order_by(late.desc(), p.c.expected_ship_on.nulls_last(), p.c.number.desc()))
    for column, value in ((p.c.status, status), (p.c.id, order_id)):
        if value:
            query = query.where(column == value)
    if overdue_only:
        query = query.where(late)
    total, rows = await _page(session, query, limit, offset)
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    files: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    if rows:
        pl = orm.purchase_order_line
        for line in (await session.execute(sa.select(
                pl.c.order_id, pl.c.item, item.c.name.label("item_name"), pl.c.quantity,
                pl.c.price).join(item, item.c.sku == pl.c.item).where(
                pl.c.order_id.in_(list(lines))).order_by(pl.c.id))).mappings():
            lines[line["order_id"]].append({k: v for k, v in line.items() if k != "order_id"})
        pa = orm.purchase_attachment
        for f in (await session.execute(sa.select(
                pa.c.id, pa.c.order_id, pa.c.filename, pa.c.content_type, pa.c.size).where(
                pa.c.order_id.in_(list(files))).order_by(pa.c.created_at))).mappings():
            files[f["order_id"]].append({k: v for k, v in f.items() if k != "order_id"})
    for r in rows:
        r["status_label"] = PURCHASE_LABELS[PurchaseStatus(r["status"])]
        r["lines"] = lines[r["id"]]
        r["attachments"] = files[r["id"]]
        r["total"] = sum((x["price"] * x["quantity"] for x in r["lines"]), Decimal("0.00"))
    return total, rows


async def attachment(session: AsyncSession, order_id: uuid.UUID, attachment_id: uuid.UUID
                     ) -> dict[str, Any]:
    pa = orm.purchase_attachment
    row = (await session.execute(sa.select(pa).where(
        pa.c.id == attachment_id, pa.c.order_id == order_id))).mappings().first()
    if row is None:
        raise NotFound("вложение не найдено")
    return dict(row)


async def purchase_requests(session: AsyncSession, *, status: str | None, limit: int,
                            offset: int) -> Page:
    pr = orm.purchase_request
    query = sa.select(pr).order_by(pr.c.needed_by.nulls_last(), pr.c.created_at.desc())
    if status:
        query = query.where(pr.c.status == status)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["status_label"] = REQUEST_LABELS[RequestStatus(r["status"])]
    return total, rows


async def goods_searches(session: AsyncSession, *, status: str | None, limit: int,
                         offset: int) -> Page:
    g = orm.goods_search
    query = sa.select(g, orm.supplier.c.name.label("supplier_name")).outerjoin(
        orm.supplier, orm.supplier.c.id == g.c.supplier_id).order_by(
        (g.c.status == SearchStatus.OPEN).desc(), g.c.created_at.desc())
    if status:
        query = query.where(g.c.status == status)
    total, rows = await _page(session, query, limit, offset)
    for r in rows:
        r["status_label"] = SEARCH_LABELS[SearchStatus(r["status"])]
    return total, rows
