"""Proration: a contract's billing terms and a period in, invoice lines out.

Rules (docs: BILLING-RULES.md): a day is served from the service start up to the day before
the termination's effective date, less suspended days; each fee in force that month gives one
line, ``fee × days_served / days_in_month`` rounded half-up; VAT per line at the rate in force
on the line's first served day; the invoice total is the sum of its lines.
Corrections never edit an issued invoice: a credit note and a new invoice, or, once it is paid,
an adjustment line on the next one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.domain.periods import Period
from billing.domain.vat import DEFAULT_VAT_RATES, ZERO, VatMode, VatRateTable, split_vat
from clientops_shared.types import parse_money, quantize_money

SUBSCRIPTION_FEE_RU = "Абонентская плата"


class LineKind(StrEnum):
    SUBSCRIPTION = "subscription"
    """Prorated subscription fee for the period."""
    REVERSAL = "reversal"
    """An issued line negated, on a credit note."""
    ADJUSTMENT = "adjustment"
    """The difference for an already paid invoice, carried to the next invoice."""


@dataclass(frozen=True)
class FeeChange:
    """The monthly fee in force from ``effective_from`` until the next change."""

    effective_from: date
    monthly_fee: Decimal

    def __post_init__(self) -> None:
        fee = parse_money(self.monthly_fee)
        if fee < 0:
            raise ValueError(f"monthly fee must not be negative, got {self.monthly_fee}")
        object.__setattr__(self, "monthly_fee", fee)


@dataclass(frozen=True)
class Suspension:
    """No service from ``suspended_from`` to the day before ``resume_on`` (None: not resumed)."""

    suspended_from: date
    resume_on: date | None = None

    def __post_init__(self) -> None:
        if self.resume_on is not None and self.resume_on <= self.suspended_from:
            raise ValueError(
                f"resume date {self.resume_on} must be after suspension start {self.suspended_from}"
            )

    def covers(self, day: date) -> bool:
        return self.suspended_from <= day and (self.resume_on is None or day < self.resume_on)


@dataclass(frozen=True)
class BillingTerms:
    """What proration needs to know about one contract.

    ``service_stop`` is a termination's effective date: the first day *without* service.
    ``fee_schedule`` must have a fee in force on every served day.
    """

    service_start: date
    fee_schedule: tuple[FeeChange, ...]
    vat_mode: VatMode = VatMode.ON_TOP
    service_stop: date | None = None
    suspensions: tuple[Suspension, ...] = ()

    def __post_init__(self) -> None:
        schedule = tuple(sorted(self.fee_schedule, key=lambda change: change.effective_from))
        if not schedule:
            raise ValueError("fee schedule is empty")
        starts = [change.effective_from for change in schedule]
        if len(set(starts)) != len(starts):
            raise ValueError("fee schedule has two changes effective on the same date")
        if self.service_stop is not None and self.service_stop < self.service_start:
            raise ValueError(
                f"service stop {self.service_stop} is before service start {self.service_start}"
            )
        object.__setattr__(self, "fee_schedule", schedule)
        object.__setattr__(self, "suspensions", tuple(self.suspensions))
        object.__setattr__(self, "vat_mode", VatMode(self.vat_mode))

    @classmethod
    def flat(
        cls,
        service_start: date,
        monthly_fee: Decimal,
        *,
        vat_mode: VatMode = VatMode.ON_TOP,
        service_stop: date | None = None,
        suspensions: Iterable[Suspension] = (),
    ) -> BillingTerms:
        """Terms with one fee from the service start on."""
        return cls(
            service_start=service_start,
            fee_schedule=(FeeChange(service_start, monthly_fee),),
            vat_mode=vat_mode,
            service_stop=service_stop,
            suspensions=tuple(suspensions),
        )

    def serves(self, day: date) -> bool:
        """Whether the client has (and pays for) service on this day."""
        if day < self.service_start:
            return False
        if self.service_stop is not None and day >= self.service_stop:
            return False
        return not any(suspension.covers(day) for suspension in self.suspensions)

    def fee_index(self, day: date) -> int:
        """Position in the schedule of the fee in force on a day."""
        starts = [change.effective_from for change in self.fee_schedule]
        index = bisect.bisect_right(starts, day) - 1
        if index < 0:
            raise ValueError(f"no monthly fee is in force on {day.isoformat()}")
        return index

    def fee_on(self, day: date) -> Decimal:
        return self.fee_schedule[self.fee_index(day)].monthly_fee


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line. ``amount`` is net of VAT, ``total`` = ``amount`` + ``vat``."""

    description: str
    service_from: date
    service_to: date
    days: int
    days_in_month: int
    fee: Decimal
    amount: Decimal
    vat_rate: Decimal | None
    vat: Decimal
    total: Decimal
    kind: LineKind = LineKind.SUBSCRIPTION

    def __post_init__(self) -> None:
        if self.amount + self.vat != self.total:
            raise ValueError(f"line total {self.total} != amount {self.amount} + VAT {self.vat}")
        if not 0 <= self.days <= self.days_in_month:
            raise ValueError(f"line has {self.days} days of {self.days_in_month}")
        if self.service_to < self.service_from:
            raise ValueError("line service period ends before it starts")

    def reversed(self) -> InvoiceLine:
        """The credit-note line that cancels this one."""
        return InvoiceLine(
            description=f"Сторно: {self.description}",
            service_from=self.service_from,
            service_to=self.service_to,
            days=self.days,
            days_in_month=self.days_in_month,
            fee=self.fee,
            amount=-self.amount,
            vat_rate=self.vat_rate,
            vat=-self.vat,
            total=-self.total,
            kind=LineKind.REVERSAL,
        )


