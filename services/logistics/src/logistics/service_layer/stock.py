"""Stock use cases: items, receipts, moves, reservations. One transaction each.

Every change of a balance is one conditional UPDATE (``… WHERE on_hand - reserved >= n``), so
concurrent moves of the last unit cannot both succeed: the row lock makes the second one
re-check the condition against the first one's result. CHECK constraints on the table are
the second line of defence.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import logistics as ev
from logistics.adapters.orm import item, reservation, stock_balance, stock_move, stock_serial
from logistics.domain.model import (
    LOCATION_LABELS,
    MANUAL_REASONS,
    OWN_LOCATIONS,
    ItemKind,
    Location,
    MoveReason,
    Quantity,
    ReservationStatus,
    SerialState,
    Tracking,
    not_enough,
    quantity_of,
)
from logistics.service_layer.unit_of_work import LogisticsUnitOfWork

SERIAL_STATE_AT = {Location.WAREHOUSE: SerialState.IN_STOCK, Location.OFFICE: SerialState.IN_STOCK,
                   Location.IN_TRANSIT: SerialState.IN_TRANSIT,
                   Location.CLIENT_SITE: SerialState.AT_CLIENT}
"""The state a free serial number is in at each location (a move keeps it consistent)."""


async def create_item(uow: LogisticsUnitOfWork, actor: Principal, *, sku: str, name: str,
                      kind: ItemKind, tracking: Tracking, min_stock: int) -> dict[str, Any]:
    created = (await uow.session.execute(insert(item).values(
        sku=sku, name=name, kind=str(kind), tracking=str(tracking), min_stock=min_stock,
        created_by=actor.username).on_conflict_do_nothing().returning(item.c.sku))).first()
    if created is None:
        raise Conflict(f"товар с артикулом {sku} уже есть", field="sku")
    uow.audit("item.created", "item", sku, after={"name": name, "kind": kind,
                                                  "min_stock": min_stock})
    await uow.commit()
    return {"sku": sku, "name": name, "kind": kind, "tracking": tracking, "min_stock": min_stock}


async def item_row(uow: LogisticsUnitOfWork, sku: str, field: str = "item") -> sa.RowMapping:
    row = await uow.one(sa.select(item).where(item.c.sku == sku))
    if row is None:
        raise InvalidInput(field, f"неизвестный товар: {sku}")
    return row


async def available_total(uow: LogisticsUnitOfWork, sku: str) -> int:
    """What can still be reserved of an item at our own locations."""
    return int((await uow.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(stock_balance.c.on_hand - stock_balance.c.reserved), 0)
    ).where(stock_balance.c.item == sku,
            stock_balance.c.location.in_([str(x) for x in OWN_LOCATIONS])))).scalar_one())


class _LowStockWatch:
    """After a change: flag the item low (once) when what is available falls under its
    minimum, and clear the flag when a receipt brings it back. The flag flips with a
    conditional UPDATE, so only one of several concurrent changes publishes."""

    def __init__(self, uow: LogisticsUnitOfWork, row: sa.RowMapping) -> None:
        self.uow, self.row = uow, row

    async def __aenter__(self) -> _LowStockWatch:
        return self

    async def __aexit__(self, exc_type: object, *_: object) -> None:
        minimum = self.row["min_stock"]
        if exc_type is not None or minimum <= 0:
            return
        after = await available_total(self.uow, self.row["sku"])
        low = after < minimum
        flipped = (await self.uow.session.execute(item.update().where(
            item.c.sku == self.row["sku"], item.c.low.is_(not low)).values(low=low)
            .returning(item.c.sku))).first()
        if flipped is None:
            return
        fields = {"item": self.row["sku"], "name": self.row["name"], "available": after,
                  "min_stock": minimum}
        self.uow.emit(ev.StockLow(**fields) if low else ev.StockReplenished(**fields))


# --- balance primitives ------------------------------------------------------------------------

async def _put(uow: LogisticsUnitOfWork, sku: str, location: str, count: int) -> None:
    await uow.session.execute(insert(stock_balance).values(
        item=sku, location=location, on_hand=count).on_conflict_do_update(
        index_elements=[stock_balance.c.item, stock_balance.c.location],
        set_={"on_hand": stock_balance.c.on_hand + count}))


async def _available_at(uow: LogisticsUnitOfWork, sku: str, location: str) -> int:
    return int((await uow.session.execute(sa.select(
        stock_balance.c.on_hand - stock_balance.c.reserved).where(
        stock_balance.c.item == sku, stock_balance.c.location == location))).scalar() or 0)


async def _take(uow: LogisticsUnitOfWork, row: sa.RowMapping, location: str, count: int, *,
                reserved: bool = False) -> None:
    """Take ``count`` off a balance: from what is free, or from what this caller reserved."""
    b = stock_balance
    where = [b.c.item == row["sku"], b.c.location == location]
    values: dict[str, Any] = {"on_hand": b.c.on_hand - count}
    if reserved:
        where.append(b.c.reserved >= count)
        values["reserved"] = b.c.reserved - count
    else:
        where.append(b.c.on_hand - b.c.reserved >= count)
    done = (await uow.session.execute(b.update().where(*where).values(**values)
                                      .returning(b.c.item))).first()
    if done is None:
        raise not_enough(row["sku"], row["name"], location,
                         await _available_at(uow, row["sku"], location), count)


async def _hold(uow: LogisticsUnitOfWork, row: sa.RowMapping, location: str, count: int) -> None:
    b = stock_balance
    done = (await uow.session.execute(b.update().where(
        b.c.item == row["sku"], b.c.location == location, b.c.on_hand - b.c.reserved >= count
    ).values(reserved=b.c.reserved + count).returning(b.c.item))).first()
    if done is None:
        raise not_enough(row["sku"], row["name"], location,
                         await _available_at(uow, row["sku"], location), count)


async def _unhold(uow: LogisticsUnitOfWork, sku: str, location: str, count: int) -> None:
    b = stock_balance
    await uow.session.execute(b.update().where(b.c.item == sku, b.c.location == location)
                              .values(reserved=b.c.reserved - count))


async def _serials_at(uow: LogisticsUnitOfWork, sku: str, serials: Sequence[str], location: str,
                      states: Sequence[SerialState], field: str,
                      reservation_id: uuid.UUID | None = None) -> None:
    """Lock the serial rows and check each is where the request says, in a usable state."""
    rows = {r["serial"]: r for r in (await uow.session.execute(
        sa.select(stock_serial).where(stock_serial.c.item == sku,
                                      stock_serial.c.serial.in_(list(serials)))
        .with_for_update())).mappings()}
    for serial in serials:
        found = rows.get(serial)
        if found is None:
            raise InvalidInput(field, f"серийный номер {serial} не числится на складе")
        if found["location"] != location or found["state"] not in {str(s) for s in states} or (
                reservation_id is None and found["state"] == SerialState.RESERVED):
            raise Conflict(f"серийный номер {serial} ({sku}) сейчас не доступен на месте «"
                           f"{LOCATION_LABELS[Location(location)]}»", item=sku, serial=serial)
        if reservation_id is not None and found["reservation_id"] not in (None, reservation_id):
            raise Conflict(f"серийный номер {serial} зарезервирован под другую операцию",
                           item=sku, serial=serial)


async def _set_serials(uow: LogisticsUnitOfWork, sku: str, serials: Sequence[str], **values: Any
                       ) -> None:
    if serials:
        await uow.session.execute(stock_serial.update().where(
            stock_serial.c.item == sku, stock_serial.c.serial.in_(list(serials))
        ).values(updated_at=sa.func.now(), **values))


async def _log_move(uow: LogisticsUnitOfWork, actor: str, sku: str, q: Quantity,
                    from_location: str | None, to_location: str | None, reason: MoveReason,
                    note: str | None = None, ref: str | None = None) -> int:
    return int((await uow.session.execute(stock_move.insert().values(
        item=sku, quantity=q.count, serials=list(q.serials), from_location=from_location,
        to_location=to_location, reason=str(reason), note=note, ref=ref, actor=actor
    ).returning(stock_move.c.id))).scalar_one())


# --- use cases ---------------------------------------------------------------------------------

async def receive(uow: LogisticsUnitOfWork, actor: Principal, *, sku: str, quantity: int | None,
                  serials: list[str] | None, location: Location, note: str | None = None,
                  ref: str | None = None, commit: bool = True) -> dict[str, Any]:
    row = await item_row(uow, sku)
    q = quantity_of(Tracking(row["tracking"]), quantity, serials)
    async with _LowStockWatch(uow, row):
        if q.serials:
            present = list((await uow.session.execute(sa.select(stock_serial.c.serial).where(
                stock_serial.c.item == sku, stock_serial.c.serial.in_(q.serials),
                stock_serial.c.state.in_([SerialState.IN_STOCK, SerialState.RESERVED,
                                          SerialState.IN_TRANSIT])).with_for_update()
            )).scalars())
            if present:
                raise InvalidInput("serials", f"серийный номер уже на складе: "
                                              f"{', '.join(sorted(present))}")
            await uow.session.execute(insert(stock_serial).values([
                {"item": sku, "serial": s, "location": str(location),
                 "state": str(SerialState.IN_STOCK)} for s in q.serials
            ]).on_conflict_do_update(index_elements=[stock_serial.c.item, stock_serial.c.serial],
                                     set_={"location": str(location),
                                           "state": str(SerialState.IN_STOCK),
                                           "reservation_id": None, "site_id": None,
                                           "updated_at": sa.func.now()}))
        await _put(uow, sku, str(location), q.count)
        move_id = await _log_move(uow, actor.username, sku, q, None, str(location),
                                  MoveReason.RECEIPT, note, ref)
    uow.audit("stock.received", "item", sku, after={"location": location, "quantity": q.count,
                                                    "serials": list(q.serials)})
    if commit:
        await uow.commit()
    return {"move_id": move_id, "item": sku, "location": str(location), "quantity": q.count,
            "serials": list(q.serials)}


async def move(uow: LogisticsUnitOfWork, actor: Principal, *, sku: str, quantity: int | None,
               serials: list[str] | None, from_location: Location, to_location: Location,
               reason: MoveReason, note: str | None = None) -> dict[str, Any]:
    if reason not in MANUAL_REASONS:
        raise InvalidInput("reason", "это основание ставится само (поступление, отгрузка, "
                                     "доставка)")
    if from_location == to_location:
        raise InvalidInput("to_location", "место назначения совпадает с местом отправления")
    row = await item_row(uow, sku)
    q = quantity_of(Tracking(row["tracking"]), quantity, serials)
    async with _LowStockWatch(uow, row):
        if q.serials:
            await _serials_at(uow, sku, q.serials, str(from_location),
                              [SERIAL_STATE_AT[from_location]], "serials")
        await _take(uow, row, str(from_location), q.count)
        if reason is not MoveReason.WRITE_OFF:
            await _put(uow, sku, str(to_location), q.count)
        await _set_serials(uow, sku, q.serials, location=str(to_location),
                           state=str(SerialState.WRITTEN_OFF if reason is MoveReason.WRITE_OFF
                                     else SERIAL_STATE_AT[to_location]), site_id=None)
        move_id = await _log_move(uow, actor.username, sku, q, str(from_location),
                                  None if reason is MoveReason.WRITE_OFF else str(to_location),
                                  reason, note)
    uow.audit("stock.moved", "item", sku, after={"from": from_location, "to": to_location,
                                                 "quantity": q.count, "reason": reason})
    await uow.commit()
    return {"move_id": move_id}


async def reserve(uow: LogisticsUnitOfWork, actor: Principal, *, sku: str,
                  quantity: int | None, serials: list[str] | None,
                  location: Location = Location.WAREHOUSE,
                  work_order_id: uuid.UUID | None = None, shipment_id: uuid.UUID | None = None,
                  note: str | None = None, commit: bool = True,
                  field_prefix: str = "") -> uuid.UUID:
    if location not in OWN_LOCATIONS:
        raise InvalidInput("location", "резервировать можно только на складе или в офисе")
    row = await item_row(uow, sku, f"{field_prefix}item")
    q = quantity_of(Tracking(row["tracking"]), quantity, serials, field_prefix=field_prefix)
    reservation_id = uuid.uuid4()
    async with _LowStockWatch(uow, row):
        if q.serials:
            await _serials_at(uow, sku, q.serials, str(location), [SerialState.IN_STOCK],
                              f"{field_prefix}serials")
        await _hold(uow, row, str(location), q.count)
        await _set_serials(uow, sku, q.serials, state=str(SerialState.RESERVED),
                           reservation_id=reservation_id)
        await uow.session.execute(reservation.insert().values(
            id=reservation_id, item=sku, location=str(location), quantity=q.count,
            serials=list(q.serials), work_order_id=work_order_id, shipment_id=shipment_id,
            status=str(ReservationStatus.ACTIVE), note=note, created_by=actor.username))
    uow.audit("stock.reserved", "reservation", reservation_id,
              after={"item": sku, "quantity": q.count, "work_order_id": work_order_id,
                     "shipment_id": shipment_id})
    if commit:
        await uow.commit()
    return reservation_id


async def locked_reservation(uow: LogisticsUnitOfWork, reservation_id: uuid.UUID,
                             field: str = "reservation_id") -> sa.RowMapping:
    row = await uow.one(sa.select(reservation).where(reservation.c.id == reservation_id)
                        .with_for_update())
    if row is None:
        raise NotFound(f"резерв {reservation_id} не найден", field=field)
    return row


async def release(uow: LogisticsUnitOfWork, actor: Principal, reservation_id: uuid.UUID, *,
                  commit: bool = True) -> dict[str, Any]:
    res = await locked_reservation(uow, reservation_id)
    if res["status"] != ReservationStatus.ACTIVE:
        raise Conflict("резерв уже снят или отгружен", current_state=res["status"])
    row = await item_row(uow, res["item"])
    async with _LowStockWatch(uow, row):
        await _unhold(uow, res["item"], res["location"], res["quantity"])
        await _set_serials(uow, res["item"], res["serials"], state=str(SerialState.IN_STOCK),
                           reservation_id=None)
        await uow.session.execute(reservation.update().where(reservation.c.id == reservation_id)
                                  .values(status=str(ReservationStatus.RELEASED)))
    uow.audit("stock.reservation_released", "reservation", reservation_id,
              before={"status": res["status"]}, after={"status": "released"})
    if commit:
        await uow.commit()
    return {"id": reservation_id, "status": str(ReservationStatus.RELEASED)}


async def ship_reservation(uow: LogisticsUnitOfWork, actor: Principal, reservation_id: uuid.UUID,
                           ref: str) -> None:
    """The reserved goods leave with the carrier: reserved stock → in transit."""
    res = await locked_reservation(uow, reservation_id)
    if res["status"] != ReservationStatus.ACTIVE:
        raise Conflict(f"резерв по товару {res['item']} не активен", item=res["item"],
                       current_state=res["status"])
    row = await item_row(uow, res["item"])
    q = Quantity(res["quantity"], tuple(res["serials"]))
    await _take(uow, row, res["location"], q.count, reserved=True)
    await _put(uow, res["item"], str(Location.IN_TRANSIT), q.count)
    await _set_serials(uow, res["item"], q.serials, location=str(Location.IN_TRANSIT),
                       state=str(SerialState.IN_TRANSIT))
    await uow.session.execute(reservation.update().where(reservation.c.id == reservation_id)
                              .values(status=str(ReservationStatus.SHIPPED)))
    await _log_move(uow, actor.username, res["item"], q, res["location"],
                    str(Location.IN_TRANSIT), MoveReason.SHIPMENT, ref=ref)


async def arrive_at_client(uow: LogisticsUnitOfWork, actor: Principal, sku: str, q: Quantity,
                           site_id: uuid.UUID, ref: str) -> None:
    row = await item_row(uow, sku)
    await _take(uow, row, str(Location.IN_TRANSIT), q.count)
    await _put(uow, sku, str(Location.CLIENT_SITE), q.count)
    await _set_serials(uow, sku, q.serials, location=str(Location.CLIENT_SITE),
                       state=str(SerialState.AT_CLIENT), site_id=site_id, reservation_id=None)
    await _log_move(uow, actor.username, sku, q, str(Location.IN_TRANSIT),
                    str(Location.CLIENT_SITE), MoveReason.DELIVERED, ref=ref)
