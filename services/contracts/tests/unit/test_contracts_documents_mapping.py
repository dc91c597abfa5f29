"""Contract kinds and terms from the domain onto the documents package (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest

from clientops_shared.errors import InvalidInput
from contracts import documents as docs
from contracts.domain.model import (
    BankDetails,
    Client,
    Contract,
    ContractKind,
    PaymentForm,
    Signatory,
    Site,
)
from contracts.service_layer.documents import (
    contract_facts,
    ensure_complete_handover,
    ensure_printable,
)
from contracts.service_layer.handlers import DEFAULT_EMERGENCY_SLA_DAYS
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

pytestmark = pytest.mark.unit
TODAY = date(2026, 12, 1)

BANK = BankDetails(
    bank_name="АО «ТБанк»",
    bik="044525974",
    account="40702810600000004567",
    corr_account="30101810145250000974",
)


class _Sites:
    """The one unit-of-work call contract_facts makes."""

    def __init__(self, site: Site) -> None:
        self._site = site

    async def site(self, site_id: uuid.UUID) -> Site:
        assert site_id == self._site.id
        return self._site


def _client(**changes: Any) -> Client:
    values: dict[str, Any] = {
        "name": "ООО «Ромашка»",
        "inn": "7707083893",
        "kpp": "770701001",
        "legal_address": "Москва, ул. Цветочная, 5",
        "signatory": Signatory(position="Директор", full_name="Смирнова Анна Петровна"),
        "bank": BANK,
        **changes,
    }
    return Client(**values)


def _contract(kind: ContractKind, site: Site, **changes: Any) -> Contract:
    values: dict[str, Any] = {
        "client_id": site.client_id,
        "number": "2027-0001",
        "kind": kind,
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 12, 31),
        "monthly_fee": Decimal("7000.00"),
        "site_id": site.id,
        **changes,
    }
    return Contract(**values)


async def _facts(site: Site, contract: Contract) -> docs.ContractFacts:
    uow = cast(ContractsUnitOfWork, _Sites(site))
    return await contract_facts(uow, contract, TODAY)


def _site(access_points: int = 0) -> Site:
    return Site(
        client_id=uuid.uuid4(),
        name="ТЦ",
        address="Москва, Тверская, 1",
        access_points=access_points,
    )


@pytest.mark.parametrize("kind", list(ContractKind))
async def test_every_contract_kind_maps_onto_the_documents_kind(kind: ContractKind) -> None:
    site = _site(access_points=2)
    contract = _contract(kind, site, notice_days=45, emergency_sla_days=1)
    facts = await _facts(site, contract)
    assert facts.kind == docs.ContractKind(kind.value)
    assert (facts.notice_days, facts.emergency_sla_days) == (45, 1)
    assert (facts.site_address, facts.access_points) == ("Москва, Тверская, 1", 2)
    assert facts.signed_on == TODAY  # not signed yet: printed with today's date


@pytest.mark.parametrize("kind", [ContractKind.SUBSCRIPTION, ContractKind.PILOT])
async def test_service_contract_without_its_own_term_prints_the_standard_one(
    kind: ContractKind,
) -> None:
    site = _site(access_points=1)
    facts = await _facts(site, _contract(kind, site))
    assert facts.emergency_sla_days == DEFAULT_EMERGENCY_SLA_DAYS


@pytest.mark.parametrize("kind", [ContractKind.SUPPLY, ContractKind.RENT])
async def test_supply_and_rent_need_no_access_points_and_no_emergency_term(
    kind: ContractKind,
) -> None:
    site = _site(access_points=0)
    contract = _contract(kind, site, bill_from_install=True)
    facts = await _facts(site, contract)
    assert (facts.access_points, facts.emergency_sla_days) == (0, None)
    assert facts.bill_from_install


async def test_service_contract_on_a_site_without_access_points_is_a_422() -> None:
    site = _site(access_points=0)
    with pytest.raises(InvalidInput) as refused:
        await _facts(site, _contract(ContractKind.SUBSCRIPTION, site))
    assert refused.value.field == "contract.access_points"


@pytest.mark.parametrize("kind", list(ContractKind))
def test_the_contract_prints_for_every_kind(kind: ContractKind) -> None:
    ensure_printable("contract", _contract(kind, _site()), _client())


@pytest.mark.parametrize("kind", list(ContractKind))
@pytest.mark.parametrize(
    "template", ["price_protocol", "acceptance_act", "termination_agreement", "extension_agreement"]
)
def test_every_document_prints_for_every_kind(kind: ContractKind, template: str) -> None:
    ensure_printable(template, _contract(kind, _site()), _client())


def _act(*lines: docs.EquipmentLine, direction: str = "to_client") -> docs.HandoverFacts:
    return docs.HandoverFacts(number="Т-1", handed_on=TODAY, lines=lines, direction=direction)


def test_terminal_act_of_a_rent_contract_names_each_missing_serial() -> None:
    rent = _contract(ContractKind.RENT, _site())
    act = _act(
        docs.EquipmentLine(name="Терминал", serial="PT-1"), docs.EquipmentLine(name="Терминал")
    )
    with pytest.raises(InvalidInput) as refused:
        ensure_complete_handover(rent, act)
    assert refused.value.field == "lines.1.serial"
    assert [e["field"] for e in refused.value.extra["errors"]] == ["lines.1.serial"]
    # a service act may leave the serial out
    ensure_complete_handover(_contract(ContractKind.SUBSCRIPTION, _site(1)), act)


def test_supply_act_hands_priced_equipment_to_the_buyer() -> None:
    supply = _contract(ContractKind.SUPPLY, _site())
    act = _act(docs.EquipmentLine(name="Терминал", serial="PT-1"), direction="from_client")
    with pytest.raises(InvalidInput) as refused:
        ensure_complete_handover(supply, act)
    assert [e["field"] for e in refused.value.extra["errors"]] == [
        "direction",
        "lines.0.unit_price",
    ]
    ensure_complete_handover(
        supply, _act(docs.EquipmentLine(name="Терминал", unit_price=Decimal("150000.00")))
    )


def test_cashless_rent_needs_the_site_owners_bank_account() -> None:
    rent = _contract(ContractKind.RENT, _site())
    with pytest.raises(InvalidInput) as refused:
        ensure_printable("contract", rent, _client(bank=None))
    assert refused.value.field == "client.bank"
    cash = _contract(ContractKind.RENT, _site(), payment_form=PaymentForm.CASH)
    ensure_printable("contract", cash, _client(bank=None))
