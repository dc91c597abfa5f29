"""Logistics domain: codes with their Russian labels and the rules stock, shipments and the
document courier obey. Plain Python: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache

import holidays

from clientops_shared.errors import Conflict, InvalidInput


class ItemKind(StrEnum):
    BARRIER = "barrier"
    TURNSTILE = "turnstile"
    BOOM = "boom"
    TERMINAL = "terminal"
    CONTROLLER = "controller"
    PART = "part"


ITEM_KIND_LABELS = {
    ItemKind.BARRIER: "Шлагбаум", ItemKind.TURNSTILE: "Турникет", ItemKind.BOOM: "Стрела",
    ItemKind.TERMINAL: "Терминал", ItemKind.CONTROLLER: "Контроллер", ItemKind.PART: "Запчасть",
}
LARGE_KINDS = frozenset({ItemKind.BARRIER, ItemKind.TURNSTILE, ItemKind.BOOM})
"""Goods that need a large vehicle (seed 000 §3)."""


class Tracking(StrEnum):
    SERIAL = "serial"
    COUNT = "count"


TRACKING_LABELS = {Tracking.SERIAL: "по серийным номерам", Tracking.COUNT: "по количеству"}


class Location(StrEnum):
    WAREHOUSE = "warehouse"
    OFFICE = "office"
    IN_TRANSIT = "in_transit"
    CLIENT_SITE = "client_site"


LOCATION_LABELS = {
    Location.WAREHOUSE: "Склад (БП Румянцево)", Location.OFFICE: "Офис",
    Location.IN_TRANSIT: "В пути", Location.CLIENT_SITE: "На объекте клиента",
}
OWN_LOCATIONS = (Location.WAREHOUSE, Location.OFFICE)
"""Where stock is ours to reserve and counts towards the minimum."""


class MoveReason(StrEnum):
    RECEIPT = "receipt"
    TRANSFER = "transfer"
    TO_OFFICE = "to_office"
    SHIPMENT = "shipment"
    DELIVERED = "delivered"
    RETURN = "return"
    WRITE_OFF = "write_off"
    CORRECTION = "correction"


MOVE_REASON_LABELS = {
    MoveReason.RECEIPT: "Поступление", MoveReason.TRANSFER: "Перемещение",
    MoveReason.TO_OFFICE: "Перенос в офис", MoveReason.SHIPMENT: "Отгрузка",
    MoveReason.DELIVERED: "Доставлено клиенту", MoveReason.RETURN: "Возврат",
    MoveReason.WRITE_OFF: "Списание", MoveReason.CORRECTION: "Корректировка",
}
MANUAL_REASONS = frozenset({MoveReason.TRANSFER, MoveReason.TO_OFFICE, MoveReason.RETURN,
                            MoveReason.WRITE_OFF, MoveReason.CORRECTION})
"""Reasons a person may give for a move; the others are made by receipts and shipments."""


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    SHIPPED = "shipped"


RESERVATION_LABELS = {ReservationStatus.ACTIVE: "Активен", ReservationStatus.RELEASED: "Снят",
                      ReservationStatus.SHIPPED: "Отгружен"}


class SerialState(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    IN_TRANSIT = "in_transit"
    AT_CLIENT = "at_client"
    WRITTEN_OFF = "written_off"


SERIAL_LABELS = {SerialState.IN_STOCK: "На складе", SerialState.RESERVED: "В резерве",
                 SerialState.IN_TRANSIT: "В пути", SerialState.AT_CLIENT: "У клиента",
                 SerialState.WRITTEN_OFF: "Списан"}


@dataclass(frozen=True)
class Quantity:
    """How much of an item a request moves: a count, or the serial numbers themselves."""

    count: int
    serials: tuple[str, ...] = ()


def quantity_of(tracking: Tracking, quantity: int | None, serials: Sequence[str] | None,
                *, field_prefix: str = "") -> Quantity:
    """Check a request's quantity against how the item is tracked (422 naming the field)."""
    q_field, s_field = f"{field_prefix}quantity", f"{field_prefix}serials"
    if tracking is Tracking.SERIAL:
        if not serials:
            raise InvalidInput(s_field, "товар учитывается по серийным номерам: укажите их")
        cleaned = tuple(s.strip() for s in serials)
        if any(not s for s in cleaned):
            raise InvalidInput(s_field, "пустой серийный номер")
        if len(set(cleaned)) != len(cleaned):
            raise InvalidInput(s_field, "серийный номер повторяется")
        if quantity is not None and quantity != len(cleaned):
            raise InvalidInput(q_field, "количество не совпадает с числом серийных номеров")
        return Quantity(len(cleaned), cleaned)
    if serials:
        raise InvalidInput(s_field, "товар учитывается по количеству, серийные номера не нужны")
    if quantity is None:
        raise InvalidInput(q_field, "укажите количество")
    if quantity <= 0:
        raise InvalidInput(q_field, "количество должно быть больше нуля")
    return Quantity(quantity)


