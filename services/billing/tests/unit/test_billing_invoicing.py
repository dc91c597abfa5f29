from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.invoicing import (
    BillingTerms,
    FeeChange,
    InvoiceLine,
    LineKind,
    Suspension,
    Totals,
    adjustment_lines,
    compute_invoice,
    compute_lines,
    format_invoice_number,
    plan_correction,
    served_days,
)
from billing.domain.periods import Period
from billing.domain.vat import VatMode, VatRateTable

pytestmark = pytest.mark.unit

FEE = Decimal("12500.00")
SIGNED = date(2026, 1, 1)
KOPECK = Decimal("0.01")


def D(value: str) -> Decimal:
    return Decimal(value)


@dataclass(frozen=True)
class Case:
    name: str
    terms: BillingTerms
    period: Period
    # (days, amount, vat) per line
    lines: list[tuple[int, str, str]]
    amount: str
    vat: str
    total: str


# BILLING-RULES.md, "Worked examples (fee 12,500.00, on_top, 22 %)", row by row
RULES_TABLE = [
    Case(
        "full December 2026",
        BillingTerms.flat(SIGNED, FEE),
        Period(2026, 12),
        [(31, "12500.00", "2750.00")],
        "12500.00",
        "2750.00",
        "15250.00",
    ),
    Case(
        "start 2026-12-10",
        BillingTerms.flat(date(2026, 12, 10), FEE),
        Period(2026, 12),
        [(22, "8870.97", "1951.61")],
        "8870.97",
        "1951.61",
        "10822.58",
    ),
    Case(
        "fee → 15,000.00 from 2027-02-16",
        BillingTerms(
            service_start=SIGNED,
            fee_schedule=(FeeChange(SIGNED, FEE), FeeChange(date(2027, 2, 16), D("15000.00"))),
        ),
        Period(2027, 2),
        [(15, "6696.43", "1473.21"), (13, "6964.29", "1532.14")],
        "13660.72",
        "3005.35",
        "16666.07",
    ),
    Case(
        "terminated effective 2027-03-10",
        BillingTerms.flat(SIGNED, FEE, service_stop=date(2027, 3, 10)),
        Period(2027, 3),
        [(9, "3629.03", "798.39")],
        "3629.03",
        "798.39",
        "4427.42",
    ),
    Case(
        "suspended 2027-04-05 … resumed 2027-04-19",
        BillingTerms.flat(
            SIGNED, FEE, suspensions=[Suspension(date(2027, 4, 5), date(2027, 4, 19))]
        ),
        Period(2027, 4),
        [(16, "6666.67", "1466.67")],
        "6666.67",
        "1466.67",
        "8133.34",
    ),
    Case(
        "same fee, inclusive",
        BillingTerms.flat(SIGNED, FEE, vat_mode=VatMode.INCLUSIVE),
        Period(2026, 12),
        [(31, "10245.90", "2254.10")],
        "10245.90",
        "2254.10",
        "12500.00",
    ),
]


@pytest.mark.parametrize("case", RULES_TABLE, ids=lambda case: case.name)
def test_billing_rules_table(case: Case) -> None:
    invoice = compute_invoice(case.terms, case.period)
    assert [(line.days, line.amount, line.vat) for line in invoice.lines] == [
        (days, D(amount), D(vat)) for days, amount, vat in case.lines
    ]
    assert (invoice.amount, invoice.vat, invoice.total) == (
        D(case.amount),
        D(case.vat),
        D(case.total),
    )
    for line in invoice.lines:
        assert line.vat_rate == Decimal(22)
        assert line.days_in_month == case.period.days
        assert line.total == line.amount + line.vat


def test_full_month_line_reads_plainly() -> None:
    (line,) = compute_lines(BillingTerms.flat(SIGNED, FEE), Period(2026, 12))
    assert line.description == "Абонентская плата за декабрь 2026 г."
    assert (line.service_from, line.service_to) == (date(2026, 12, 1), date(2026, 12, 31))
    assert line.fee == FEE
    assert line.kind is LineKind.SUBSCRIPTION


def test_partial_line_names_its_days() -> None:
    (line,) = compute_lines(BillingTerms.flat(date(2026, 12, 10), FEE), Period(2026, 12))
    assert line.description == "Абонентская плата за декабрь 2026 г. (10.12–31.12: 22 из 31 дн.)"
    assert (line.service_from, line.service_to) == (date(2026, 12, 10), date(2026, 12, 31))


