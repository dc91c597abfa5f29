"""Events published by the billing service."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from clientops_shared.events.base import Event
from clientops_shared.types import Money


class SubscriptionOpened(Event):
    TYPE = "billing.subscription.opened"
    subscription_id: uuid.UUID
    contract_id: uuid.UUID
    client_id: uuid.UUID
    monthly_fee: Money
    starts_on: date


class InvoiceIssued(Event):
    TYPE = "billing.invoice.issued"
    AGGREGATE = ("invoice", "invoice_id")
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    contract_id: uuid.UUID
    period: str
    amount: Money
    vat: Money
    total: Money
    due_on: date
    email: str | None = None
    revision: int = 0
    replaces_invoice_id: uuid.UUID | None = None
    """Set on a corrected invoice: the one it replaces (cancelled by a credit note)."""
    paid_from_advance: Money = Decimal("0.00")
    """Already paid from the client's advance when issued: the mail asks for the rest only."""


class InvoiceResent(InvoiceIssued):
    TYPE = "billing.invoice.resent"
    requested_by: str | None = None


class CreditNoteIssued(Event):
    """A correction cancelled an unpaid invoice; a new revision follows as InvoiceIssued."""

    TYPE = "billing.credit_note.issued"
    AGGREGATE = ("invoice", "cancels_invoice_id")  # a step of the invoice it cancels
    credit_note_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    contract_id: uuid.UUID
    period: str
    amount: Money
    vat: Money
    total: Money
    cancels_invoice_id: uuid.UUID | None = None
    reason: str = ""


class InvoiceOverdue(Event):
    TYPE = "billing.invoice.overdue"
    AGGREGATE = ("invoice", "invoice_id")
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    on: date
    days_overdue: int
    reminder_count: int
    stage: str  # call | letter | head | suspension
    outstanding: Money
    stage_starts: bool = False
    """True on the day a stage begins (its letter / escalation is due that day)."""
    due_on: date | None = None
    contract_id: uuid.UUID | None = None
    manager: str | None = None


class PaymentReceived(Event):
    TYPE = "billing.payment.received"
    payment_id: uuid.UUID
    client_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None
    amount: Money
    paid_on: date
    reference: str
    payer_inn: str | None = None
    allocated: Money | None = None
    unallocated: Money | None = None
    """Left on the client's balance (an over-payment), or all of it while unmatched."""
    matched: bool = True


class InvoicePaid(Event):
    TYPE = "billing.invoice.paid"
    AGGREGATE = ("invoice", "invoice_id")
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    paid_on: date
    total: Money | None = None
    contract_id: uuid.UUID | None = None


class PayablePaymentRequested(Event):
    """A supplier or carrier invoice approved for payment: accounting is asked to pay it."""

    TYPE = "billing.payable.payment_requested"
    payable_id: uuid.UUID
    supplier_name: str
    supplier_inn: str
    number: str
    amount: Money
    due_on: date | None = None
    requested_by: str


class PayablePaid(Event):
    TYPE = "billing.payable.paid"
    payable_id: uuid.UUID
    supplier_name: str
    number: str
    amount: Money
    paid_on: date


class RentCashRequested(Event):
    """A cash route's month: cash for the couriers requested from accounting."""

    TYPE = "billing.rent.cash_requested"
    route_month_id: uuid.UUID
    route: str
    courier: str
    period: str
    total: Money


class RentRouteClosed(Event):
    """Every site on a cash route confirmed with a receipt for the month."""

    TYPE = "billing.rent.route_closed"
    route_month_id: uuid.UUID
    route: str
    period: str
    total: Money
