"""The contract page's helpers: which changes a contract is offered in its state, the
contracts service's refusals in Russian, and what a document lacks with the form to fix it."""

from __future__ import annotations

import pytest

from web.adapters.services import ServiceError
from web.desks.contract_card import ACTIONS, body_of, offered
from web.desks.contracts import what_is_missing
from web.formatting import field_message


def keys(**contract: object) -> list[str]:
    base = {"status": "active", "kind": "subscription", "ends_on": "2027-10-31"}
    return [k for k, _ in offered({**base, **contract})]


def test_each_state_offers_only_the_changes_it_takes() -> None:
    assert keys() == ["fee-change", "extension", "suspend", "terminate", "resign",
                      "change-request"]
    assert "extension" not in keys(ends_on=None)  # an open-ended contract is not extended
    assert keys(status="suspended") == ["fee-change", "extension", "terminate", "resume",
                                        "resign", "change-request"]
    assert keys(status="draft") == []
    assert keys(status="expired") == ["resign"]
    assert "resign" not in keys(replaced_by_id="x")
    assert keys(kind="pilot") == ["extension", "terminate", "pilot-end", "pilot-convert"]
    assert keys(kind="pilot", status="ended", pilot_outcome="success") == [
        "pilot-end", "pilot-convert"]
    assert keys(kind="pilot", status="ended", pilot_outcome="declined") == []


def test_the_form_sends_typed_amounts_as_decimals_and_leaves_blanks_out() -> None:
    assert body_of(ACTIONS["fee-change"], {"new_fee": "18 300,50 ₽", "notice_on": "",
                                           "reason": "индексация"}) == {
        "new_fee": "18300.50", "reason": "индексация"}


@pytest.mark.parametrize(("english", "russian"), [
    ("a fee change takes effect no earlier than 2027-01-01: the client was notified on "
     "2026-12-01 and the contract requires 30 days' notice; 2026-12-05 is too early",
     "Новая плата действует не раньше 01.01.2027: клиента уведомили 01.12.2026, срок "
     "уведомления по договору, дней: 30."),
    ("an extension moves the end date later than 2027-05-31",
     "Новая дата окончания должна быть позже 31.05.2027."),
    ("cannot change the fee of a contract in state terminated",
     "Действие недоступно для договора в этом состоянии."),
    ("the contract (active) is to be terminated on 2027-01-10",
     "Договор уже расторгается с 10.01.2027 — других изменений не принимает."),
    ("a rejection states its reason", "Укажите причину отказа."),
    ("the request was already approved", "По запросу уже принято решение."),
    ("cannot move a deal in stage won to lost", "Сделка уже на этой стадии или закрыта."),
])
def test_contracts_refusals_read_in_russian(english: str, russian: str) -> None:
    assert field_message("", english) == russian


def test_a_document_that_cannot_print_says_what_to_fill_and_where() -> None:
    exc = ServiceError("contracts", 422, "", [
        {"field": "client.legal_address", "message": "required to print documents"},
        {"field": "client.signatory", "message": "required to print documents"}])
    assert what_is_missing(exc, "C", "K") == [
        {"what": "юридический адрес клиента", "href": "/clients/C/edit"},
        {"what": "подписанта клиента: должность и ФИО (в лице кого подписывает)",
         "href": "/clients/C/edit"}]
    kpp = ServiceError("contracts", 422, "", [
        {"field": "client", "message": "Value error, KPP is required for an organisation"}])
    assert what_is_missing(kpp, "C", "K") == [{"what": "КПП клиента",
                                                "href": "/clients/C/edit"}]
    points = ServiceError("contracts", 422, "", [
        {"field": "contract.access_points", "message": "at least 1"}])
    assert what_is_missing(points, "C", "K", "S") == [
        {"what": "число точек проезда на объекте договора (не меньше 1)",
         "href": "/contracts/clients/C/sites/S"}]
    site = ServiceError("contracts", 422, "", [{"field": "site_id", "message": "no site"}])
    assert what_is_missing(site, "C", "K")[0]["href"] == "/contracts/clients/C/sites/new"