def test_fee_change_splits_at_the_effective_date() -> None:
    terms = RULES_TABLE[2].terms
    first, second = compute_lines(terms, Period(2027, 2))
    assert (first.service_from, first.service_to, first.fee) == (
        date(2027, 2, 1),
        date(2027, 2, 15),
        FEE,
    )
    assert (second.service_from, second.service_to, second.fee) == (
        date(2027, 2, 16),
        date(2027, 2, 28),
        D("15000.00"),
    )
    # the month after bills the new fee in full
    (march,) = compute_lines(terms, Period(2027, 3))
    assert (march.days, march.amount) == (31, D("15000.00"))


def test_suspension_removes_days_but_keeps_one_line() -> None:
    (line,) = compute_lines(RULES_TABLE[4].terms, Period(2027, 4))
    assert (line.service_from, line.service_to, line.days) == (
        date(2027, 4, 1),
        date(2027, 4, 30),
        16,
    )
    assert "01.04–04.04, 19.04–30.04: 16 из 30 дн." in line.description


def test_open_suspension_stops_billing_until_resumed() -> None:
    terms = BillingTerms.flat(SIGNED, FEE, suspensions=[Suspension(date(2027, 4, 20))])
    (april,) = compute_lines(terms, Period(2027, 4))
    assert april.days == 19
    assert compute_invoice(terms, Period(2027, 5)).is_empty


def test_no_lines_before_start_or_after_stop() -> None:
    terms = BillingTerms.flat(date(2026, 12, 10), FEE, service_stop=date(2027, 3, 1))
    assert compute_invoice(terms, Period(2026, 11)).is_empty
    assert compute_invoice(terms, Period(2027, 3)).is_empty
    assert compute_invoice(terms, Period(2027, 3)).total == 0
    (february,) = compute_lines(terms, Period(2027, 2))
    assert february.days == 28


def test_rate_is_taken_on_the_first_day_of_the_line() -> None:
    (line_2025,) = compute_lines(BillingTerms.flat(date(2025, 1, 1), FEE), Period(2025, 12))
    assert (line_2025.vat_rate, line_2025.vat) == (Decimal(20), D("2500.00"))
    table = VatRateTable.from_data({"2019-01-01": "20", "2027-02-16": "25"})
    terms = BillingTerms.flat(
        SIGNED, FEE, suspensions=[Suspension(date(2027, 2, 1), date(2027, 2, 20))]
    )
    # the only line starts on 2027-02-20, after the (made-up) change on the 16th
    (line,) = compute_lines(terms, Period(2027, 2), table)
    assert line.vat_rate == Decimal(25)


def test_exempt_lines_carry_no_rate() -> None:
    (line,) = compute_lines(
        BillingTerms.flat(SIGNED, FEE, vat_mode=VatMode.EXEMPT), Period(2026, 12)
    )
    assert (line.amount, line.vat_rate, line.vat, line.total) == (FEE, None, D("0.00"), FEE)


