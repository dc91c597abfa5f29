from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.vat import DEFAULT_VAT_RATES, VatMode, VatRate, VatRateTable, split_vat

pytestmark = pytest.mark.unit

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2)
rates = st.sampled_from([Decimal(0), Decimal(10), Decimal(20), Decimal(22)])


def test_mode_values_are_the_stored_strings() -> None:
    assert [mode.value for mode in VatMode] == ["on_top", "inclusive", "exempt"]
    assert VatMode("inclusive") is VatMode.INCLUSIVE


@pytest.mark.parametrize(
    ("day", "percent"),
    [
        (date(2019, 1, 1), Decimal(20)),
        (date(2025, 12, 31), Decimal(20)),
        (date(2026, 1, 1), Decimal(22)),
        (date(2027, 3, 10), Decimal(22)),
    ],
)
def test_default_table(day: date, percent: Decimal) -> None:
    assert DEFAULT_VAT_RATES.rate_on(day) == percent


def test_day_before_the_table_is_an_error() -> None:
    with pytest.raises(ValueError, match="no VAT rate"):
        DEFAULT_VAT_RATES.rate_on(date(2018, 12, 31))


def test_table_from_data_in_any_order() -> None:
    table = VatRateTable.from_data({date(2030, 1, 1): 25, "2020-01-01": "20"})
    assert table.rates == (
        VatRate(date(2020, 1, 1), Decimal(20)),
        VatRate(date(2030, 1, 1), Decimal(25)),
    )
    assert table.rate_on(date(2029, 12, 31)) == Decimal(20)
    assert table.rate_on(date(2030, 1, 1)) == Decimal(25)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"2026-01-01": 22.0},
        {"2026-01-01": "abc"},
        {"2026-01-01": "120"},
        {"01.01.2026": "22"},
    ],
)
def test_table_refuses_bad_data(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VatRateTable.from_data(data)  # type: ignore[arg-type]


def test_table_refuses_two_rates_on_one_day() -> None:
    with pytest.raises(ValueError, match="same date"):
        VatRateTable(
            [VatRate(date(2026, 1, 1), Decimal(20)), VatRate(date(2026, 1, 1), Decimal(22))]
        )


@pytest.mark.parametrize(
    ("amount", "mode", "rate", "net", "vat", "gross"),
    [
        # BILLING-RULES worked examples at 22 %
        ("12500.00", VatMode.ON_TOP, 22, "12500.00", "2750.00", "15250.00"),
        ("8870.97", VatMode.ON_TOP, 22, "8870.97", "1951.61", "10822.58"),
        ("6696.43", VatMode.ON_TOP, 22, "6696.43", "1473.21", "8169.64"),
        ("6964.29", VatMode.ON_TOP, 22, "6964.29", "1532.14", "8496.43"),
        ("3629.03", VatMode.ON_TOP, 22, "3629.03", "798.39", "4427.42"),
        ("6666.67", VatMode.ON_TOP, 22, "6666.67", "1466.67", "8133.34"),
        ("12500.00", VatMode.INCLUSIVE, 22, "10245.90", "2254.10", "12500.00"),
        # half-up: 0.05 × 20 % = 0.010, 0.03 × 22 % = 0.0066, 0.025 → 0.03
        ("0.05", VatMode.ON_TOP, 20, "0.05", "0.01", "0.06"),
        ("0.03", VatMode.ON_TOP, 22, "0.03", "0.01", "0.04"),
        ("0.125", VatMode.ON_TOP, 20, "0.13", "0.03", "0.16"),
        ("1000.00", VatMode.INCLUSIVE, 20, "833.33", "166.67", "1000.00"),
        ("12500.00", VatMode.EXEMPT, None, "12500.00", "0.00", "12500.00"),
    ],
)
def test_split(
    amount: str, mode: VatMode, rate: int | None, net: str, vat: str, gross: str
) -> None:
    split = split_vat(Decimal(amount), mode, None if rate is None else Decimal(rate))
    assert (split.net, split.vat, split.gross) == (Decimal(net), Decimal(vat), Decimal(gross))
    assert split.rate == (None if rate is None else Decimal(rate))


def test_exempt_ignores_rate_and_taxed_needs_one() -> None:
    assert split_vat(Decimal("100.00"), VatMode.EXEMPT, Decimal(22)).rate is None
    with pytest.raises(ValueError, match="needs a rate"):
        split_vat(Decimal("100.00"), VatMode.ON_TOP, None)


@given(amounts, rates, st.sampled_from(list(VatMode)))
def test_split_always_adds_up_in_kopecks(amount: Decimal, rate: Decimal, mode: VatMode) -> None:
    split = split_vat(amount, mode, rate)
    assert split.net + split.vat == split.gross
    for value in (split.net, split.vat, split.gross):
        assert value == value.quantize(Decimal("0.01"))
    assert split.vat >= 0


@given(amounts, rates)
def test_inclusive_gross_is_the_amount(amount: Decimal, rate: Decimal) -> None:
    assert split_vat(amount, VatMode.INCLUSIVE, rate).gross == amount


@given(amounts, rates)
def test_on_top_net_is_the_amount(amount: Decimal, rate: Decimal) -> None:
    split = split_vat(amount, VatMode.ON_TOP, rate)
    assert split.net == amount
    assert abs(split.vat - amount * rate / 100) <= Decimal("0.005")