def not_enough(item: str, name: str, location: str, available: int, wanted: int) -> Conflict:
    return Conflict(f"недостаточно товара «{name}» ({item}) на месте «"
                    f"{LOCATION_LABELS.get(Location(location), location)}»: доступно "
                    f"{available}, нужно {wanted}", item=item, location=location,
                    available=available, wanted=wanted)


# --- shipments -------------------------------------------------------------------------------

class Carrier(StrEnum):
    DOSTAVISTA = "dostavista"
    CDEK = "cdek"
    DELLIN = "dellin"
    TRUCK = "truck"


CARRIER_LABELS = {
    Carrier.DOSTAVISTA: "Достависта (курьер по Москве)", Carrier.CDEK: "СДЭК",
    Carrier.DELLIN: "Деловые Линии",
    Carrier.TRUCK: "Грузовой транспорт (шлагбаумы, стрелы, турникеты)",
}


class ShipmentStatus(StrEnum):
    PLANNED = "planned"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


SHIPMENT_LABELS = {ShipmentStatus.PLANNED: "Запланирована", ShipmentStatus.IN_TRANSIT: "В пути",
                   ShipmentStatus.DELIVERED: "Доставлена", ShipmentStatus.CANCELLED: "Отменена"}


class CarrierStatus(StrEnum):
    """The carriers' many statuses folded into what the desk needs to see."""

    CREATED = "created"
    COURIER_ASSIGNED = "courier_assigned"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PROBLEM = "problem"


CARRIER_STATUS_LABELS = {
    CarrierStatus.CREATED: "Заказ принят перевозчиком",
    CarrierStatus.COURIER_ASSIGNED: "Курьер назначен",
    CarrierStatus.IN_TRANSIT: "Груз в пути", CarrierStatus.DELIVERED: "Доставлено перевозчиком",
    CarrierStatus.CANCELLED: "Отменено перевозчиком",
    CarrierStatus.PROBLEM: "Проблема с доставкой",
}

_SHIPMENT_MOVES = {
    ShipmentStatus.PLANNED: {ShipmentStatus.IN_TRANSIT, ShipmentStatus.CANCELLED},
    ShipmentStatus.IN_TRANSIT: {ShipmentStatus.DELIVERED},
    ShipmentStatus.DELIVERED: set(),
    ShipmentStatus.CANCELLED: set(),
}


def shipment_move(current: ShipmentStatus, wanted: ShipmentStatus) -> ShipmentStatus:
    if wanted not in _SHIPMENT_MOVES[current]:
        raise Conflict(f"отгрузка в статусе «{SHIPMENT_LABELS[current]}» не может стать «"
                       f"{SHIPMENT_LABELS[wanted]}»", current_state=str(current))
    return wanted


def check_delivery_dates(shipped_on: date | None, delivered_on: date) -> None:
    if shipped_on is not None and delivered_on < shipped_on:
        raise InvalidInput("delivered_on", f"доставка не может быть раньше отгрузки "
                                           f"({shipped_on:%d.%m.%Y})")