def test_terms_validation() -> None:
    with pytest.raises(ValueError, match="empty"):
        BillingTerms(service_start=SIGNED, fee_schedule=())
    with pytest.raises(ValueError, match="same date"):
        BillingTerms(SIGNED, (FeeChange(SIGNED, FEE), FeeChange(SIGNED, D("1.00"))))
    with pytest.raises(ValueError, match="before service start"):
        BillingTerms.flat(SIGNED, FEE, service_stop=date(2025, 12, 31))
    with pytest.raises(ValueError, match="after suspension start"):
        Suspension(date(2027, 4, 5), date(2027, 4, 5))
    with pytest.raises(ValueError, match="float"):
        FeeChange(SIGNED, 12500.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        FeeChange(SIGNED, D("-1.00"))


def test_a_served_day_without_a_fee_is_an_error() -> None:
    terms = BillingTerms(SIGNED, (FeeChange(date(2026, 12, 10), FEE),))
    with pytest.raises(ValueError, match="no monthly fee"):
        compute_lines(terms, Period(2026, 12))


def test_line_refuses_inconsistent_amounts() -> None:
    with pytest.raises(ValueError, match="total"):
        InvoiceLine(
            description="x",
            service_from=date(2026, 12, 1),
            service_to=date(2026, 12, 31),
            days=31,
            days_in_month=31,
            fee=FEE,
            amount=FEE,
            vat_rate=Decimal(22),
            vat=D("2750.00"),
            total=D("15250.01"),
        )


def test_invoice_number_format() -> None:
    assert format_invoice_number(Period(2026, 12), 1) == "СЧ-2026-12-0001"
    with pytest.raises(ValueError):
        format_invoice_number(Period(2026, 12), 0)


# -- corrections ---------------------------------------------------------------------------


def test_correction_of_an_unpaid_invoice() -> None:
    december = Period(2026, 12)
    issued = compute_lines(BillingTerms.flat(SIGNED, FEE), december)
    # the start date turned out to be the 10th
    fresh = compute_lines(BillingTerms.flat(date(2026, 12, 10), FEE), december)
    correction = plan_correction(december, issued, fresh)
    assert correction.changed
    (credit,) = correction.credit_lines
    assert credit.kind is LineKind.REVERSAL
    assert (credit.amount, credit.vat, credit.total) == (
        D("-12500.00"),
        D("-2750.00"),
        D("-15250.00"),
    )
    assert credit.description.startswith("Сторно: Абонентская плата за декабрь 2026 г.")
    assert correction.new_lines == fresh
    assert correction.difference == Totals(D("-3629.03"), D("-798.39"), D("-4427.42"))
    assert correction.credit_totals.total + correction.new_totals.total == D("-4427.42")


def test_unchanged_lines_need_no_correction() -> None:
    lines = compute_lines(BillingTerms.flat(SIGNED, FEE), Period(2026, 12))
    correction = plan_correction(Period(2026, 12), lines, lines)
    assert not correction.changed
    assert correction.difference.is_zero
    assert adjustment_lines(Period(2026, 12), lines, lines) == ()


def test_adjustment_for_a_paid_invoice() -> None:
    february = Period(2027, 2)
    issued = compute_lines(BillingTerms.flat(SIGNED, FEE), february)
    fresh = compute_lines(RULES_TABLE[2].terms, february)
    (line,) = adjustment_lines(february, issued, fresh, invoice_number="СЧ-2027-02-0001")
    assert line.kind is LineKind.ADJUSTMENT
    assert (line.amount, line.vat, line.total) == (D("1160.72"), D("255.35"), D("1416.07"))
    assert line.vat_rate == Decimal(22)
    assert line.description == (
        "Корректировка: абонентская плата за февраль 2027 г. по счёту СЧ-2027-02-0001"
    )


def test_adjustment_keeps_each_vat_rate_apart() -> None:
    december = Period(2025, 12)
    table = VatRateTable.from_data({"2019-01-01": "20", "2025-12-16": "22"})
    issued = compute_lines(BillingTerms.flat(SIGNED.replace(year=2025), FEE), december, table)
    fresh = compute_lines(
        BillingTerms(
            date(2025, 1, 1),
            (FeeChange(date(2025, 1, 1), FEE), FeeChange(date(2025, 12, 16), D("15000.00"))),
        ),
        december,
        table,
    )
    lines = adjustment_lines(december, issued, fresh)
    assert [line.vat_rate for line in lines] == [Decimal(20), Decimal(22)]
    assert Totals.of(lines) == Totals.of(fresh) - Totals.of(issued)


# -- properties ----------------------------------------------------------------------------

months = st.builds(Period, st.integers(2026, 2030), st.integers(1, 12))
fees = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)


@given(months, fees, st.lists(st.integers(2, 31), max_size=4, unique=True))
def test_split_lines_sum_to_the_full_month_within_rounding(
    period: Period, fee: Decimal, split_days: list[int]
) -> None:
    """Fee "changes" to the same fee split the month; lines still add up to the fee."""
    changes = [FeeChange(period.first_day, fee)] + [
        FeeChange(period.first_day + timedelta(days=day - 1), fee)
        for day in split_days
        if day <= period.days
    ]
    lines = compute_lines(BillingTerms(period.first_day, tuple(changes)), period)
    assert sum(line.days for line in lines) == period.days
    assert abs(Totals.of(lines).amount - fee) <= KOPECK / 2 * len(lines)


