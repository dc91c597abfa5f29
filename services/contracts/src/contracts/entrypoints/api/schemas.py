"""Request and response bodies of the contracts API (field names are the public contract)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from clientops_shared.types import BoundedInput, NonNegativeMoney, PositiveMoney
from contracts.domain import model
from contracts.domain.claims import ClaimStage
from contracts.domain.model import (
    AmendmentKind,
    AmendmentStatus,
    ChangeRequestKind,
    ChangeRequestState,
    ClientSource,
    ContactRole,
    ContractKind,
    ContractStatus,
    PaymentForm,
    PilotOutcome,
    ServerFormat,
    VatMode,
    VisitPeriod,
)
from contracts.domain.sales import Channel, DealStage, FeedbackKind
from contracts.domain.validation import (
    BankAccount,
    Bik,
    Inn,
    Kpp,
    Ogrn,
    PhoneE164,
    account_matches_bik,
    corr_account_matches_bik,
)

Name = Annotated[str, Field(min_length=1, max_length=300)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Username = Annotated[str, Field(min_length=1, max_length=100)]


class Strict(BoundedInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- clients -------------------------------------------------------------------------------


class ContactIn(Strict):
    name: Name
    role: ContactRole = ContactRole.OTHER
    phone: PhoneE164 | None = None
    email: EmailStr | None = None
    position: str | None = Field(default=None, max_length=200)

    def domain(self) -> model.ContactPerson:
        return model.ContactPerson(**self.model_dump())


class BankIn(Strict):
    bank_name: Name
    bik: Bik
    account: BankAccount
    corr_account: BankAccount

    @model_validator(mode="after")
    def _keys_match_bik(self) -> Self:
        if not account_matches_bik(self.account, self.bik):
            raise ValueError(f"account {self.account} does not match BIK {self.bik}")
        if not corr_account_matches_bik(self.corr_account, self.bik):
            raise ValueError(f"correspondent account {self.corr_account} does not match BIK "
                             f"{self.bik}")
        return self

    def domain(self) -> model.BankDetails:
        return model.BankDetails(**self.model_dump())


class SignatoryIn(Strict):
    position: Name
    full_name: Name
    in_person_of: str | None = Field(default=None, max_length=300)
    basis: Name = "Устава"
    female: bool = False

    def domain(self) -> model.Signatory:
        return model.Signatory(**self.model_dump())


class _ClientCard(Strict):
    """Fields a client card has besides its identity (INN) and owner."""

    kpp: Kpp | None = None
    phone: PhoneE164 | None = None
    legal_address: str | None = Field(default=None, max_length=1000)
    postal_address: str | None = Field(default=None, max_length=1000)
    source: ClientSource | None = None
    ogrn: Ogrn | None = None
    bank: BankIn | None = None
    signatory: SignatoryIn | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)

    def domain_values(self, fields: set[str] | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in (fields if fields is not None else type(self).model_fields):
            value = getattr(self, key)
            if key == "contacts":
                value = tuple(c.domain() for c in value)
            elif isinstance(value, BankIn | SignatoryIn):
                value = value.domain()
            elif key == "source" and value is not None:
                value = str(value)
            values[key] = value
        return values


class ClientIn(_ClientCard):
    name: Name
    inn: Inn
    email: EmailStr
    manager: Username | None = None


class ClientPatch(_ClientCard):
    NOT_NULL = frozenset({"name", "email"})  # a patch may leave them out, never erase them

    name: Name | None = None
    email: EmailStr | None = None

    def changes(self) -> dict[str, Any]:
        return self.domain_values(set(self.model_fields_set))


class ContactOut(Out):
    name: str
    role: ContactRole
    phone: str | None
    email: str | None
    position: str | None


class BankOut(Out):
    bank_name: str
    bik: str
    account: str
    corr_account: str


class SignatoryOut(Out):
    position: str
    full_name: str
    in_person_of: str | None
    basis: str
    female: bool


class ClientOut(Out):
    id: uuid.UUID
    name: str
    inn: str
    kpp: str | None
    email: str | None
    phone: str | None
    manager: str | None
    legal_address: str | None
    postal_address: str | None = None
    source: str | None = None
    ogrn: str | None = None
    bank: BankOut | None = None
    signatory: SignatoryOut | None = None
    contacts: list[ContactOut] = []
    last_contact_on: date | None = None


class AssignIn(Strict):
    client_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    manager: Username


class AssignOut(BaseModel):
    manager: str | None
    reassigned: list[uuid.UUID]
    unchanged: int


class SiteIn(Strict):
    name: Name
    address: Annotated[str, Field(min_length=1, max_length=1000)]
    access_points: int = Field(default=0, ge=0, le=10000)
    server_format: ServerFormat = ServerFormat.CLOUD
    equipment_summary: str | None = Field(default=None, max_length=4000)
    contact_name: str | None = Field(default=None, max_length=300)
    contact_phone: PhoneE164 | None = None


class SitePatch(Strict):
    NOT_NULL = frozenset({"name", "address", "access_points", "server_format"})

    name: Name | None = None
    address: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    access_points: int | None = Field(default=None, ge=0, le=10000)
    server_format: ServerFormat | None = None
    equipment_summary: str | None = Field(default=None, max_length=4000)
    contact_name: str | None = Field(default=None, max_length=300)
    contact_phone: PhoneE164 | None = None


class SiteOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    address: str
    access_points: int
    server_format: str
    equipment_summary: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


class InteractionIn(Strict):
    channel: Channel
    on: date
    summary: Text
    contact_name: str | None = Field(default=None, max_length=300)


class InteractionOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    channel: Channel
    on: date
    summary: str
    contact_name: str | None
    recorded_by: str | None


# --- contracts ------------------------------------------------------------------------------


class _Terms(Strict):
    kind: ContractKind
    starts_on: date
    ends_on: date | None = None
    monthly_fee: NonNegativeMoney
    auto_renew: bool = False
    standard: bool = True
    site_id: uuid.UUID | None = None
    vat_mode: VatMode = VatMode.ON_TOP
    payment_form: PaymentForm = PaymentForm.CASHLESS
    notice_days: int = Field(default=30, ge=0, le=365)
    emergency_sla_days: int | None = Field(default=None, ge=1, le=10)
    bill_from_install: bool = False
    renewal_months: int = Field(default=12, ge=1, le=60)
    scheduled_visits: int | None = Field(default=None, ge=1, le=366)
    visit_period: VisitPeriod | None = None
    # "ends before it starts" and other cross-field rules are the domain's (422 naming the field)


class ContractIn(_Terms):
    client_id: uuid.UUID
    replaces_id: uuid.UUID | None = None


class ResignIn(Strict):
    """A re-signed contract: the old one's terms unless given here."""

    kind: ContractKind | None = None
    starts_on: date
    ends_on: date | None = None
    monthly_fee: NonNegativeMoney | None = None
    auto_renew: bool | None = None
    standard: bool | None = None
    site_id: uuid.UUID | None = None
    vat_mode: VatMode | None = None
    payment_form: PaymentForm | None = None
    notice_days: int | None = Field(default=None, ge=0, le=365)
    emergency_sla_days: int | None = Field(default=None, ge=1, le=10)
    renewal_months: int | None = Field(default=None, ge=1, le=60)


