"""Events published by the contracts service."""

from __future__ import annotations

import uuid
from datetime import date

from clientops_shared.events.base import Event
from clientops_shared.types import Money


class ClientRegistered(Event):
    TYPE = "contracts.client.registered"
    AGGREGATE = ("client", "client_id")
    client_id: uuid.UUID
    name: str
    inn: str
    kpp: str | None = None
    email: str | None = None
    phone: str | None = None
    manager: str | None = None
    # additive (v1): the rest of the client card
    legal_address: str | None = None
    source: str | None = None


class ClientUpdated(ClientRegistered):
    TYPE = "contracts.client.updated"


class ClientReassigned(Event):
    TYPE = "contracts.client.reassigned"
    AGGREGATE = ("client", "client_id")
    client_id: uuid.UUID
    name: str
    previous_manager: str | None
    manager: str | None


class _ContractRef(Event):
    AGGREGATE = ("contract", "contract_id")
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
    # additive (v1): what a rent contract (we are Арендатор) needs to open the site owner's
    # rent agreement in billing — the site, and the owner's bank account for cashless rent
    site_name: str | None = None
    site_address: str | None = None
    client_bank_name: str | None = None
    client_bik: str | None = None
    client_account: str | None = None
    # additive (v1): planned maintenance visits (field-ops generates the orders ahead of time)
    scheduled_visits: int | None = None
    visit_period: str | None = None


class SiteRegistered(Event):
    """A client's site (an address where equipment stands): field-ops keeps a directory."""

    TYPE = "contracts.site.registered"
    site_id: uuid.UUID
    client_id: uuid.UUID
    name: str
    address: str
    access_points: int = 0
    server_format: str | None = None
    equipment_summary: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


class SiteUpdated(SiteRegistered):
    TYPE = "contracts.site.updated"


class ContractAmended(_ContractRef):
    TYPE = "contracts.contract.amended"
    amendment_id: uuid.UUID
    kind: str  # fee_change | extension
    effective_on: date
    monthly_fee: Money | None = None
    ends_on: date | None = None
    # additive (v1): when the client was notified (fee change) and what caused the amendment
    notice_on: date | None = None
    previous_monthly_fee: Money | None = None
    previous_ends_on: date | None = None
    change_request_id: uuid.UUID | None = None


class ContractSuspended(_ContractRef):
    TYPE = "contracts.contract.suspended"
    effective_on: date
    resume_on: date | None = None
    # additive (v1)
    amendment_id: uuid.UUID | None = None
    reason: str | None = None


class ContractResumed(_ContractRef):
    TYPE = "contracts.contract.resumed"
    effective_on: date


class ContractTerminated(_ContractRef):
    TYPE = "contracts.contract.terminated"
    effective_on: date
    reason: str | None = None
    # additive (v1): the amendment recording it; the contract that replaces this one
    amendment_id: uuid.UUID | None = None
    replaced_by_id: uuid.UUID | None = None


class ContractRenewed(_ContractRef):
    TYPE = "contracts.contract.renewed"
    starts_on: date
    ends_on: date
    # additive (v1): first day of the new term (= starts_on), its fee, the previous end
    effective_on: date | None = None
    monthly_fee: Money | None = None
    previous_ends_on: date | None = None


class ContractExpiring(_ContractRef):
    TYPE = "contracts.contract.expiring"
    ends_on: date
    threshold_days: int
    auto_renew: bool
    manager: str | None = None
    # additive (v1): the day the job noticed it, and the days then left
    on: date | None = None
    days_left: int | None = None
    client_name: str | None = None


class ContractActivated(_ContractRef):
    """A contract signed ahead of its start date reached it (the daily job).

    A contract signed on or after its start date is active from ``contracts.contract.signed``
    (its ``status`` is ``active``); no separate activation follows.
    """

    TYPE = "contracts.contract.activated"
    starts_on: date


class ContractExpired(_ContractRef):
    """A contract without auto-renewal passed its end date; ``ends_on`` was its last day."""

    TYPE = "contracts.contract.expired"
    ends_on: date
    kind: str | None = None


class ChangeRequestSubmitted(Event):
    TYPE = "contracts.change_request.submitted"
    request_id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    summary: str
    # additive (v1): what the client asks for and who owns the client
    kind: str | None = None
    manager: str | None = None
    number: str | None = None


class ChangeRequestDecided(Event):
    TYPE = "contracts.change_request.decided"
    request_id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    approved: bool
    decided_by: str
    reason: str | None = None
    # additive (v1): the amendment an approved request became
    amendment_id: uuid.UUID | None = None


class PilotEnded(_ContractRef):
    TYPE = "contracts.pilot.ended"
    ended_on: date
    # additive (v1): the outcome the manager recorded (None: ended by its date, not yet known)
    outcome: str | None = None
    manager: str | None = None


class PilotConverted(_ContractRef):
    TYPE = "contracts.pilot.converted"
    new_contract_id: uuid.UUID
    # additive (v1): the paid contract that starts billing
    new_number: str | None = None
    starts_on: date | None = None
    monthly_fee: Money | None = None


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
    # additive (v1)
    manager: str | None = None


class ClaimStageChanged(Event):
    TYPE = "contracts.claim.stage_changed"
    claim_id: uuid.UUID
    client_id: uuid.UUID
    stage: str
    # additive (v1)
    previous_stage: str | None = None
    note: str | None = None


class ClaimChurnRiskFlagged(Event):
    """A claim's client was marked as leaving (or no longer): a retention matter."""

    TYPE = "contracts.claim.churn_risk_flagged"
    claim_id: uuid.UUID
    client_id: uuid.UUID
    subject: str
    churn_risk: bool
    manager: str | None = None


class ClaimDecisionAttached(Event):
    """A court decision (a stored document) was attached to a claim."""

    TYPE = "contracts.claim.decision_attached"
    claim_id: uuid.UUID
    client_id: uuid.UUID
    document_id: uuid.UUID
    filename: str


class DealCreated(Event):
    TYPE = "contracts.deal.created"
    deal_id: uuid.UUID
    client_id: uuid.UUID
    title: str
    amount: Money | None = None
    owner: str | None = None
    # additive (v1)
    stage: str | None = None
    equipment: str | None = None
    handed_to_sales: bool = False


class DealStageChanged(Event):
    TYPE = "contracts.deal.stage_changed"
    deal_id: uuid.UUID
    client_id: uuid.UUID
    stage: str
    previous_stage: str
    owner: str | None = None
    amount: Money | None = None


class DealHandedOver(Event):
    """An upsell handed to a sales manager (seed 000 §14)."""

    TYPE = "contracts.deal.handed_over"
    deal_id: uuid.UUID
    client_id: uuid.UUID
    title: str
    owner: str
    previous_owner: str | None = None
    amount: Money | None = None


class FeedbackRecorded(Event):
    TYPE = "contracts.feedback.recorded"
    feedback_id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    text: str
    # additive (v1)
    recorded_by: str | None = None


class DocumentUploaded(Event):
    """A scan (signed contract, court decision) was stored for a client."""

    TYPE = "contracts.document.uploaded"
    document_id: uuid.UUID
    client_id: uuid.UUID
    contract_id: uuid.UUID | None = None
    claim_id: uuid.UUID | None = None
    kind: str
    filename: str
    content_type: str
    size: int