@given(months, fees)
def test_inclusive_full_month_total_is_the_fee(period: Period, fee: Decimal) -> None:
    terms = BillingTerms.flat(date(2026, 1, 1), fee, vat_mode=VatMode.INCLUSIVE)
    assert compute_invoice(terms, period).total == fee


@given(
    months,
    fees,
    st.sampled_from(list(VatMode)),
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(1, 20),
)
def test_lines_are_consistent(
    period: Period, fee: Decimal, mode: VatMode, start_offset: int, pause_at: int, pause_days: int
) -> None:
    start = period.first_day - timedelta(days=10) + timedelta(days=start_offset)
    pause_from = period.first_day + timedelta(days=pause_at)
    terms = BillingTerms.flat(
        start,
        fee,
        vat_mode=mode,
        suspensions=[Suspension(pause_from, pause_from + timedelta(days=pause_days))],
    )
    invoice = compute_invoice(terms, period)
    served = sum(1 for day in period.dates() if terms.serves(day))
    assert sum(line.days for line in invoice.lines) == served
    assert invoice.total == sum((line.total for line in invoice.lines), Decimal(0))
    for line in invoice.lines:
        assert line.amount + line.vat == line.total
        assert period.contains(line.service_from) and period.contains(line.service_to)
        gross_or_net = line.total if mode is VatMode.INCLUSIVE else line.amount
        assert gross_or_net <= fee


@given(months, fees, fees, st.integers(1, 28))
def test_correction_and_adjustment_settle_the_difference(
    period: Period, old_fee: Decimal, new_fee: Decimal, start_day: int
) -> None:
    issued = compute_lines(BillingTerms.flat(date(2026, 1, 1), old_fee), period)
    fresh = compute_lines(
        BillingTerms.flat(period.first_day.replace(day=start_day), new_fee), period
    )
    correction = plan_correction(period, issued, fresh)
    assert (
        Totals.of(issued) - Totals.of(line.reversed() for line in issued)
    ).total == 2 * Totals.of(issued).total
    assert Totals.of(correction.credit_lines + correction.new_lines) == correction.difference
    assert Totals.of(adjustment_lines(period, issued, fresh)) == correction.difference


def _lines_day_by_day(terms: BillingTerms, period: Period) -> list[tuple[int, date, date, int]]:
    """The rules walked one day at a time: (fee index, first, last, days) per line."""
    out: list[tuple[int, date, date, int]] = []
    for day in served_days(terms, period):
        index = terms.fee_index(day)
        if out and out[-1][0] == index:
            out[-1] = (index, out[-1][1], day, out[-1][3] + 1)
        else:
            out.append((index, day, day, 1))
    return out


day_in_2026_27 = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def any_terms(draw: st.DrawFn) -> BillingTerms:
    start = draw(day_in_2026_27)
    changes = sorted(set(draw(st.lists(day_in_2026_27.filter(lambda d: d > start),
                                       max_size=3))))
    fee_schedule = tuple(FeeChange(d, FEE + n) for n, d in enumerate([start, *changes]))
    stop = draw(st.none() | day_in_2026_27.filter(lambda d: d >= start))
    suspensions = []
    for first in draw(st.lists(day_in_2026_27, max_size=3)):
        length = draw(st.none() | st.integers(1, 40))
        suspensions.append(Suspension(first, None if length is None
                                      else first + timedelta(days=length)))
    return BillingTerms(start, fee_schedule, service_stop=stop, suspensions=tuple(suspensions))


@given(any_terms(), st.builds(Period, st.integers(2026, 2027), st.integers(1, 12)))
def test_prorating_by_ranges_equals_walking_every_day(terms: BillingTerms,
                                                      period: Period) -> None:
    """The run prorates on intervals; the day-by-day reading of the rules must agree."""
    lines = compute_lines(terms, period)
    expected = _lines_day_by_day(terms, period)
    assert [(line.service_from, line.service_to, line.days) for line in lines] == [
        (first, last, days) for _, first, last, days in expected]
    assert [line.fee for line in lines] == [terms.fee_schedule[i].monthly_fee
                                            for i, *_ in expected]
    for line in lines:
        assert line.days == period.days or f"{line.days} из {period.days}" in line.description
