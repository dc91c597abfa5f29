"""Events published by the logistics service."""

from __future__ import annotations

import uuid
from datetime import date

from clientops_shared.events.base import Event


class ShipmentPlanned(Event):
    TYPE = "logistics.shipment.planned"
    shipment_id: uuid.UUID
    client_id: uuid.UUID
    carrier: str
    planned_on: date | None = None


class ShipmentDelivered(Event):
    TYPE = "logistics.shipment.delivered"
    shipment_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    delivered_on: date


class OriginalsOverdue(Event):
    TYPE = "logistics.originals.overdue"
    delivery_id: uuid.UUID
    client_id: uuid.UUID
    due_on: date
