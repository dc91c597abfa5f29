"""Clients, sites and contracts: plain Python, no I/O.

The contract lifecycle is a small state machine; every illegal move raises ``Conflict`` naming
the current state so the API can answer 409 with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from clientops_shared.errors import Conflict, InvalidInput


class ContractKind(StrEnum):
    SUBSCRIPTION = "subscription"
    SUPPLY = "supply"
    RENT = "rent"
    MAINTENANCE = "maintenance"
    PILOT = "pilot"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SIGNED = "signed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"


class VatMode(StrEnum):
    ON_TOP = "on_top"
    INCLUSIVE = "inclusive"
    EXEMPT = "exempt"


class PaymentForm(StrEnum):
    CASHLESS = "cashless"
    CASH = "cash"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Client:
    name: str
    inn: str
    email: str | None = None
    kpp: str | None = None
    phone: str | None = None
    manager: str | None = None
    legal_address: str | None = None
    source: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def reassign(self, manager: str | None) -> str | None:
        previous, self.manager = self.manager, manager
        return previous


@dataclass(eq=False)
class Site:
    client_id: uuid.UUID
    name: str
    address: str
    access_points: int = 0
    server_format: str = "cloud"
    equipment_summary: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)


@dataclass(eq=False)
class Contract:
    client_id: uuid.UUID
    number: str
    kind: ContractKind
    starts_on: date
    monthly_fee: Decimal
    ends_on: date | None = None
    auto_renew: bool = False
    standard: bool = True
    site_id: uuid.UUID | None = None
    vat_mode: VatMode = VatMode.ON_TOP
    payment_form: PaymentForm = PaymentForm.CASHLESS
    notice_days: int = 30
    emergency_sla_days: int | None = None
    bill_from_install: bool = False
    replaces_id: uuid.UUID | None = None
    status: ContractStatus = ContractStatus.DRAFT
    signed_on: date | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise InvalidInput("ends_on", "the contract cannot end before it starts")
        if self.monthly_fee < 0:
            raise InvalidInput("monthly_fee", "must not be negative")

    def _refuse(self, action: str) -> Conflict:
        return Conflict(f"cannot {action} a contract in state {self.status}",
                        current_state=str(self.status))

    def submit_for_approval(self) -> None:
        if self.standard:
            raise Conflict("a standard contract needs no approval",
                           current_state=str(self.status))
        if self.status not in (ContractStatus.DRAFT, ContractStatus.REJECTED):
            raise self._refuse("submit for approval")
        self.status = ContractStatus.PENDING_APPROVAL

    def approve(self, by: str, reason: str | None = None) -> None:
        if self.status != ContractStatus.PENDING_APPROVAL:
            raise self._refuse("approve")
        self.status, self.decided_by, self.decision_reason = ContractStatus.APPROVED, by, reason

    def reject(self, by: str, reason: str) -> None:
        if self.status != ContractStatus.PENDING_APPROVAL:
            raise self._refuse("reject")
        self.status, self.decided_by, self.decision_reason = ContractStatus.REJECTED, by, reason

    def sign(self, signed_on: date) -> ContractStatus:
        """Signed contracts become active on their start date (at once if it has come)."""
        allowed = (ContractStatus.DRAFT,) if self.standard else (ContractStatus.APPROVED,)
        if self.status not in allowed:
            if not self.standard and self.status in (ContractStatus.DRAFT,
                                                     ContractStatus.PENDING_APPROVAL,
                                                     ContractStatus.REJECTED):
                raise Conflict("a non-standard contract must be approved by the head before "
                               "signing", current_state=str(self.status))
            raise self._refuse("sign")
        self.signed_on = signed_on
        self.status = (ContractStatus.ACTIVE if self.starts_on <= signed_on
                       else ContractStatus.SIGNED)
        return self.status

    def activate(self, on: date) -> bool:
        if self.status == ContractStatus.SIGNED and self.starts_on <= on:
            self.status = ContractStatus.ACTIVE
            return True
        return False
