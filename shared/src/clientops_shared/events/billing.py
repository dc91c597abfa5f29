"""Events published by the billing service."""

from __future__ import annotations

import uuid
from datetime import date

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


class InvoiceResent(InvoiceIssued):
    TYPE = "billing.invoice.resent"


class InvoiceOverdue(Event):
    TYPE = "billing.invoice.overdue"
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    on: date
    days_overdue: int
    reminder_count: int
    stage: str  # call | letter | head | suspension
    outstanding: Money


class PaymentReceived(Event):
    TYPE = "billing.payment.received"
    payment_id: uuid.UUID
    client_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None
    amount: Money
    paid_on: date
    reference: str


class InvoicePaid(Event):
    TYPE = "billing.invoice.paid"
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    paid_on: date
