"""Billing's aggregates: what to bill (subscriptions) and its own view of clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(eq=False)
class ClientAccount:
    """Billing's projection of a client (from contracts events): name, INN, e-mail, manager."""

    client_id: uuid.UUID
    name: str
    inn: str
    email: str | None = None
    manager: str | None = None


@dataclass(eq=False)
class Subscription:
    """One contract's billing terms: from which date, at which fee, with which VAT mode."""

    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    kind: str
    monthly_fee: Decimal
    starts_on: date
    vat_mode: str = "on_top"
    ends_on: date | None = None
    bill_from_install: bool = False
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