class ConvertIn(ResignIn):
    kind: ContractKind | None = ContractKind.SUBSCRIPTION
    monthly_fee: PositiveMoney  # type: ignore[assignment]
    signed_on: date | None = None


class ContractOut(Out):
    id: uuid.UUID
    number: str
    status: ContractStatus
    client_id: uuid.UUID
    kind: ContractKind
    starts_on: date
    ends_on: date | None
    signed_on: date | None
    monthly_fee: NonNegativeMoney
    vat_mode: VatMode
    payment_form: PaymentForm
    auto_renew: bool
    standard: bool
    site_id: uuid.UUID | None
    notice_days: int = 30
    emergency_sla_days: int | None = None
    bill_from_install: bool = False
    renewal_months: int = 12
    scheduled_visits: int | None = None
    visit_period: VisitPeriod | None = None
    replaces_id: uuid.UUID | None = None
    replaced_by_id: uuid.UUID | None = None
    suspended_on: date | None = None
    resume_on: date | None = None
    terminated_on: date | None = None
    termination_reason: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    pilot_outcome: PilotOutcome | None = None
    pilot_note: str | None = None
    pilot_ended_on: date | None = None


class SignIn(Strict):
    signed_on: date


class SignOut(Out):
    id: uuid.UUID
    number: str
    status: ContractStatus


class DecisionIn(Strict):
    reason: str | None = Field(default=None, max_length=2000)


class ExpiringOut(BaseModel):
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str
    manager: str | None
    kind: ContractKind
    status: ContractStatus
    ends_on: date
    days_left: int
    auto_renew: bool
    action: str
    monthly_fee: NonNegativeMoney
    last_contact_on: date | None


# --- amendments --------------------------------------------------------------------------------