def check_agreed_dates(arrival_on: date | None, ships_on: date | None) -> None:
    if arrival_on is not None and ships_on is not None and ships_on < arrival_on:
        raise InvalidInput("ships_on", f"отгрузка не может быть раньше прихода товара на склад "
                                       f"({arrival_on:%d.%m.%Y})")


def needs_large_vehicle(kinds: Sequence[str]) -> bool:
    return any(ItemKind(k) in LARGE_KINDS for k in kinds)


# --- document courier (seed 004 §6) ----------------------------------------------------------

class DeliveryStatus(StrEnum):
    REGISTERED = "registered"
    HANDED = "handed"
    DELIVERED = "delivered"
    RETURNED = "returned"
    ARCHIVED = "archived"


DELIVERY_LABELS = {
    DeliveryStatus.REGISTERED: "Зарегистрирована", DeliveryStatus.HANDED: "Передана курьеру",
    DeliveryStatus.DELIVERED: "Доставлена", DeliveryStatus.RETURNED: "Оригиналы возвращены",
    DeliveryStatus.ARCHIVED: "Передана в бухгалтерию",
}


class CourierKind(StrEnum):
    COURIER = "courier"
    SALES = "sales"


COURIER_KIND_LABELS = {CourierKind.COURIER: "Курьер", CourierKind.SALES: "Менеджер ОП"}

_DELIVERY_MOVES = {
    DeliveryStatus.REGISTERED: {DeliveryStatus.HANDED},
    DeliveryStatus.HANDED: {DeliveryStatus.DELIVERED},
    DeliveryStatus.DELIVERED: {DeliveryStatus.RETURNED},
    DeliveryStatus.RETURNED: {DeliveryStatus.ARCHIVED},
    DeliveryStatus.ARCHIVED: set(),
}


def delivery_move(current: DeliveryStatus, wanted: DeliveryStatus) -> DeliveryStatus:
    if wanted not in _DELIVERY_MOVES[current]:
        raise Conflict(f"доставка документов в статусе «{DELIVERY_LABELS[current]}» не может "
                       f"стать «{DELIVERY_LABELS[wanted]}»", current_state=str(current))
    return wanted


def journal_number(year: int, seq: int) -> str:
    """The document-delivery journal's number: gap-free within a year."""
    return f"ДД-{year}/{seq:04d}"


DEFAULT_ORIGINALS_DAYS = 10
"""Calendar days the counterparty has to return the originals when no date was agreed."""


@cache
def _ru_calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def next_working_day(day: date, after: int = 1) -> date:
    """The ``after``-th working day after ``day`` (Russian production calendar)."""
    for _ in range(after):
        day += timedelta(days=1)
        while not _ru_calendar().is_working_day(day):
            day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class FollowUp:
    """When something still outstanding after an anchor date (originals due, closing
    documents sent) gets its reminder and then its escalation to the head, in working days."""

    remind_after_working_days: int = 1
    escalate_after_working_days: int = 3

    def reminder_on(self, anchor: date) -> date:
        return next_working_day(anchor, self.remind_after_working_days)

    def escalation_on(self, anchor: date) -> date:
        return next_working_day(self.reminder_on(anchor), self.escalate_after_working_days)

    def actions(self, anchor: date, on: date, *, reminded: bool, escalated: bool
                ) -> tuple[bool, bool]:
        """(remind now?, escalate now?) for something still outstanding on ``on``."""
        remind = not reminded and on >= self.reminder_on(anchor)
        escalate = not escalated and on >= self.escalation_on(anchor)
        return remind, escalate


OriginalsControl = FollowUp
"""Originals: reminded the first working day after they were due, the head 3 days later."""


# --- closing documents (seed 000 §4) and documents received from clients (004 q. 4-5) --------

class ClosingKind(StrEnum):
    UPD = "upd"
    ACT = "act"


CLOSING_KIND_LABELS = {ClosingKind.UPD: "УПД", ClosingKind.ACT: "Акт выполненных работ"}


