"""Mapping the contracts domain onto the documents package's inputs (no I/O)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import docx
import pytest

from clientops_shared.errors import InvalidInput
from contracts import documents as docs
from contracts.config import OurCompany
from contracts.domain.model import BankDetails, Client, Signatory
from contracts.service_layer.documents import company_card, party, vat_rate_on

pytestmark = pytest.mark.unit


def _client(**changes: object) -> Client:
    values: dict[str, object] = {
        "name": "ООО «Ромашка»", "inn": "7707083893", "kpp": "770701001",
        "legal_address": "Москва, ул. Цветочная, 5",
        "signatory": Signatory(position="Директор", full_name="Смирнова Анна Петровна",
                               female=True),
        "bank": BankDetails(bank_name="АО «ТБанк»", bik="044525974",
                            account="40702810600000004567",
                            corr_account="30101810145250000974"),
        **changes}
    return Client(**values)  # type: ignore[arg-type]


def test_vat_rate_follows_its_effective_dates() -> None:
    assert vat_rate_on(date(2025, 12, 31)) == Decimal("20")
    assert vat_rate_on(date(2026, 1, 1)) == Decimal("22")


def test_client_card_maps_onto_party_details() -> None:
    details = party(_client(phone="+79161234567"))
    assert (details.name, details.kpp, details.address) == (
        "ООО «Ромашка»", "770701001", "Москва, ул. Цветочная, 5")
    assert details.signatory.short_name == "Смирнова А. П." and details.signatory.female
    assert details.bank is not None and details.bank.bik == "044525974"


def test_missing_requisites_are_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        party(_client(legal_address=None, signatory=None))
    assert [e["field"] for e in refused.value.extra["errors"]] == [
        "client.legal_address", "client.signatory"]
    with pytest.raises(InvalidInput) as refused:
        party(_client(kpp=None))
    assert refused.value.field.startswith("client")
    assert "KPP is required" in refused.value.detail


def test_default_company_settings_make_a_valid_company_card() -> None:
    card = company_card(OurCompany())
    assert card.inn == "7701000001" and card.bank.bik == "044525225"
    with pytest.raises(Exception, match="checksum"):
        company_card(OurCompany(inn="7701000002"))


def test_maintenance_contract_does_not_claim_the_equipment_is_ours() -> None:
    context = docs.DocumentContext(
        company=company_card(OurCompany()), client=party(_client()),
        contract=docs.ContractFacts(
            number="2027-0001", kind=docs.ContractKind.MAINTENANCE, signed_on=date(2027, 1, 1),
            starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31), monthly_fee="8000.00",
            vat_mode=docs.VatMode.ON_TOP, site_address="Москва, Киевское ш., 1",
            access_points=3))
    document = docx.Document(io.BytesIO(docs.render_docx("contract", context)))
    text = " ".join(p.text for p in document.paragraphs)
    assert "на сервисное обслуживание оборудования" in text
    assert "Обслуживаемое оборудование принадлежит Заказчику" in text
    assert "остаётся собственностью Исполнителя" not in text
