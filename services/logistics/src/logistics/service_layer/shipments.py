"""Shipments to clients' sites (seed 000 §3, 5, 17): planned from reservations, dates agreed,
ordered from a carrier, followed by polling or callback, and confirmed by the client.

The carrier is called outside any transaction: the state is read, the carrier answers, and
then one transaction re-checks the state and records the result.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from clientops_shared.events import logistics as ev
from clientops_shared.jobs import business_today
from clientops_shared.projections import client_row
from logistics.adapters import orm
from logistics.adapters.carriers import (
    BadSignature,
    CarrierError,
    CarrierPort,
    Quote,
    ShipmentRequest,
    StatusReport,
)
from logistics.adapters.orm import item, reservation, shipment, shipment_line
from logistics.domain.model import (
    LARGE_KINDS,
    Carrier,
    ClosingKind,
    ItemKind,
    Quantity,
    ReservationStatus,
    ShipmentStatus,
    check_agreed_dates,
    check_delivery_dates,
    shipment_move,
)
from logistics.service_layer import closing, stock
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork

log = logging.getLogger("logistics.shipments")


class CarrierFailed(DomainError):
    status = 502
    title = "Carrier failed"


class CallbackRejected(DomainError):
    status = 401
    title = "Unauthorized"


async def create(uow: LogisticsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                 site_id: uuid.UUID, lines: list[dict[str, Any]], carrier: Carrier,
                 work_order_id: uuid.UUID | None = None, address: str | None = None,
                 contact_name: str | None = None, contact_phone: str | None = None,
                 arrival_on: date | None = None, ships_on: date | None = None
                 ) -> dict[str, Any]:
    if await client_row(uow.session, orm.clients, client_id) is None:
        raise InvalidInput("client_id", "клиент не найден")
    check_agreed_dates(arrival_on, ships_on)
    shipment_id = uuid.uuid4()
    year = (ships_on or business_today()).year  # the Moscow year, as every journal
    number = f"ОТГ-{year}/{await uow.next_number('shipment', year):04d}"
    await uow.session.execute(shipment.insert().values(
        id=shipment_id, number=number, client_id=client_id, site_id=site_id,
        work_order_id=work_order_id, carrier=str(carrier), status=str(ShipmentStatus.PLANNED),
        address=address, contact_name=contact_name, contact_phone=contact_phone,
        arrival_on=arrival_on, ships_on=ships_on, created_by=actor.username))
    for i, line in enumerate(lines):
        prefix = f"lines.{i}."
        reservation_id = line.get("reservation_id")
        if reservation_id is not None:
            res = await stock.locked_reservation(uow, reservation_id, f"{prefix}reservation_id")
            if res["status"] != ReservationStatus.ACTIVE or res["shipment_id"] is not None:
                raise Conflict("резерв уже отгружен, снят или привязан к другой отгрузке",
                               item=res["item"], field=f"{prefix}reservation_id")
            if res["item"] != line["item"]:
                raise InvalidInput(f"{prefix}item", "товар строки не совпадает с резервом")
            await uow.session.execute(reservation.update().where(
                reservation.c.id == reservation_id).values(shipment_id=shipment_id))
            quantity, serials = res["quantity"], res["serials"]
        else:
            reservation_id = await stock.reserve(
                uow, actor, sku=line["item"], quantity=line.get("quantity"),
                serials=line.get("serials"), work_order_id=work_order_id,
                shipment_id=shipment_id, commit=False, field_prefix=prefix)
            res = await stock.locked_reservation(uow, reservation_id)
            quantity, serials = res["quantity"], res["serials"]
        await uow.session.execute(shipment_line.insert().values(
            shipment_id=shipment_id, item=line["item"], quantity=quantity, serials=serials,
            reservation_id=reservation_id))
    uow.emit(ev.ShipmentPlanned(shipment_id=shipment_id, client_id=client_id,
                                carrier=str(carrier), planned_on=ships_on, number=number,
                                site_id=site_id, work_order_id=work_order_id,
                                arrival_on=arrival_on))
    uow.audit("shipment.planned", "shipment", shipment_id,
              after={"number": number, "carrier": carrier, "lines": lines})
    await uow.commit()
    return {"id": shipment_id, "number": number, "status": str(ShipmentStatus.PLANNED)}


async def _locked(uow: LogisticsUnitOfWork, shipment_id: uuid.UUID) -> sa.RowMapping:
    row = await uow.one(sa.select(shipment).where(shipment.c.id == shipment_id)
                        .with_for_update())
    if row is None:
        raise NotFound(f"отгрузка {shipment_id} не найдена")
    return row


async def _lines(uow: LogisticsUnitOfWork, shipment_id: uuid.UUID) -> list[sa.RowMapping]:
    return list((await uow.session.execute(
        sa.select(shipment_line, item.c.name, item.c.kind)
        .join(item, item.c.sku == shipment_line.c.item)
        .where(shipment_line.c.shipment_id == shipment_id).order_by(shipment_line.c.id)
    )).mappings())


async def set_dates(uow: LogisticsUnitOfWork, actor: Principal, shipment_id: uuid.UUID, *,
                    arrival_on: date | None, ships_on: date | None) -> None:
    row = await _locked(uow, shipment_id)
    if row["status"] != ShipmentStatus.PLANNED:
        raise Conflict("даты меняются только у запланированной отгрузки",
                       current_state=row["status"])
    arrival = arrival_on if arrival_on is not None else row["arrival_on"]
    ships = ships_on if ships_on is not None else row["ships_on"]
    check_agreed_dates(arrival, ships)
    await uow.session.execute(shipment.update().where(shipment.c.id == shipment_id)
                              .values(arrival_on=arrival, ships_on=ships))
    uow.audit("shipment.dates_agreed", "shipment", shipment_id,
              before={"arrival_on": row["arrival_on"], "ships_on": row["ships_on"]},
              after={"arrival_on": arrival, "ships_on": ships})
    await uow.commit()


def _port(logistics: Logistics, carrier: str) -> CarrierPort:
    port: CarrierPort | None = logistics.carriers.get(carrier)
    if port is None:
        raise InvalidInput("carrier", f"перевозчик {carrier} не настроен")
    return port


async def _request(logistics: Logistics, shipment_id: uuid.UUID) -> tuple[sa.RowMapping,
                                                                           ShipmentRequest]:
    async with logistics.uow() as uow:
        row = await uow.one(sa.select(shipment).where(shipment.c.id == shipment_id))
        if row is None:
            raise NotFound(f"отгрузка {shipment_id} не найдена")
        lines = await _lines(uow, shipment_id)
    matter = ", ".join(f"{line['name']} × {line['quantity']}" for line in lines)
    weight = sum((80 if ItemKind(line["kind"]) in LARGE_KINDS else 5) * line["quantity"]
                 for line in lines)
    return row, ShipmentRequest(
        number=row["number"], from_address=logistics.warehouse_address,
        to_address=row["address"] or "адрес объекта уточнить у клиента",
        contact_name=row["contact_name"] or "Ответственный на объекте",
        contact_phone=row["contact_phone"] or logistics.warehouse_phone, matter=matter,
        weight_kg=max(weight, 1), packages=max(1, sum(line["quantity"] for line in lines)),
        ships_on=row["ships_on"])


async def quote(logistics: Logistics, shipment_id: uuid.UUID) -> Quote:
    row, request = await _request(logistics, shipment_id)
    try:
        return await _port(logistics, row["carrier"]).quote(request)
    except CarrierError as exc:
        raise CarrierFailed(str(exc), carrier=row["carrier"]) from None


@contextlib.asynccontextmanager
async def _only_one(logistics: Logistics, key: str) -> AsyncIterator[None]:
    """Hold a PostgreSQL advisory lock for ``key`` across replicas, or refuse (409): the
    carrier is called outside any transaction, and two people pressing «Отгрузить» at once
    must not place two orders with it."""
    async with logistics.engine.connect() as conn:
        got = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(
            sa.func.hashtext(key))))).scalar()
        if not got:
            raise Conflict("отгрузка уже оформляется у перевозчика", current_state="ordering")
        try:
            yield
        finally:
            await conn.execute(sa.select(sa.func.pg_advisory_unlock(sa.func.hashtext(key))))
            await conn.commit()


async def dispatch(logistics: Logistics, actor: Principal, shipment_id: uuid.UUID,
                   shipped_on: date) -> None:
    async with _only_one(logistics, f"shipment-dispatch:{shipment_id}"):
        await _dispatch(logistics, actor, shipment_id, shipped_on)


async def _dispatch(logistics: Logistics, actor: Principal, shipment_id: uuid.UUID,
                    shipped_on: date) -> None:
    row, request = await _request(logistics, shipment_id)
    shipment_move(ShipmentStatus(row["status"]), ShipmentStatus.IN_TRANSIT)
    if row["arrival_on"] is not None and shipped_on < row["arrival_on"]:
        raise InvalidInput("shipped_on", f"товар придёт на склад только "
                                         f"{row['arrival_on']:%d.%m.%Y}")
    try:
        order = await _port(logistics, row["carrier"]).create(request)
    except CarrierError as exc:
        raise CarrierFailed(str(exc), carrier=row["carrier"]) from None
    async with logistics.uow() as uow:
        row = await _locked(uow, shipment_id)
        shipment_move(ShipmentStatus(row["status"]), ShipmentStatus.IN_TRANSIT)
        for line in await _lines(uow, shipment_id):
            await stock.ship_reservation(uow, actor, line["reservation_id"], row["number"])
        await uow.session.execute(shipment.update().where(shipment.c.id == shipment_id).values(
            status=str(ShipmentStatus.IN_TRANSIT), shipped_on=shipped_on,
            carrier_order_id=order.order_id, tracking_number=order.tracking_number,
            tracking_url=order.tracking_url, carrier_status=str(order.status),
            carrier_status_raw=order.raw_status, carrier_checked_at=sa.func.now(),
            price=order.price))
        uow.emit(ev.ShipmentDispatched(
            shipment_id=shipment_id, number=row["number"], client_id=row["client_id"],
            site_id=row["site_id"], work_order_id=row["work_order_id"], carrier=row["carrier"],
            tracking_number=order.tracking_number, shipped_on=shipped_on))
        uow.audit("shipment.dispatched", "shipment", shipment_id,
                  after={"carrier_order_id": order.order_id, "shipped_on": shipped_on})
        await uow.commit()


async def delivered(uow: LogisticsUnitOfWork, actor: Principal, shipment_id: uuid.UUID, *,
                    delivered_on: date, received_by: str) -> None:
    row = await _locked(uow, shipment_id)
    check_delivery_dates(row["shipped_on"], delivered_on)
    if row["status"] == ShipmentStatus.PLANNED:
        raise Conflict("отгрузка ещё не передана перевозчику", current_state=row["status"])
    shipment_move(ShipmentStatus(row["status"]), ShipmentStatus.DELIVERED)
    lines = await _lines(uow, shipment_id)
    for line in lines:
        await stock.arrive_at_client(uow, actor, line["item"],
                                     Quantity(line["quantity"], tuple(line["serials"])),
                                     row["site_id"], row["number"])
    await uow.session.execute(shipment.update().where(shipment.c.id == shipment_id).values(
        status=str(ShipmentStatus.DELIVERED), delivered_on=delivered_on,
        received_by=received_by))
    uow.emit(ev.ShipmentDelivered(
        shipment_id=shipment_id, client_id=row["client_id"], site_id=row["site_id"],
        delivered_on=delivered_on, number=row["number"], work_order_id=row["work_order_id"],
        received_by=received_by,
        lines=[ev.ShipmentLine(item=line["item"], name=line["name"], kind=line["kind"],
                               quantity=line["quantity"], serials=list(line["serials"]))
               for line in lines]))
    await closing.expect(uow, client_id=row["client_id"], kind=ClosingKind.UPD,
                         expected_on=delivered_on, shipment_id=shipment_id,
                         actor=actor.username)
    uow.audit("shipment.delivered", "shipment", shipment_id,
              after={"delivered_on": delivered_on, "received_by": received_by})
    await uow.commit()


async def cancel(uow: LogisticsUnitOfWork, actor: Principal, shipment_id: uuid.UUID) -> None:
    row = await _locked(uow, shipment_id)
    shipment_move(ShipmentStatus(row["status"]), ShipmentStatus.CANCELLED)
    for line in await _lines(uow, shipment_id):
        await stock.release(uow, actor, line["reservation_id"], commit=False)
    await uow.session.execute(shipment.update().where(shipment.c.id == shipment_id)
                              .values(status=str(ShipmentStatus.CANCELLED)))
    uow.audit("shipment.cancelled", "shipment", shipment_id, before={"status": row["status"]})
    await uow.commit()


async def _apply(logistics: Logistics, carrier: str, report: StatusReport) -> bool:
    async with logistics.uow() as uow:
        changed = (await uow.session.execute(shipment.update().where(
            shipment.c.carrier == carrier, shipment.c.carrier_order_id == report.order_id
        ).values(carrier_status=str(report.status), carrier_status_raw=report.raw_status,
                 carrier_checked_at=sa.func.now()).returning(shipment.c.id,
                                                              ))).first()
        await uow.commit()
    return changed is not None


async def poll(logistics: Logistics) -> dict[str, int]:
    """The periodic job: ask each carrier about every shipment still in transit."""
    async with logistics.uow() as uow:
        rows = list((await uow.session.execute(sa.select(
            shipment.c.carrier, shipment.c.carrier_order_id, shipment.c.carrier_status).where(
            shipment.c.status == ShipmentStatus.IN_TRANSIT,
            shipment.c.carrier_order_id.is_not(None)))).mappings())
    checked = changed = failed = 0
    for row in rows:
        port = logistics.carriers.get(row["carrier"])
        if port is None:
            continue
        try:
            report = await port.status(row["carrier_order_id"])
        except CarrierError as exc:
            log.warning("status of %s at %s failed: %s", row["carrier_order_id"],
                        row["carrier"], exc)
            failed += 1
            continue
        checked += 1
        if str(report.status) != row["carrier_status"]:
            changed += await _apply(logistics, row["carrier"], report)
    return {"checked": checked, "changed": changed, "failed": failed}


async def callback(logistics: Logistics, carrier: str, body: bytes,
                   headers: dict[str, str]) -> dict[str, Any]:
    port = logistics.carriers.get(carrier)
    if port is None:
        raise NotFound(f"перевозчик {carrier} не настроен")
    try:
        report = await port.callback(body, headers)
    except BadSignature as exc:
        raise CallbackRejected(str(exc)) from None
    except CarrierError as exc:
        raise InvalidInput("body", str(exc)) from None
    known = await _apply(logistics, carrier, report)
    return {"order_id": report.order_id, "status": str(report.status), "known": known}


async def refresh_balance(logistics: Logistics, carrier: str) -> dict[str, Any]:
    """Ask the carrier for the prepaid balance; flag it (once) when it drops under the
    threshold (seed 000 §3: «Отслеживание баланса на Достависте»)."""
    port = _port(logistics, carrier)
    try:
        balance = await port.balance()
    except CarrierError as exc:
        raise CarrierFailed(str(exc), carrier=carrier) from None
    if balance is None:
        raise Conflict(f"у перевозчика {carrier} нет предоплаченного счёта")
    threshold = logistics.balance_threshold
    t = orm.courier_account
    async with logistics.uow() as uow:
        await uow.session.execute(insert(t).values(carrier=carrier, threshold=threshold)
                                  .on_conflict_do_nothing())
        row = await uow.one(sa.select(t).where(t.c.carrier == carrier).with_for_update())
        assert row is not None
        low = balance < row["threshold"]
        if low and not row["low"]:
            uow.emit(ev.CourierBalanceLow(carrier=carrier, balance=balance,
                                          threshold=row["threshold"]))
        await uow.session.execute(t.update().where(t.c.carrier == carrier).values(
            balance=balance, low=low, checked_at=sa.func.now()))
        await uow.commit()
    return {"carrier": carrier, "balance": balance, "threshold": row["threshold"], "low": low}


async def refresh_balances(logistics: Logistics) -> int:
    flagged = 0
    for code, port in logistics.carriers.items():
        try:
            if await port.balance() is None:
                continue
            flagged += (await refresh_balance(logistics, code))["low"]
        except (CarrierError, DomainError) as exc:
            log.warning("balance of %s failed: %s", code, exc)
    return flagged
