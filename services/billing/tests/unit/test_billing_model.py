"""Subscriptions, the ledger's rules, rent, payables: pure domain, no I/O."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from billing.domain import ledger, payables, rent
from billing.domain.invoicing import compute_invoice
from billing.domain.model import Subscription, SubscriptionStatus, periods_from, service_stop
from billing.domain.periods import Period

pytestmark = pytest.mark.unit

D = Decimal


def sub(**kw: object) -> Subscription:
    values: dict[str, object] = {
        "contract_id": uuid.uuid4(), "contract_number": "2026-0001", "client_id": uuid.uuid4(),
        "kind": "subscription", "monthly_fee": D("12500.00"), "vat_mode": "on_top",
        "starts_on": date(2026, 12, 1), "ends_on": None, "bill_from_install": False}
    values.update(kw)
    return Subscription.open(**values)  # type: ignore[arg-type]


def total(s: Subscription, period: str) -> tuple[str, str, str]:
    terms = s.terms()
    assert terms is not None
    draft = compute_invoice(terms, Period.parse(period))
    return str(draft.amount), str(draft.vat), str(draft.total)


def test_the_rules_table_through_subscription_events() -> None:
    s = sub()
    assert total(s, "2026-12") == ("12500.00", "2750.00", "15250.00")
    assert s.change_fee(date(2027, 2, 16), D("15000.00"), "amendment:1") == date(2027, 2, 16)
    assert s.monthly_fee == D("15000.00")
    assert total(s, "2027-02") == ("13660.72", "3005.35", "16666.07")
    s.suspend(date(2027, 4, 5), None)
    assert s.status is SubscriptionStatus.SUSPENDED
    assert s.resume(date(2027, 4, 19)) == date(2027, 4, 5)
    assert s.status is SubscriptionStatus.ACTIVE
    assert total(s, "2027-04") == ("8000.00", "1760.00", "9760.00")  # 16/30 × 15 000
    assert s.terminate(date(2027, 3, 10)) == date(2027, 3, 10)
    assert total(s, "2027-03") == ("4354.84", "958.06", "5312.90")  # 9/31 × 15 000
    assert not s.bills_in(Period(2027, 4))


def test_resume_on_the_day_of_suspension_cancels_it_and_unknown_vat_mode_is_refused() -> None:
    s = sub()
    s.suspend(date(2027, 1, 10), date(2027, 1, 20))
    assert s.resume(date(2027, 1, 10)) == date(2027, 1, 10)
    assert s.suspensions == []
    assert s.resume(date(2027, 1, 11)) is None  # nothing suspended: nothing changes
    with pytest.raises(ValueError):
        s.suspend(date(2027, 1, 10), date(2027, 1, 10))
    with pytest.raises(ValueError):
        sub(vat_mode="sometimes")


def test_billed_from_installation_and_stops() -> None:
    s = sub(kind="rent", bill_from_install=True)
    assert s.status is SubscriptionStatus.PENDING_INSTALL and s.terms() is None
    assert not s.bills_in(Period(2026, 12))
    assert s.installed(date(2026, 11, 25)) == date(2026, 11, 25)  # before the start date
    assert s.installed(date(2026, 12, 3)) is None  # only the first install counts
    assert total(s, "2026-11") == ("2500.00", "550.00", "3050.00")  # 6/30 × 12 500, 22 %
    assert service_stop(None, date(2027, 11, 30), auto_renew=False) == date(2027, 12, 1)
    assert service_stop(None, date(2027, 11, 30), auto_renew=True) is None
    assert service_stop(date(2027, 3, 10), date(2027, 11, 30), False) == date(2027, 3, 10)
    s2 = sub(ends_on=date(2027, 1, 31))
    s2.auto_renew = False
    assert s2.extend(date(2027, 12, 31)) == date(2027, 2, 1)
    assert s2.service_stop == date(2028, 1, 1)
    assert [str(p) for p in periods_from(date(2026, 11, 20), Period(2027, 2))] == [
        "2026-11", "2026-12", "2027-01", "2027-02"]


def test_pilot_conversion_stops_the_pilot_and_supply_is_not_billed_monthly() -> None:
    pilot = sub(kind="pilot")
    pilot.convert(uuid.uuid4(), date(2027, 1, 1))
    assert pilot.status is SubscriptionStatus.ENDED and pilot.service_stop == date(2027, 1, 1)
    assert not sub(kind="supply").bills_in(Period(2026, 12))


def test_ledger_rules() -> None:
    assert ledger.status_after(D("100.00"), D("0.00")) is ledger.InvoiceStatus.ISSUED
    assert ledger.status_after(D("100.00"), D("40.00")) is ledger.InvoiceStatus.PARTIALLY_PAID
    assert ledger.status_after(D("100.00"), D("100.00")) is ledger.InvoiceStatus.PAID
    owed = [ledger.Owed("b", date(2026, 12, 15), "СЧ-2026-12-0002", D("50.00")),
            ledger.Owed("a", date(2026, 11, 15), "СЧ-2026-11-0001", D("30.00"))]
    shares, left = ledger.allocate_oldest_first(D("60.00"), owed)
    assert [(s.invoice_id, s.amount) for s in shares] == [("a", D("30.00")), ("b", D("30.00"))]
    assert left == 0
    _, left = ledger.allocate_oldest_first(D("100.00"), owed)
    assert left == D("20.00")
    assert ledger.aging_bucket(date(2026, 12, 20), date(2026, 12, 20)) == "not_due"
    assert ledger.aging_bucket(date(2026, 12, 20), date(2026, 12, 21)) == "d1_30"
    assert ledger.aging_bucket(date(2026, 12, 20), date(2027, 1, 19)) == "d1_30"
    assert ledger.aging_bucket(date(2026, 12, 20), date(2027, 1, 20)) == "d31_60"
    assert ledger.aging_bucket(date(2026, 12, 20), date(2027, 4, 1)) == "over_90"
    assert ledger.Balance(D("100"), D("20"), D("80"), D("5")).balance == D("-75")


def test_rent_due_is_prorated_per_term_and_payment_form() -> None:
    terms = [rent.RentTerm(date(2026, 12, 1), 2, D("3000.00"), rent.PaymentForm.CASHLESS)]
    terms.append(rent.changed_terms(terms, date(2027, 1, 16), terminals_delta=1))
    assert terms[-1] == rent.RentTerm(date(2027, 1, 16), 3, D("3000.00"),
                                      rent.PaymentForm.CASHLESS)
    jan = Period(2027, 1)
    assert rent.due_for(terms, jan, date(2026, 12, 1), None,
                        rent.PaymentForm.CASHLESS) == D("7548.39")
    assert rent.due_for(terms, jan, date(2026, 12, 1), None, rent.PaymentForm.CASH) == 0
    # switched to cash from 21 January: the month splits between the two forms
    terms.append(rent.changed_terms(terms, date(2027, 1, 21),
                                    payment_form=rent.PaymentForm.CASH))
    cashless = rent.due_for(terms, jan, date(2026, 12, 1), None, rent.PaymentForm.CASHLESS)
    cash = rent.due_for(terms, jan, date(2026, 12, 1), None, rent.PaymentForm.CASH)
    assert (cashless, cash) == (D("4354.84"), D("3193.55"))  # 15/31×6000+5/31×9000; 11/31×9000
    # the agreement ends on the 10th: ten days
    assert rent.due_for(terms[:1], jan, date(2026, 12, 1), date(2027, 1, 10),
                        rent.PaymentForm.CASHLESS) == D("1935.48")
    with pytest.raises(ValueError):
        rent.changed_terms(terms, date(2026, 11, 1), terminals=1)


def test_cash_route_and_registry_states() -> None:
    state = rent.advance(rent.RouteState.PLANNED, rent.RouteState.REQUESTED)
    with pytest.raises(rent.RouteError):
        rent.may_confirm(state)
    state = rent.advance(state, rent.RouteState.PERMITTED)
    rent.may_confirm(state)
    with pytest.raises(rent.RouteError):
        rent.advance(state, rent.RouteState.REQUESTED)
    assert rent.after_confirmation([True, False]) is rent.RouteState.PERMITTED
    assert rent.after_confirmation([True, True]) is rent.RouteState.CLOSED
    assert rent.RegistryState.RECONCILED in rent.REGISTRY_NEXT[rent.RegistryState.SENT]
    assert not rent.REGISTRY_NEXT[rent.RegistryState.RECONCILED]


def test_payable_moves() -> None:
    p = payables.PayableStatus
    state = payables.move(p.RECEIVED, p.APPROVED)
    state = payables.move(state, p.PAYMENT_REQUESTED)
    assert not payables.committed(state)
    state = payables.move(state, p.PAID)
    assert payables.committed(state)
    with pytest.raises(payables.IllegalMove):
        payables.move(p.PAID, p.REJECTED)
    with pytest.raises(payables.IllegalMove):
        payables.move(p.RECEIVED, p.PAID)


def test_an_advance_is_spent_oldest_first_to_the_kopeck_and_never_over() -> None:
    from billing.domain.ledger import Owed, Remainder, spend_advance

    owed = [Owed("b", date(2027, 1, 15), "СЧ-2027-01-0002", Decimal("12200.00")),
            Owed("a", date(2027, 1, 15), "СЧ-2027-01-0001", Decimal("15250.00"))]
    rems = [Remainder("p2", date(2026, 12, 20), Decimal("0.01")),
            Remainder("p1", date(2026, 12, 18), Decimal("15250.00"))]
    shares = [(s.payment_id, s.invoice_id, s.amount) for s in spend_advance(rems, owed)]
    assert shares == [("p1", "a", Decimal("15250.00")), ("p2", "b", Decimal("0.01"))]
    big = [Remainder("p", date(2026, 12, 1), Decimal("100000.00"))]
    assert sum(s.amount for s in spend_advance(big, owed)) == Decimal("27450.00")
    assert spend_advance([], owed) == []
    assert spend_advance(big, [Owed("c", date(2027, 1, 1), "x", Decimal("0.00"))]) == []
