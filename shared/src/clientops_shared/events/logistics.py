"""Events published by the logistics service."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from clientops_shared.events.base import Event


class ShipmentLine(BaseModel):
    """One line of a shipment as consumers need it (field-ops schedules the install)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item: str
    name: str
    kind: str
    quantity: int
    serials: list[str] = Field(default_factory=list)


class ShipmentPlanned(Event):
    TYPE = "logistics.shipment.planned"
    AGGREGATE = ("shipment", "shipment_id")
    shipment_id: uuid.UUID
    client_id: uuid.UUID
    carrier: str
    planned_on: date | None = None
    # additive (v1)
    number: str | None = None
    site_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    arrival_on: date | None = None


class ShipmentDispatched(Event):
    """Handed to the carrier: the goods are on their way to the client's site."""

    TYPE = "logistics.shipment.dispatched"
    AGGREGATE = ("shipment", "shipment_id")
    shipment_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    carrier: str
    tracking_number: str | None = None
    shipped_on: date


class ShipmentDelivered(Event):
    TYPE = "logistics.shipment.delivered"
    AGGREGATE = ("shipment", "shipment_id")
    shipment_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    delivered_on: date
    # additive (v1): what field-ops needs to schedule the install
    number: str | None = None
    work_order_id: uuid.UUID | None = None
    received_by: str | None = None
    lines: list[ShipmentLine] = Field(default_factory=list)


class StockLow(Event):
    """What is available of an item fell below its minimum: logistics should reorder."""

    TYPE = "logistics.stock.low"
    item: str
    name: str
    available: int
    min_stock: int


class StockReplenished(Event):
    TYPE = "logistics.stock.replenished"
    item: str
    name: str
    available: int
    min_stock: int


class CourierBalanceLow(Event):
    """The prepaid courier account (Dostavista) is below its threshold (seed 000 §3)."""

    TYPE = "logistics.courier_balance.low"
    carrier: str
    balance: Decimal
    threshold: Decimal


class OriginalsReminderDue(Event):
    """Originals are late: remind the counterparty (once per delivery)."""

    TYPE = "logistics.originals.reminder_due"
    delivery_id: uuid.UUID
    journal_number: str
    client_id: uuid.UUID
    due_on: date
    documents: list[str] = Field(default_factory=list)


class OriginalsOverdue(Event):
    TYPE = "logistics.originals.overdue"
    delivery_id: uuid.UUID
    client_id: uuid.UUID
    due_on: date
    # additive (v1)
    journal_number: str | None = None
    documents: list[str] = Field(default_factory=list)


class OriginalsReturned(Event):
    """Every original of a delivery is back: the reminder is over."""

    TYPE = "logistics.originals.returned"
    delivery_id: uuid.UUID
    journal_number: str
    client_id: uuid.UUID
    returned_on: date


class ClosingDocsUnsigned(Event):
    """Closing documents (UPD / act) sent to the client are still unsigned: remind the client."""

    TYPE = "logistics.closing_docs.unsigned"
    document_id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    number: str | None = None
    sent_on: date
    shipment_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None


class ClosingDocsOverdue(ClosingDocsUnsigned):
    """Still unsigned after the reminder: the head is told (once)."""

    TYPE = "logistics.closing_docs.overdue"


class ClosingDocsSigned(Event):
    TYPE = "logistics.closing_docs.signed"
    document_id: uuid.UUID
    client_id: uuid.UUID
    signed_on: date
    shipment_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None


class SupplierInvoiceRecorded(Event):
    """A supplier's invoice for a purchase order was entered at the logistics desk: billing's
    payables take it from here (seed 000 §10: into PlanFact, a payment task, paid)."""

    TYPE = "logistics.supplier_invoice.recorded"
    purchase_order_id: uuid.UUID
    order_number: str
    supplier_name: str
    supplier_inn: str
    number: str
    issued_on: date
    amount: Decimal
    vat: Decimal
    due_on: date | None = None
    category: str = "equipment"
    description: str


class PurchaseOrderOverdue(Event):
    """The supplier did not ship by the agreed date (flagged once per order)."""

    TYPE = "logistics.purchase_order.overdue"
    purchase_order_id: uuid.UUID
    order_number: str
    supplier_name: str
    expected_ship_on: date


class GoodsReceived(Event):
    TYPE = "logistics.goods.received"
    purchase_order_id: uuid.UUID
    order_number: str
    supplier_name: str
    received_on: date
    remote_acceptance: bool = False
    request_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
