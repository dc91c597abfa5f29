from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, field_validator

from billing.domain.payables import PayableCategory
from billing.domain.periods import Period
from billing.domain.rent import PaymentForm, ReceiptKind, RegistryState
from billing.service_layer.dunning import CallOutcome
from clientops_shared.types import BoundedInput, Inn, Money, NonNegativeMoney, PositiveMoney


class _In(BoundedInput):
    model_config = ConfigDict(extra="forbid")


class FeeOut(BaseModel):
    effective_from: date
    monthly_fee: Money
    source: str


class SuspensionOut(BaseModel):
    suspended_from: date
    resume_on: date | None


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    client_name: str | None
    kind: str
    monthly_fee: Money
    vat_mode: str
    starts_on: date
    ends_on: date | None
    auto_renew: bool
    bill_from_install: bool
    service_start: date | None
    service_stop: date | None
    status: str
    fees: list[FeeOut]
    suspensions: list[SuspensionOut]


class PeriodIn(_In):
    period: str = Field(examples=["2026-12"])

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        return str(Period.parse(value))


class InvoiceRunIn(PeriodIn):
    confirm_out_of_range: bool = Field(
        False, validation_alias=AliasChoices("confirm_out_of_range", "confirm"),
        description="the head confirms a period outside [first contract month … next month]")


class RunFailureOut(BaseModel):
    contract_id: uuid.UUID
    contract_number: str | None
    reason: str


class InvoiceRunOut(BaseModel):
    id: uuid.UUID
    period: str
    status: str
    trigger: str
    requested_by: str
    total: int
    done: int
    issued: int
    skipped: int
    failed: int
    already: int = Field(0, description="invoices found already issued for the period "
                                        "(an earlier or concurrent run's)")
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    failures: list[RunFailureOut] = []


class InvoiceOut(BaseModel):
    id: uuid.UUID
    number: str
    kind: str
    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    client_name: str | None
    period: str
    revision: int
    amount: Money
    vat: Money
    total: Money
    paid: Money
    outstanding: Money
    status: str
    issued_on: date
    due_on: date
    paid_on: date | None
    corrects_id: uuid.UUID | None
    reason: str | None


class LineOut(BaseModel):
    position: int
    kind: str
    description: str
    service_from: date
    service_to: date
    days: int
    days_in_month: int
    fee: Money
    amount: Money
    vat_rate: Decimal | None
    vat: Money
    total: Money


class AllocationOut(BaseModel):
    payment_id: uuid.UUID
    amount: Money
    paid_on: date
    reference: str


class RelatedOut(BaseModel):
    id: uuid.UUID
    number: str
    kind: str
    status: str


class InvoiceDetailOut(InvoiceOut):
    client_inn: str | None
    client_email: str | None
    vat_mode: str
    lines: list[LineOut]
    payments: list[AllocationOut]
    corrected_by: list[RelatedOut]


class PaymentIn(_In):
    invoice_id: uuid.UUID | None = None
    payer_inn: Inn | None = None
    amount: PositiveMoney
    paid_on: date
    reference: str = Field(min_length=1, max_length=200)


class PaymentAllocationOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    amount: Money


class PaymentOut(BaseModel):
    id: uuid.UUID
    status: str
    client_id: uuid.UUID | None
    amount: Money
    allocated: Money
    unallocated: Money
    allocations: list[PaymentAllocationOut]
    note: str | None = None


class PaymentListOut(BaseModel):
    id: uuid.UUID
    source: str
    amount: Money
    paid_on: date
    payer_inn: str | None
    payer_name: str | None
    purpose: str | None
    reference: str
    client_id: uuid.UUID | None
    client_name: str | None
    status: str
    match_method: str | None
    note: str | None
    allocated: Money
    unallocated: Money


class PaymentInvoiceOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    period: str
    total: Money
    status: str
    amount: Money
    at: datetime


class PaymentDetailOut(PaymentListOut):
    client_inn: str | None
    created_by: str
    allocations: list[PaymentInvoiceOut]


class ApplyCreditIn(_In):
    invoice_id: uuid.UUID | None = None
    """The one open invoice to pay from the advance; none: every open invoice, oldest first."""


class MatchIn(_In):
    invoice_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None


class StatementPaymentOut(BaseModel):
    payment_id: uuid.UUID
    number: str
    line: int
    amount: Money
    payer_inn: str | None
    outcome: str
    method: str | None
    allocated: Money
    invoices: list[str]
    note: str | None


