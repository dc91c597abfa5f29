"""Billing's aggregates: what to bill (subscriptions) and its own view of clients.

A subscription is billing's record of one contract's terms, kept from the contracts events:
when service starts (the contract's start, or the install date for contracts billed from
installation), the fee schedule (fee changes effective on dates), suspensions, and when service
stops (termination, or the end of a contract that does not renew itself). ``terms()`` turns it
into the ``BillingTerms`` proration works on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from billing.domain.invoicing import BillingTerms, FeeChange, Suspension
from billing.domain.periods import Period
from billing.domain.vat import VatMode

NOT_BILLED_MONTHLY = frozenset({"supply", "rent"})
"""Contract kinds with no monthly fee to invoice: a one-off equipment sale, and site rent
(we pay the site owner; a rent contract feeds the rent table, never an invoice)."""


class SubscriptionStatus(StrEnum):
    PENDING_INSTALL = "pending_install"
    """Billed from installation, which has not happened yet."""
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(eq=False)
class ClientAccount:
    """Billing's projection of a client (from contracts events): name, INN, e-mail, manager."""

    client_id: uuid.UUID
    name: str
    inn: str
    email: str | None = None
    manager: str | None = None


@dataclass(eq=False)
class FeeEntry:
    """A monthly fee in force from ``effective_from`` (the first is the signed fee)."""

    effective_from: date
    monthly_fee: Decimal
    source: str = "signed"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(eq=False)
class SuspensionEntry:
    """No service from ``suspended_from`` to the day before ``resume_on`` (None: open)."""

    suspended_from: date
    resume_on: date | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


class FeeLike(Protocol):
    @property
    def effective_from(self) -> date: ...

    @property
    def monthly_fee(self) -> Decimal: ...


class SuspensionLike(Protocol):
    @property
    def suspended_from(self) -> date: ...

    @property
    def resume_on(self) -> date | None: ...


def billing_terms(*, service_start: date | None, vat_mode: str, fees: Iterable[FeeLike],
                  service_stop: date | None, suspensions: Iterable[SuspensionLike]
                  ) -> BillingTerms | None:
    """The proration input, or None while service has not started (waiting for install).

    The first fee applies from the service start even when installation came before the
    contract's start date, so every served day has a fee.
    """
    if service_start is None:
        return None
    schedule = sorted(fees, key=lambda f: f.effective_from)
    if not schedule:
        raise ValueError("the subscription has no fee")
    changes = [FeeChange(min(schedule[0].effective_from, service_start),
                         schedule[0].monthly_fee)]
    changes += [FeeChange(f.effective_from, f.monthly_fee) for f in schedule[1:]]
    if service_stop is not None and service_stop < service_start:
        service_stop = service_start  # stopped before it started: nothing is served
    return BillingTerms(
        service_start=service_start,
        fee_schedule=tuple(changes),
        vat_mode=VatMode(vat_mode),
        service_stop=service_stop,
        suspensions=tuple(Suspension(s.suspended_from, s.resume_on) for s in suspensions),
    )


def service_stop(terminated_on: date | None, ends_on: date | None, auto_renew: bool
                 ) -> date | None:
    """The first day without service: a termination, or the day after a non-renewing end."""
    stops = [d for d in (terminated_on,
                         None if auto_renew or ends_on is None else ends_on + timedelta(days=1))
             if d is not None]
    return min(stops) if stops else None