@dataclass(frozen=True)
class Totals:
    amount: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO

    @classmethod
    def of(cls, lines: Iterable[InvoiceLine]) -> Totals:
        """Sum of lines: the invoice total is never recomputed from the fee."""
        lines = tuple(lines)
        return cls(
            amount=sum((line.amount for line in lines), ZERO),
            vat=sum((line.vat for line in lines), ZERO),
            total=sum((line.total for line in lines), ZERO),
        )

    def __sub__(self, other: Totals) -> Totals:
        return Totals(self.amount - other.amount, self.vat - other.vat, self.total - other.total)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0 and self.vat == 0 and self.total == 0


@dataclass(frozen=True)
class InvoiceDraft:
    """What the run would issue for one contract and period."""

    period: Period
    vat_mode: VatMode
    lines: tuple[InvoiceLine, ...]
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", Totals.of(self.lines))

    @property
    def amount(self) -> Decimal:
        return self.totals.amount

    @property
    def vat(self) -> Decimal:
        return self.totals.vat

    @property
    def total(self) -> Decimal:
        return self.totals.total

    @property
    def is_empty(self) -> bool:
        """No day served in the period: nothing to invoice."""
        return not self.lines


def served_days(terms: BillingTerms, period: Period) -> tuple[date, ...]:
    """Every served day of the period, one by one (reference; the run uses ranges)."""
    return tuple(day for day in period.dates() if terms.serves(day))


ONE_DAY = timedelta(days=1)


def served_ranges(terms: BillingTerms, period: Period) -> list[tuple[date, date]]:
    """The period's served days as sorted (first, last) ranges: the service window less the
    suspensions, computed on intervals so a line costs the same whatever the month's length."""
    first = max(terms.service_start, period.first_day)
    last = period.last_day
    if terms.service_stop is not None:
        last = min(last, terms.service_stop - ONE_DAY)
    if first > last:
        return []
    ranges = [(first, last)]
    for stop in terms.suspensions:
        gap_from = stop.suspended_from
        gap_to = date.max if stop.resume_on is None else stop.resume_on - ONE_DAY
        kept: list[tuple[date, date]] = []
        for a, b in ranges:
            if gap_to < a or gap_from > b:
                kept.append((a, b))
                continue
            if a < gap_from:
                kept.append((a, gap_from - ONE_DAY))
            if b > gap_to:
                kept.append((gap_to + ONE_DAY, b))
        ranges = kept
    return sorted(ranges)


def _fee_segments(terms: BillingTerms, ranges: Sequence[tuple[date, date]]
                  ) -> list[tuple[int, list[tuple[date, date]]]]:
    """Served ranges cut at fee changes and grouped by the fee in force, in date order."""
    groups: list[tuple[int, list[tuple[date, date]]]] = []
    schedule = terms.fee_schedule
    for a, b in ranges:
        while a <= b:
            index = terms.fee_index(a)
            end = b
            if index + 1 < len(schedule):
                end = min(b, schedule[index + 1].effective_from - ONE_DAY)
            if groups and groups[-1][0] == index:
                runs = groups[-1][1]
                if runs[-1][1] + ONE_DAY == a:
                    runs[-1] = (runs[-1][0], end)
                else:
                    runs.append((a, end))
            else:
                groups.append((index, [(a, end)]))
            a = end + ONE_DAY
    return groups


def _describe(period: Period, runs: Sequence[tuple[date, date]], days: int) -> str:
    base = f"{SUBSCRIPTION_FEE_RU} за {period.title_ru}"
    if days == period.days:
        return base
    ranges = ", ".join(
        f"{first:%d.%m}" if first == last else f"{first:%d.%m}–{last:%d.%m}"
        for first, last in runs
    )
    return f"{base} ({ranges}: {days} из {period.days} дн.)"