class StatementOut(BaseModel):
    id: uuid.UUID | None = None
    duplicate: bool
    sha256: str
    filename: str | None = None
    encoding: str | None = None
    documents: int = 0
    incoming: int = 0
    outgoing: int = 0
    already_imported: int = 0
    matched: int = 0
    partial: int = 0
    overpaid: int = 0
    unmatched: int = 0
    payments: list[StatementPaymentOut] = []


class DunningRunIn(_In):
    on: date


class DunningRunOut(BaseModel):
    on: date
    working_day: bool
    reminded: int
    already: int


class DunningNoteIn(_In):
    outcome: CallOutcome
    promised_on: date | None = None
    comment: str | None = Field(default=None, max_length=2000)


class DunningNoteOut(BaseModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    number: str
    outcome: str
    promised_on: date | None
    comment: str | None
    author: str


class ResendIn(_In):
    email: EmailStr | None = None


class ResendOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    email: str


class CorrectionIn(_In):
    reason: str = Field(min_length=3, max_length=500)
    amount: NonNegativeMoney | None = None
    """The period's fee as it should have been billed; omit to recompute from the terms."""


class CancellationIn(_In):
    reason: str = Field(min_length=3, max_length=500)


class CorrectionOut(BaseModel):
    period: str
    action: str
    credit_note: str | None
    new_invoice: str | None
    new_invoice_id: uuid.UUID | None
    adjustment_total: Money | None


class BalanceOut(BaseModel):
    client_id: uuid.UUID
    client_name: str | None
    inn: str | None
    manager: str | None
    invoiced: Money
    paid: Money
    outstanding: Money
    credit: Money
    balance: Money
    received: Money


class CreditAllocationOut(BaseModel):
    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    number: str
    amount: Money


class CreditAppliedOut(BaseModel):
    client_id: uuid.UUID
    applied: Money
    credit_left: Money | None = None
    allocations: list[CreditAllocationOut] = []


class PeriodReportRow(BaseModel):
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str | None
    inn: str | None
    manager: str | None
    contract_number: str
    total: Money
    paid: Money
    outstanding: Money
    status: str
    due_on: date
    paid_on: date | None


class AgingClientOut(BaseModel):
    client_id: uuid.UUID
    client_name: str | None
    manager: str | None
    not_due: Money
    d1_30: Money
    d31_60: Money
    d61_90: Money
    over_90: Money
    total: Money


class AgingOut(BaseModel):
    on: date
    buckets: list[str]
    totals: dict[str, Money]
    clients: list[AgingClientOut]


# --- site rent ----------------------------------------------------------------------------------

class RentAgreementIn(_In):
    number: str = Field(min_length=1, max_length=50)
    owner_name: str = Field(min_length=1, max_length=300)
    owner_inn: Inn
    owner_account: str | None = Field(default=None, pattern=r"^\d{20}$")
    owner_bic: str | None = Field(default=None, pattern=r"^\d{9}$")
    owner_bank: str | None = Field(default=None, max_length=300)
    site_id: uuid.UUID | None = None
    site_name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=500)
    starts_on: date
    ends_on: date | None = None
    terminals: int = Field(ge=1, le=1000)  # an agreement is for at least one terminal
    amount_per_terminal: NonNegativeMoney
    payment_form: PaymentForm


class RentChangeIn(_In):
    effective_from: date
    terminals: int | None = Field(default=None, ge=0, le=1000)
    amount_per_terminal: NonNegativeMoney | None = None
    payment_form: PaymentForm | None = None
    note: str | None = Field(default=None, max_length=500)


class RentTermOut(BaseModel):
    effective_from: date
    terminals: int
    amount_per_terminal: Money
    payment_form: str
    monthly_amount: Money


class RentAgreementOut(BaseModel):
    id: uuid.UUID
    number: str
    owner_name: str
    owner_inn: str
    owner_account: str | None
    owner_bic: str | None
    site_id: uuid.UUID | None
    site_name: str
    address: str
    starts_on: date
    ends_on: date | None
    terms: list[RentTermOut]


class RegistryRowOut(BaseModel):
    agreement_id: uuid.UUID
    number: str
    owner_name: str
    owner_inn: str
    owner_account: str | None
    owner_bic: str | None
    owner_bank: str | None
    site_name: str
    amount: Money
    purpose: str


