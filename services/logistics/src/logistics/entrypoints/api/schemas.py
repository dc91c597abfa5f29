"""Request bodies of the logistics API: every input bounded at the door (422 naming it)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from clientops_shared.types import PositiveMoney
from logistics.domain.model import (
    Carrier,
    ClosingKind,
    CourierKind,
    ItemKind,
    Location,
    MoveReason,
    ReceivedKind,
    SearchStatus,
    Tracking,
)


def _bounded(value: date) -> date:
    latest = date.today() + timedelta(days=5 * 366)
    if not date(2000, 1, 1) <= value <= latest:
        raise ValueError(f"дата вне допустимого диапазона (01.01.2000 — {latest:%d.%m.%Y})")
    return value


Day = Annotated[date, AfterValidator(_bounded)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                       pattern=r"^[A-Za-z0-9А-Яа-яЁё._\-/]+$")]
Serial = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32,
                                         pattern=r"^\+?[0-9 ()\-]+$")]
Count = Annotated[int, Field(gt=0, le=100_000)]
Serials = Annotated[list[Serial], Field(min_length=1, max_length=500)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(Body):
    sku: Sku
    name: ShortText
    kind: ItemKind
    tracking: Tracking
    min_stock: Annotated[int, Field(ge=0, le=100_000)] = 0


class ReceiptIn(Body):
    item: Sku
    quantity: Count | None = None
    serials: Serials | None = None
    location: Location = Location.WAREHOUSE
    received_on: Day | None = None
    note: Text | None = None


class MoveIn(Body):
    item: Sku
    quantity: Count | None = None
    serials: Serials | None = None
    from_location: Location
    to_location: Location
    reason: MoveReason
    note: Text | None = None


class ReservationIn(Body):
    item: Sku
    quantity: Count | None = None
    serials: Serials | None = None
    location: Location = Location.WAREHOUSE
    work_order_id: uuid.UUID | None = None
    shipment_id: uuid.UUID | None = None
    note: Text | None = None


class LineIn(Body):
    item: Sku
    quantity: Count | None = None
    serials: Serials | None = None
    reservation_id: uuid.UUID | None = None


class ShipmentIn(Body):
    client_id: uuid.UUID
    site_id: uuid.UUID
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100)]
    carrier: Carrier
    work_order_id: uuid.UUID | None = None
    address: Text | None = None
    contact_name: ShortText | None = None
    contact_phone: Phone | None = None
    arrival_on: Day | None = None
    ships_on: Day | None = None


class DatesIn(Body):
    arrival_on: Day | None = None
    ships_on: Day | None = None


class DispatchIn(Body):
    shipped_on: Day


class DeliveredIn(Body):
    delivered_on: Day
    received_by: ShortText


class DocumentIn(Body):
    title: ShortText
    original_required: bool = True


class DocumentDeliveryIn(Body):
    client_id: uuid.UUID
    documents: Annotated[list[ShortText | DocumentIn], Field(min_length=1, max_length=50)]
    originals_due_on: Day | None = None
    address: Text | None = None
    note: Text | None = None

    def titles(self) -> list[tuple[str, bool]]:
        return [(d, True) if isinstance(d, str) else (d.title, d.original_required)
                for d in self.documents]


class HandedIn(Body):
    courier: ShortText
    courier_kind: CourierKind = CourierKind.COURIER
    handed_on: Day


class DocDeliveredIn(Body):
    delivered_on: Day


class ReturnedIn(Body):
    returned_on: Day
    documents: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None


class AccountingIn(Body):
    handed_on: Day
    mark: Text | None = None


class ControlIn(Body):
    on: Day | None = None


Amount = Annotated[PositiveMoney, Field(lt=Decimal("10000000000"))]
DocNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ClosingIn(Body):
    client_id: uuid.UUID
    kind: ClosingKind
    expected_on: Day
    number: DocNumber | None = None
    amount: Amount | None = None
    shipment_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None


class ClosingSentIn(Body):
    sent_on: Day
    number: DocNumber | None = None
    amount: Amount | None = None


class ClosingSignedIn(Body):
    signed_on: Day


class ClosingReturnedIn(Body):
    returned_on: Day


class ReceivedIn(Body):
    client_id: uuid.UUID
    kind: ReceivedKind
    number: DocNumber
    issued_on: Day
    amount: Amount | None = None
    received_on: Day


class ToAccountingIn(Body):
    documents: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)]
    handed_on: Day


class ContactIn(Body):
    name: ShortText
    phone: Phone | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    role: ShortText | None = None


class SupplierIn(Body):
    name: ShortText
    inn: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=20)]
    contacts: Annotated[list[ContactIn], Field(max_length=20)] = []
    notes: Text | None = None


class PriceIn(Body):
    item: Sku
    price: Amount
    valid_from: Day
    availability: ShortText | None = None


class PurchaseLineIn(Body):
    item: Sku
    quantity: Count
    price: Amount


class PurchaseOrderIn(Body):
    supplier_id: uuid.UUID
    lines: Annotated[list[PurchaseLineIn], Field(min_length=1, max_length=100)]
    expected_ship_on: Day | None = None
    request_id: uuid.UUID | None = None
    note: Text | None = None


class SupplierInvoiceIn(Body):
    number: DocNumber
    issued_on: Day
    amount: Amount
    vat: Annotated[Decimal, Field(ge=0, lt=Decimal("10000000000"), decimal_places=2)]
    due_on: Day | None = None


class ShipDateIn(Body):
    expected_ship_on: Day


class GoodsReceivedIn(Body):
    received_on: Day
    location: Location = Location.WAREHOUSE
    serials: Annotated[dict[Sku, Serials], Field(max_length=100)] = {}
    remote: bool = False
    note: Text | None = None


class PartLineIn(Body):
    item: Sku
    quantity: Count


class PurchaseRequestIn(Body):
    work_order_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    lines: Annotated[list[PartLineIn], Field(min_length=1, max_length=50)]
    needed_by: Day | None = None


class SearchIn(Body):
    title: ShortText
    description: Text | None = None


class SearchNoteIn(Body):
    text: Text
    status: SearchStatus | None = None
    supplier_id: uuid.UUID | None = None
