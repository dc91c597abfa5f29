"""Payables: supplier and carrier invoices we pay (seed 000 §9, 10, 17).

A supplier invoice is entered (``received``), approved by the head or accounting, turned into
a payment request (the task to pay it), and marked ``paid``. Each one is mirrored in PlanFact:
as a planned outcome while it waits, as an actual outcome once paid.
"""

from __future__ import annotations

from enum import StrEnum


class PayableStatus(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    PAYMENT_REQUESTED = "payment_requested"
    PAID = "paid"
    REJECTED = "rejected"


class PayableCategory(StrEnum):
    EQUIPMENT = "equipment"
    """Equipment bought from suppliers."""
    DELIVERY = "delivery"
    """Couriers and intercity carriers (Dostavista, CDEK, Delovye Linii)."""
    CONTRACTOR = "contractor"
    """Work done by contractors at clients' sites."""
    RENT = "rent"
    OTHER = "other"


_MOVES: dict[PayableStatus, set[PayableStatus]] = {
    PayableStatus.RECEIVED: {PayableStatus.APPROVED, PayableStatus.REJECTED},
    PayableStatus.APPROVED: {PayableStatus.PAYMENT_REQUESTED, PayableStatus.REJECTED},
    PayableStatus.PAYMENT_REQUESTED: {PayableStatus.PAID, PayableStatus.REJECTED},
    PayableStatus.PAID: set(),
    PayableStatus.REJECTED: set(),
}


class IllegalMove(ValueError):
    def __init__(self, current: PayableStatus, wanted: PayableStatus) -> None:
        super().__init__(f"a supplier invoice that is {current} cannot become {wanted}")
        self.current = current


def move(current: PayableStatus, wanted: PayableStatus) -> PayableStatus:
    if wanted not in _MOVES[current]:
        raise IllegalMove(current, wanted)
    return wanted


def committed(status: PayableStatus) -> bool:
    """PlanFact's ``isCommitted``: an actual (paid) outcome rather than a planned one."""
    return status is PayableStatus.PAID