class ClosingStatus(StrEnum):
    EXPECTED = "expected"
    SENT = "sent"
    SIGNED = "signed"
    RETURNED = "returned"


CLOSING_LABELS = {ClosingStatus.EXPECTED: "Ожидается", ClosingStatus.SENT: "Отправлен клиенту",
                  ClosingStatus.SIGNED: "Подписан клиентом",
                  ClosingStatus.RETURNED: "Оригинал получен"}

_CLOSING_MOVES = {
    ClosingStatus.EXPECTED: {ClosingStatus.SENT},
    ClosingStatus.SENT: {ClosingStatus.SIGNED},
    ClosingStatus.SIGNED: {ClosingStatus.RETURNED},
    ClosingStatus.RETURNED: set(),
}


def closing_move(current: ClosingStatus, wanted: ClosingStatus) -> ClosingStatus:
    if wanted not in _CLOSING_MOVES[current]:
        raise Conflict(f"закрывающий документ в статусе «{CLOSING_LABELS[current]}» не может "
                       f"стать «{CLOSING_LABELS[wanted]}»", current_state=str(current))
    return wanted


class ReceivedKind(StrEnum):
    INVOICE = "invoice"
    ACT = "act"
    VAT_INVOICE = "vat_invoice"
    UPD = "upd"


RECEIVED_KIND_LABELS = {ReceivedKind.INVOICE: "Счёт на оплату",
                        ReceivedKind.ACT: "Акт выполненных работ",
                        ReceivedKind.VAT_INVOICE: "Счёт-фактура", ReceivedKind.UPD: "УПД"}


# --- purchasing (seed 000 §9, 10) ------------------------------------------------------------

class PurchaseStatus(StrEnum):
    ORDERED = "ordered"
    INVOICED = "invoiced"
    RECEIVED = "received"
    CANCELLED = "cancelled"


PURCHASE_LABELS = {PurchaseStatus.ORDERED: "Заказан", PurchaseStatus.INVOICED: "Счёт получен",
                   PurchaseStatus.RECEIVED: "Товар получен",
                   PurchaseStatus.CANCELLED: "Отменён"}

_PURCHASE_MOVES = {
    PurchaseStatus.ORDERED: {PurchaseStatus.INVOICED, PurchaseStatus.RECEIVED,
                             PurchaseStatus.CANCELLED},
    PurchaseStatus.INVOICED: {PurchaseStatus.RECEIVED},
    PurchaseStatus.RECEIVED: set(),
    PurchaseStatus.CANCELLED: set(),
}


def purchase_move(current: PurchaseStatus, wanted: PurchaseStatus) -> PurchaseStatus:
    if wanted not in _PURCHASE_MOVES[current]:
        raise Conflict(f"заказ поставщику в статусе «{PURCHASE_LABELS[current]}» не может "
                       f"стать «{PURCHASE_LABELS[wanted]}»", current_state=str(current))
    return wanted


def price_change_percent(previous: Decimal | None, current: Decimal) -> Decimal | None:
    """How much a supplier's price moved against its previous entry, in percent (1 place)."""
    if previous is None or previous == 0:
        return None
    return ((current - previous) / previous * 100).quantize(Decimal("0.1"))


class RequestStatus(StrEnum):
    OPEN = "open"
    RESERVED = "reserved"
    ORDERED = "ordered"
    DONE = "done"


REQUEST_LABELS = {RequestStatus.OPEN: "Новая", RequestStatus.RESERVED: "Зарезервировано",
                  RequestStatus.ORDERED: "Заказано у поставщика",
                  RequestStatus.DONE: "Выполнена"}


class SearchStatus(StrEnum):
    OPEN = "open"
    FOUND = "found"
    CLOSED = "closed"


SEARCH_LABELS = {SearchStatus.OPEN: "Ищем", SearchStatus.FOUND: "Найден поставщик",
                 SearchStatus.CLOSED: "Закрыт"}
