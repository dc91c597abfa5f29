"""Site rent we pay to site owners for placing our terminals (seed 004 §5, 8, 9).

An agreement's terms change on dates (a terminal added or removed, a new amount, cash or
cashless). What is due for a month is prorated by days like our own fees: each term in force
that month gives ``terminals × amount_per_terminal × days / days_in_month``, rounded per line.
Rent is paid without VAT (site owners are mostly individuals and sole traders).

Cashless rent goes to the accounting department as a registry for the next month; cash rent
is carried by couriers along routes. A route's month moves ``planned`` → ``requested`` (cash
requested from accounting) → ``permitted`` (payment permission) → ``closed`` once the courier
has brought a receipt for every site; until then the unconfirmed sites are open items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.domain.invoicing import BillingTerms, FeeChange, compute_lines
from billing.domain.periods import Period
from billing.domain.vat import ZERO, VatMode


class PaymentForm(StrEnum):
    CASH = "cash"
    CASHLESS = "cashless"


@dataclass(frozen=True)
class RentTerm:
    """The terms in force from ``effective_from`` until the next change."""

    effective_from: date
    terminals: int
    amount_per_terminal: Decimal
    payment_form: PaymentForm

    def __post_init__(self) -> None:
        if self.terminals < 0:
            raise ValueError(f"terminals must not be negative, got {self.terminals}")
        if self.amount_per_terminal < 0:
            raise ValueError("the amount per terminal must not be negative")

    @property
    def monthly_amount(self) -> Decimal:
        return self.amount_per_terminal * self.terminals


def term_on(terms: Sequence[RentTerm], day: date) -> RentTerm | None:
    in_force = [t for t in sorted(terms, key=lambda t: t.effective_from)
                if t.effective_from <= day]
    return in_force[-1] if in_force else None


def changed_terms(terms: Sequence[RentTerm], effective_from: date, *,
                  terminals: int | None = None, amount_per_terminal: Decimal | None = None,
                  payment_form: PaymentForm | None = None, terminals_delta: int = 0) -> RentTerm:
    """A new term from a date: what is not given stays as it was on that date."""
    base = term_on(terms, effective_from)
    if base is None:
        raise ValueError(f"the agreement has no terms in force on {effective_from}")
    count = (base.terminals if terminals is None else terminals) + terminals_delta
    return RentTerm(effective_from=effective_from, terminals=max(count, 0),
                    amount_per_terminal=(base.amount_per_terminal if amount_per_terminal is None
                                         else amount_per_terminal),
                    payment_form=base.payment_form if payment_form is None else payment_form)


def due_for(terms: Sequence[RentTerm], period: Period, starts_on: date, ends_on: date | None,
            payment_form: PaymentForm) -> Decimal:
    """Rent due for a month in one payment form (a month may be split between the two)."""
    ordered = sorted(terms, key=lambda t: t.effective_from)
    if not ordered:
        return ZERO
    schedule = [FeeChange(min(ordered[0].effective_from, starts_on),
                          ordered[0].monthly_amount
                          if ordered[0].payment_form is payment_form else ZERO)]
    schedule += [FeeChange(t.effective_from,
                           t.monthly_amount if t.payment_form is payment_form else ZERO)
                 for t in ordered[1:]]
    terms_ = BillingTerms(service_start=starts_on, fee_schedule=tuple(schedule),
                          vat_mode=VatMode.EXEMPT,
                          service_stop=None if ends_on is None else _next_day(ends_on))
    return sum((line.total for line in compute_lines(terms_, period)), ZERO)


def _next_day(day: date) -> date:
    return day + timedelta(days=1)


class RouteState(StrEnum):
    PLANNED = "planned"
    REQUESTED = "requested"
    """Cash requested from accounting (предварительная заявка наличных)."""
    PERMITTED = "permitted"
    """Payment permission issued for the route (разрешение на оплату)."""
    CLOSED = "closed"
    """Every site on the route confirmed with a receipt."""


class RouteError(ValueError):
    """An illegal step for a route's month; names the current state."""

    def __init__(self, message: str, state: RouteState) -> None:
        super().__init__(message)
        self.state = state


NEXT = {RouteState.PLANNED: RouteState.REQUESTED, RouteState.REQUESTED: RouteState.PERMITTED}


def advance(state: RouteState, to: RouteState) -> RouteState:
    if NEXT.get(state) is not to:
        raise RouteError(f"a route month in state {state} cannot become {to}", state)
    return to


def may_confirm(state: RouteState) -> None:
    if state is not RouteState.PERMITTED:
        raise RouteError(f"the courier's receipts are taken once payment is permitted; "
                         f"the route month is {state}", state)


def after_confirmation(confirmed: Iterable[bool]) -> RouteState:
    return RouteState.CLOSED if all(confirmed) else RouteState.PERMITTED


class ReceiptKind(StrEnum):
    RECEIPT = "receipt"
    """Расписка."""
    CASH_ORDER = "cash_order"
    """Приходный кассовый ордер."""
    CHECK = "check"
    """Кассовый чек."""


class RegistryState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    """Sent to accounting: the rows are frozen."""
    RECONCILED = "reconciled"
    DISPUTED = "disputed"


REGISTRY_NEXT = {
    RegistryState.DRAFT: {RegistryState.SENT},
    RegistryState.SENT: {RegistryState.RECONCILED, RegistryState.DISPUTED},
    RegistryState.DISPUTED: {RegistryState.SENT, RegistryState.RECONCILED},
    RegistryState.RECONCILED: set(),
}