class FeeChangeIn(Strict):
    new_fee: NonNegativeMoney
    notice_on: date | None = None  # when the client was notified; default: today
    effective_on: date | None = None  # default: the earliest the notice period allows
    signed_on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class ExtensionIn(Strict):
    new_ends_on: date
    effective_on: date | None = None  # default: the day after the current end
    new_fee: NonNegativeMoney | None = None
    signed_on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class SuspensionIn(Strict):
    effective_on: date
    resume_on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class TerminationIn(Strict):
    effective_on: date  # the first day without service
    reason: str | None = Field(default=None, max_length=2000)
    signed_on: date | None = None


class ResumeIn(Strict):
    effective_on: date


class AmendmentOut(Out):
    id: uuid.UUID
    contract_id: uuid.UUID
    number: int
    kind: AmendmentKind
    status: AmendmentStatus
    signed_on: date
    effective_on: date
    notice_on: date | None
    previous_fee: NonNegativeMoney
    previous_ends_on: date | None
    new_fee: NonNegativeMoney | None
    new_ends_on: date | None
    resume_on: date | None
    reason: str | None
    change_request_id: uuid.UUID | None
    replaced_by_id: uuid.UUID | None
    applied_on: date | None


class ChangeRequestIn(Strict):
    kind: ChangeRequestKind
    summary: Text
    details: str | None = Field(default=None, max_length=4000)
    received_on: date
    new_fee: NonNegativeMoney | None = None
    new_ends_on: date | None = None
    effective_on: date | None = None
    notice_on: date | None = None
    resume_on: date | None = None


class ChangeDecisionIn(Strict):
    approve: bool
    reason: str | None = Field(default=None, max_length=2000)


class ChangeRequestOut(Out):
    id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    kind: ChangeRequestKind
    state: ChangeRequestState
    summary: str
    details: str | None
    received_on: date
    new_fee: NonNegativeMoney | None
    new_ends_on: date | None
    effective_on: date | None
    notice_on: date | None
    resume_on: date | None
    decided_by: str | None
    decided_on: date | None
    decision_reason: str | None
    amendment_id: uuid.UUID | None
    submitted_by: str | None


# --- pilots -------------------------------------------------------------------------------------


class PilotEndIn(Strict):
    ended_on: date
    outcome: PilotOutcome | None = None
    note: str | None = Field(default=None, max_length=4000)


# --- jobs ---------------------------------------------------------------------------------------


class JobIn(Strict):
    on: date


class JobOut(BaseModel):
    job: str
    on: date
    ran: bool
    result: dict[str, Any] | None


# --- claims, deals, feedback ----------------------------------------------------------------


class ClaimIn(Strict):
    client_id: uuid.UUID
    contract_id: uuid.UUID | None = None
    subject: Name
    description: str | None = Field(default=None, max_length=10000)
    amount: NonNegativeMoney | None = None
    received_on: date
    answer_due_on: date | None = None
    lawyer: Username | None = None
    churn_risk: bool = False


class ClaimStageIn(Strict):
    stage: ClaimStage
    note: str | None = Field(default=None, max_length=4000)


class ClaimPatch(Strict):
    lawyer: Username | None = None
    churn_risk: bool | None = None


class ClaimOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    contract_id: uuid.UUID | None
    subject: str
    description: str | None
    amount: NonNegativeMoney | None
    received_on: date
    answer_due_on: date | None
    lawyer: str | None
    stage: ClaimStage
    stage_note: str | None
    churn_risk: bool
    closed_on: date | None
    opened_by: str | None


class DealIn(Strict):
    client_id: uuid.UUID
    title: Name
    equipment: str | None = Field(default=None, max_length=4000)
    amount: NonNegativeMoney | None = None
    owner: Username | None = None
    handed_to_sales: bool = False
    notes: str | None = Field(default=None, max_length=4000)


class DealStageIn(Strict):
    stage: DealStage


class DealHandOverIn(Strict):
    to: Username


class DealOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    title: str
    equipment: str | None
    amount: NonNegativeMoney | None
    stage: DealStage
    owner: str | None
    handed_to_sales: bool
    notes: str | None
    closed_on: date | None
    created_by: str | None


class FeedbackIn(Strict):
    kind: FeedbackKind
    text: Text
    recorded_on: date | None = None


class FeedbackOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    kind: FeedbackKind
    text: str
    recorded_on: date
    recorded_by: str | None


# --- stored documents -------------------------------------------------------------------------


class StoredDocumentOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    contract_id: uuid.UUID | None
    claim_id: uuid.UUID | None
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str | None
    created_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    type: str
    summary: str
    entity: str
    entity_id: uuid.UUID