class RegistryOut(BaseModel):
    period: str
    state: str
    rows: list[RegistryRowOut]
    total: Money
    note: str | None


class RegistryStateIn(_In):
    state: RegistryState
    note: str | None = Field(default=None, max_length=1000)


class CashRouteIn(_In):
    name: str = Field(min_length=1, max_length=200)
    courier: str = Field(min_length=1, max_length=200)
    stops: list[uuid.UUID] = Field(min_length=1)


class CashRouteOut(BaseModel):
    id: uuid.UUID
    name: str
    courier: str
    stops: list[uuid.UUID]


class PermitIn(_In):
    permission_no: str = Field(min_length=1, max_length=50)


class ConfirmIn(_In):
    paid_on: date
    receipt_kind: ReceiptKind
    receipt_no: str = Field(min_length=1, max_length=100)
    courier_note: str | None = Field(default=None, max_length=1000)


class RouteItemOut(BaseModel):
    agreement_id: uuid.UUID
    number: str
    owner_name: str
    site_name: str
    address: str
    position: int
    amount: Money
    paid_on: date | None
    receipt_kind: str | None
    receipt_no: str | None
    confirmed_by: str | None


class RouteMonthOut(BaseModel):
    id: uuid.UUID
    route: str
    courier: str
    period: str
    total: Money
    state: str
    permission_no: str | None
    requested_by: str | None
    permitted_by: str | None
    items: list[RouteItemOut]
    open_items: int


class OpenItemOut(BaseModel):
    route_month_id: uuid.UUID
    period: str
    state: str
    route: str
    courier: str
    agreement_id: uuid.UUID
    site_name: str
    owner_name: str
    amount: Money


class RentAgreementRowOut(BaseModel):
    """An agreement in the list, with the terms in force on the asked date."""

    id: uuid.UUID
    number: str
    owner_name: str
    owner_inn: str
    owner_account: str | None
    owner_bic: str | None
    owner_bank: str | None
    site_id: uuid.UUID | None
    site_name: str
    address: str
    starts_on: date
    ends_on: date | None
    ended: bool
    terms_from: date
    terminals: int
    amount_per_terminal: Money
    payment_form: str
    monthly_amount: Money
    changes: int


class RentChangeOut(RentTermOut):
    """One dated term of an agreement: what changed from that day, why, by whom."""

    note: str | None
    created_by: str
    created_at: datetime


class RegistrySummaryOut(BaseModel):
    period: str
    state: str
    total: Money
    count: int
    note: str | None
    changed_by: str
    changed_at: datetime


class RouteStopOut(BaseModel):
    agreement_id: uuid.UUID
    position: int
    number: str
    owner_name: str
    site_name: str
    address: str


class RouteMonthSummaryOut(BaseModel):
    id: uuid.UUID
    period: str
    total: Money
    state: str
    permission_no: str | None
    open_items: int


class CashRouteDetailOut(BaseModel):
    id: uuid.UUID
    name: str
    courier: str
    created_at: datetime
    stops: list[RouteStopOut]
    months: list[RouteMonthSummaryOut]

# --- payables -----------------------------------------------------------------------------------

class PayableIn(_In):
    supplier_name: str = Field(min_length=1, max_length=300)
    supplier_inn: Inn
    number: str = Field(min_length=1, max_length=100)
    issued_on: date
    amount: PositiveMoney
    vat: NonNegativeMoney
    due_on: date | None = None
    category: PayableCategory
    description: str = Field(min_length=1, max_length=1000)


class PaidIn(_In):
    paid_on: date


class RejectIn(_In):
    reason: str = Field(min_length=3, max_length=500)


class PayableOut(BaseModel):
    id: uuid.UUID
    supplier_name: str
    supplier_inn: str
    number: str
    issued_on: date
    amount: Money
    vat: Money
    due_on: date | None
    category: str
    description: str
    status: str
    approved_by: str | None
    requested_by: str | None
    paid_on: date | None
    reason: str | None
    planfact_operation_id: str | None
    planfact_state: str
    planfact_error: str | None


# --- 1C -----------------------------------------------------------------------------------------

class OneCExportOut(BaseModel):
    id: uuid.UUID
    period: str
    format: str
    name: str
    counts: dict[str, int]
    delivered: bool
    error: str | None