def compute_lines(
    terms: BillingTerms, period: Period, vat_rates: VatRateTable = DEFAULT_VAT_RATES
) -> tuple[InvoiceLine, ...]:
    """The subscription lines for a period: one per fee in force on a served day."""
    lines: list[InvoiceLine] = []
    days_in_month = period.days
    for index, runs in _fee_segments(terms, served_ranges(terms, period)):
        days = sum((b - a).days + 1 for a, b in runs)
        fee = terms.fee_schedule[index].monthly_fee
        prorated = quantize_money(fee * days / days_in_month)
        # exempt lines need no rate, so exempt contracts bill even outside the table's range
        rate = None if terms.vat_mode is VatMode.EXEMPT else vat_rates.rate_on(runs[0][0])
        split = split_vat(prorated, terms.vat_mode, rate)
        lines.append(
            InvoiceLine(
                description=_describe(period, runs, days),
                service_from=runs[0][0],
                service_to=runs[-1][1],
                days=days,
                days_in_month=days_in_month,
                fee=fee,
                amount=split.net,
                vat_rate=split.rate,
                vat=split.vat,
                total=split.gross,
            )
        )
    return tuple(lines)


def compute_invoice(
    terms: BillingTerms, period: Period, vat_rates: VatRateTable = DEFAULT_VAT_RATES
) -> InvoiceDraft:
    return InvoiceDraft(period, terms.vat_mode, compute_lines(terms, period, vat_rates))


@dataclass(frozen=True)
class Correction:
    """A credit note cancelling the issued invoice and a new invoice with fresh lines."""

    period: Period
    credit_lines: tuple[InvoiceLine, ...]
    new_lines: tuple[InvoiceLine, ...]
    difference: Totals
    """New minus issued: positive means the client owes more."""
    changed: bool
    """False when the fresh lines equal the issued ones: nothing to correct."""

    @property
    def credit_totals(self) -> Totals:
        return Totals.of(self.credit_lines)

    @property
    def new_totals(self) -> Totals:
        return Totals.of(self.new_lines)


def plan_correction(
    period: Period, issued: Sequence[InvoiceLine], fresh: Sequence[InvoiceLine]
) -> Correction:
    """What correcting an unpaid issued invoice takes: its lines reversed, then the fresh ones."""
    issued, fresh = tuple(issued), tuple(fresh)
    return Correction(
        period=period,
        credit_lines=tuple(line.reversed() for line in issued),
        new_lines=fresh,
        difference=Totals.of(fresh) - Totals.of(issued),
        changed=issued != fresh,
    )


def adjustment_lines(
    period: Period,
    issued: Sequence[InvoiceLine],
    fresh: Sequence[InvoiceLine],
    invoice_number: str | None = None,
) -> tuple[InvoiceLine, ...]:
    """Lines for the next invoice that settle the difference on a paid invoice.

    One line per VAT rate, so each rate's VAT stays right in the books; none if nothing changed.
    """
    rates: list[Decimal | None] = []
    for line in (*issued, *fresh):
        if line.vat_rate not in rates:
            rates.append(line.vat_rate)
    about = f" по счёту {invoice_number}" if invoice_number else ""
    result: list[InvoiceLine] = []
    for rate in rates:
        diff = Totals.of(line for line in fresh if line.vat_rate == rate) - Totals.of(
            line for line in issued if line.vat_rate == rate
        )
        if diff.is_zero:
            continue
        rate_note = "" if len(rates) == 1 else f", НДС {rate}%" if rate is not None else ", без НДС"
        result.append(
            InvoiceLine(
                description=(
                    f"Корректировка: {SUBSCRIPTION_FEE_RU.lower()} за {period.title_ru}"
                    f"{about}{rate_note}"
                ),
                service_from=period.first_day,
                service_to=period.last_day,
                days=0,
                days_in_month=period.days,
                fee=ZERO,
                amount=diff.amount,
                vat_rate=rate,
                vat=diff.vat,
                total=diff.total,
                kind=LineKind.ADJUSTMENT,
            )
        )
    return tuple(result)


INVOICE_NUMBER_PREFIX = "СЧ"


def format_invoice_number(period: Period, sequence: int) -> str:
    """Our invoice number, e.g. ``СЧ-2026-12-0001``: the period and a sequence within it."""
    if sequence < 1:
        raise ValueError(f"invoice sequence starts at 1, got {sequence}")
    return f"{INVOICE_NUMBER_PREFIX}-{period}-{sequence:04d}"
