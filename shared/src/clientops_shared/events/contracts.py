"""Events published by the contracts service."""

from __future__ import annotations

import uuid
from datetime import date

from clientops_shared.events.base import Event
from clientops_shared.types import Money


class ClientRegistered(Event):
    TYPE = "contracts.client.registered"
    client_id: uuid.UUID
    name: str
    inn: str
    kpp: str | None = None
    email: str | None = None
    phone: str | None = None
    manager: str | None = None


class ClientUpdated(ClientRegistered):
    TYPE = "contracts.client.updated"


class ClientReassigned(Event):
    TYPE = "contracts.client.reassigned"
    client_id: uuid.UUID
    name: str
    previous_manager: str | None
    manager: str | None


class _ContractRef(Event):
    contract_id: uuid.UUID
    number: str
    client_id: uuid.UUID


class ContractSubmittedForApproval(_ContractRef):
    TYPE = "contracts.contract.submitted_for_approval"
    manager: str | None = None


class ContractApproved(_ContractRef):
    TYPE = "contracts.contract.approved"
    decided_by: str
    reason: str | None = None


class ContractRejected(ContractApproved):
    TYPE = "contracts.contract.rejected"


class ContractSigned(_ContractRef):
    """Carries what billing, field-ops and notifications need, so none of them asks back."""

    TYPE = "contracts.contract.signed"
    client_name: str
    client_inn: str
    client_email: str | None = None
    manager: str | None = None
    kind: str
    status: str
    signed_on: date
    starts_on: date
    ends_on: date | None = None
    monthly_fee: Money
    vat_mode: str = "on_top"
    payment_form: str = "cashless"
    auto_renew: bool = False
    standard: bool = True
    site_id: uuid.UUID | None = None
    replaces_id: uuid.UUID | None = None
    emergency_sla_days: int | None = None
    bill_from_install: bool = False


class ContractAmended(_ContractRef):
    TYPE = "contracts.contract.amended"
    amendment_id: uuid.UUID
    kind: str  # fee_change | extension
    effective_on: date
    monthly_fee: Money | None = None
    ends_on: date | None = None


class ContractSuspended(_ContractRef):
    TYPE = "contracts.contract.suspended"
    effective_on: date
    resume_on: date | None = None


class ContractResumed(_ContractRef):
    TYPE = "contracts.contract.resumed"
    effective_on: date


class ContractTerminated(_ContractRef):
    TYPE = "contracts.contract.terminated"
    effective_on: date
    reason: str | None = None


class ContractRenewed(_ContractRef):
    TYPE = "contracts.contract.renewed"
    starts_on: date
    ends_on: date


class ContractExpiring(_ContractRef):
    TYPE = "contracts.contract.expiring"
    ends_on: date
    threshold_days: int
    auto_renew: bool
    manager: str | None = None


class ChangeRequestSubmitted(Event):
    TYPE = "contracts.change_request.submitted"
    request_id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    summary: str


class ChangeRequestDecided(Event):
    TYPE = "contracts.change_request.decided"
    request_id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    approved: bool
    decided_by: str
    reason: str | None = None


class PilotEnded(_ContractRef):
    TYPE = "contracts.pilot.ended"
    ended_on: date


class PilotConverted(_ContractRef):
    TYPE = "contracts.pilot.converted"
    new_contract_id: uuid.UUID


class ClaimOpened(Event):
    TYPE = "contracts.claim.opened"
    claim_id: uuid.UUID
    client_id: uuid.UUID
    contract_id: uuid.UUID | None = None
    subject: str
    amount: Money | None = None
    answer_due_on: date | None = None
    lawyer: str | None = None
    churn_risk: bool = False


class ClaimStageChanged(Event):
    TYPE = "contracts.claim.stage_changed"
    claim_id: uuid.UUID
    client_id: uuid.UUID
    stage: str


class DealCreated(Event):
    TYPE = "contracts.deal.created"
    deal_id: uuid.UUID
    client_id: uuid.UUID
    title: str
    amount: Money | None = None
    owner: str | None = None


class FeedbackRecorded(Event):
    TYPE = "contracts.feedback.recorded"
    feedback_id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    text: str