@dataclass(eq=False)
class Subscription:
    """One contract's billing terms: from which date, at which fee, with which VAT mode."""

    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    kind: str
    monthly_fee: Decimal
    starts_on: date
    vat_mode: str = "on_top"
    ends_on: date | None = None
    bill_from_install: bool = False
    auto_renew: bool = False
    payment_form: str = "cashless"
    site_id: uuid.UUID | None = None
    service_start: date | None = None
    terminated_on: date | None = None
    installed_on: date | None = None
    converted_to: uuid.UUID | None = None
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    fees: list[FeeEntry] = field(default_factory=list)
    suspensions: list[SuspensionEntry] = field(default_factory=list)

    @classmethod
    def open(cls, *, contract_id: uuid.UUID, contract_number: str, client_id: uuid.UUID,
             kind: str, monthly_fee: Decimal, vat_mode: str, starts_on: date,
             ends_on: date | None, bill_from_install: bool, auto_renew: bool = False,
             payment_form: str = "cashless", site_id: uuid.UUID | None = None) -> Subscription:
        VatMode(vat_mode)  # an unknown VAT mode is refused here, not at invoice time
        sub = cls(contract_id=contract_id, contract_number=contract_number, client_id=client_id,
                  kind=kind, monthly_fee=monthly_fee, starts_on=starts_on, vat_mode=vat_mode,
                  ends_on=ends_on, bill_from_install=bill_from_install, auto_renew=auto_renew,
                  payment_form=payment_form, site_id=site_id,
                  service_start=None if bill_from_install else starts_on,
                  status=(SubscriptionStatus.PENDING_INSTALL if bill_from_install
                          else SubscriptionStatus.ACTIVE))
        sub.fees.append(FeeEntry(effective_from=starts_on, monthly_fee=monthly_fee))
        return sub

    # --- what changes the terms; each returns the first date whose billing may change ------
    def change_fee(self, effective_from: date, monthly_fee: Decimal, source: str) -> date:
        for entry in self.fees:
            if entry.effective_from == effective_from:
                entry.monthly_fee, entry.source = monthly_fee, source
                break
        else:
            self.fees.append(FeeEntry(effective_from=effective_from, monthly_fee=monthly_fee,
                                      source=source))
        # the headline fee is the latest one agreed; the schedule keeps every date
        self.monthly_fee = max(self.fees, key=lambda f: f.effective_from).monthly_fee
        return effective_from

    def suspend(self, suspended_from: date, resume_on: date | None) -> date:
        if resume_on is not None and resume_on <= suspended_from:
            raise ValueError(f"resume date {resume_on} is not after suspension {suspended_from}")
        for entry in self.suspensions:
            if entry.suspended_from == suspended_from:
                entry.resume_on = resume_on
                break
        else:
            self.suspensions.append(SuspensionEntry(suspended_from, resume_on))
        if self.status is not SubscriptionStatus.ENDED:
            self.status = SubscriptionStatus.SUSPENDED
        return suspended_from

    def resume(self, on: date) -> date | None:
        """Close the suspension in force on ``on``; a resume on its first day cancels it."""
        open_ = [s for s in self.suspensions
                 if s.suspended_from <= on and (s.resume_on is None or s.resume_on > on)]
        if not open_:
            pending = [s for s in self.suspensions if s.suspended_from > on]
            if not pending:
                return None
            open_ = [min(pending, key=lambda s: s.suspended_from)]
        entry = max(open_, key=lambda s: s.suspended_from)
        changed_from = min(entry.suspended_from, on)
        if on <= entry.suspended_from:
            self.suspensions.remove(entry)
        else:
            entry.resume_on = on
        if self.status is SubscriptionStatus.SUSPENDED:
            self.status = SubscriptionStatus.ACTIVE
        return changed_from

    def terminate(self, effective_on: date) -> date:
        previous = self.service_stop
        self.terminated_on = effective_on
        self.status = SubscriptionStatus.ENDED
        return min(effective_on, previous) if previous is not None else effective_on

    def extend(self, ends_on: date) -> date:
        previous = self.service_stop
        self.ends_on = ends_on
        return min(d for d in (previous, ends_on) if d is not None)

    def installed(self, on: date) -> date | None:
        """Service of a contract billed from installation starts on the first install."""
        if not self.bill_from_install or self.installed_on is not None:
            return None
        self.installed_on = on
        self.service_start = on
        if self.status is SubscriptionStatus.PENDING_INSTALL:
            self.status = SubscriptionStatus.ACTIVE
        return on

    def convert(self, new_contract_id: uuid.UUID, on: date) -> date:
        """A pilot converted into a paying contract: the pilot stops being billed."""
        self.converted_to = new_contract_id
        if self.terminated_on is None or self.terminated_on > on:
            return self.terminate(on)
        return on

    # --- reading ----------------------------------------------------------------------------
    @property
    def service_stop(self) -> date | None:
        return service_stop(self.terminated_on, self.ends_on, self.auto_renew)

    @property
    def billed_monthly(self) -> bool:
        return self.kind not in NOT_BILLED_MONTHLY

    def terms(self) -> BillingTerms | None:
        return billing_terms(service_start=self.service_start, vat_mode=self.vat_mode,
                             fees=self.fees, service_stop=self.service_stop,
                             suspensions=self.suspensions)

    def bills_in(self, period: Period) -> bool:
        """Whether the service window touches the period at all (cheap pre-filter)."""
        if not self.billed_monthly or self.service_start is None:
            return False
        stop = self.service_stop
        return self.service_start <= period.last_day and (stop is None or
                                                          stop > period.first_day)


def periods_from(first: date, last: Period) -> Sequence[Period]:
    """Every period from the one containing ``first`` up to ``last``, in order."""
    out: list[Period] = []
    p = Period.of(first)
    while p <= last:
        out.append(p)
        p = p.next()
    return out
