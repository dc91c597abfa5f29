"""Invoices and payments as the ledger sees them: states, allocation and client balance.

An issued invoice is never edited: its amounts stay, only what has been paid on it moves.
A correction cancels it with a credit note (``credited``) and issues a new revision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CREDITED = "credited"
    """Cancelled by a credit note; a newer revision replaces it."""


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)

CREDIT_NOTE_SERIES = "КН"
"""Credit notes have their own numbering (``КН-2026-12-0001``), apart from invoices."""


def status_after(total: Decimal, paid: Decimal) -> InvoiceStatus:
    """The state of an (uncancelled) invoice once ``paid`` of its ``total`` has come in."""
    if paid <= 0:
        return InvoiceStatus.ISSUED
    if paid >= total:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID


class PaymentStatus(StrEnum):
    MATCHED = "matched"
    """Allocated to invoices and/or credited to a known client's balance."""
    UNMATCHED = "unmatched"
    """Nobody could tell whose it is: waits in the queue for a person."""


class PaymentSource(StrEnum):
    MANUAL = "manual"
    BANK_STATEMENT = "bank_statement"


@dataclass(frozen=True)
class Owed:
    """An open invoice as allocation sees it."""

    invoice_id: object
    issued_on: date
    number: str
    outstanding: Decimal


@dataclass(frozen=True)
class Share:
    invoice_id: object
    amount: Decimal


def allocate_oldest_first(amount: Decimal, owed: Iterable[Owed]) -> tuple[list[Share], Decimal]:
    """Spread ``amount`` over open invoices, oldest first; returns the shares and what is left."""
    left = amount
    shares: list[Share] = []
    for item in sorted(owed, key=lambda o: (o.issued_on, o.number)):
        if left <= 0:
            break
        part = min(left, item.outstanding)
        if part > 0:
            shares.append(Share(item.invoice_id, part))
            left -= part
    return shares, left


@dataclass(frozen=True)
class Balance:
    """A client's standing: what is owed on open invoices and unallocated money held."""

    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Positive: the client is in credit; negative: the client owes."""
        return self.credit - self.outstanding


AGING_BUCKETS: Sequence[tuple[str, int, int | None]] = (
    ("not_due", -10**6, 0),
    ("d1_30", 1, 30),
    ("d31_60", 31, 60),
    ("d61_90", 61, 90),
    ("over_90", 91, None),
)
"""Aging buckets by calendar days past the due date (0 or less: not yet due)."""


def aging_bucket(due_on: date, on: date) -> str:
    late = (on - due_on).days
    for name, low, high in AGING_BUCKETS:
        if late >= low and (high is None or late <= high):
            return name
    return AGING_BUCKETS[-1][0]


@dataclass(frozen=True)
class Remainder:
    """What is left of a client's matched payment once its allocations are taken off."""

    payment_id: object
    paid_on: date
    left: Decimal


@dataclass(frozen=True)
class AdvanceShare:
    payment_id: object
    invoice_id: object
    amount: Decimal


def spend_advance(remainders: Iterable[Remainder], owed: Iterable[Owed]
                  ) -> list[AdvanceShare]:
    """Spend a client's advance (the remainders of their payments, oldest payment first) on
    open invoices (oldest first). Exact kopecks: no share is ever more than what is left of
    its payment or owed on its invoice, so nothing is over-applied."""
    debts = {o.invoice_id: o.outstanding for o in owed if o.outstanding > 0}
    ordered = sorted((o for o in owed if o.invoice_id in debts),
                     key=lambda o: (o.issued_on, o.number))
    out: list[AdvanceShare] = []
    for rem in sorted(remainders, key=lambda r: (r.paid_on, str(r.payment_id))):
        left = rem.left
        for item in ordered:
            if left <= 0:
                break
            part = min(left, debts[item.invoice_id])
            if part > 0:
                out.append(AdvanceShare(rem.payment_id, item.invoice_id, part))
                debts[item.invoice_id] -= part
                left -= part
    return out
