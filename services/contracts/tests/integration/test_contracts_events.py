"""Every contracts event reaches a real RabbitMQ queue, as its documented contract says.

One scenario through the HTTP API causes every event type the contracts service publishes;
a private queue bound to ``contracts.#`` on the run's virtual host receives them from the
outbox relay. Each message must be an envelope whose payload validates against the event's
contract in ``clientops_shared.events.contracts`` and carries exactly the documented fields.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import aio_pika
import pytest

from clientops_shared.events import REGISTRY, Envelope
from clientops_shared.events import contracts as ev

pytestmark = pytest.mark.integration

CONTRACT_EVENTS = {t for t, _ in REGISTRY if t.startswith("contracts.")}
PDF = b"%PDF-1.4\n%%EOF\n"


async def _scenario(desk: Any) -> dict[str, str]:
    """Drive the desk through everything it can announce; return the ids to look for."""
    head = desk.head
    ids: dict[str, str] = {}
    r = await desk.post("/api/clients", {"name": "ООО «Событие»", "inn": desk.new_inn(),
                                         "email": "e@example.ru", "kpp": "770101001"},
                        as_=head, expect=201)
    client = r.json()
    ids["client"] = client["id"]
    r = await desk.http.patch(f"/api/clients/{client['id']}", headers=head,
                              json={"legal_address": "Москва, ул. Событийная, 1"})
    assert r.status_code == 200, r.text
    await desk.post("/api/clients/assign", {"client_ids": [client["id"]],
                                            "manager": "manager1"}, as_=head, expect=200)
    site = await desk.site(client["id"])
    r = await desk.http.patch(f"/api/sites/{site['id']}", headers=head,
                              json={"contact_name": "Охрана", "contact_phone": "+74950000000"})
    assert r.status_code == 200, r.text

    contract = await desk.contract(client["id"], standard=False, site_id=site["id"],
                                   notice_days=10, ends_on="2027-11-30")
    ids["contract"] = contract["id"]
    await desk.post(f"/api/contracts/{contract['id']}/reject", {"reason": "пени"}, as_=head,
                    expect=200)
    await desk.post(f"/api/contracts/{contract['id']}/submit", {}, expect=200)
    await desk.post(f"/api/contracts/{contract['id']}/approve", {}, as_=head, expect=200)
    await desk.sign(contract["id"], "2026-12-01")
    desk.today = date(2026, 12, 2)
    await desk.post(f"/api/contracts/{contract['id']}/fee-change",
                    {"new_fee": "13000.00", "notice_on": "2026-12-02"}, expect=201)
    await desk.post(f"/api/contracts/{contract['id']}/suspend", {"effective_on": "2026-12-02"},
                    expect=201)
    await desk.post(f"/api/contracts/{contract['id']}/resume", {"effective_on": "2026-12-09"},
                    expect=200)
    r = await desk.post(f"/api/contracts/{contract['id']}/change-requests",
                        {"kind": "extension", "summary": "Продлить на год",
                         "received_on": "2026-12-02", "new_ends_on": "2028-11-30"}, expect=201)
    await desk.post(f"/api/change-requests/{r.json()['id']}/decide", {"approve": True},
                    as_=head, expect=200)
    await desk.post(f"/api/contracts/{contract['id']}/terminate",
                    {"effective_on": "2027-06-01", "reason": "переезд"}, expect=201)

    _, renewing = await desk.signed_contract(ends_on="2026-12-20", auto_renew=True)
    _, expiring = await desk.signed_contract(ends_on="2026-12-20")
    _, soon = await desk.signed_contract(ends_on="2027-01-15")
    _, ahead = await desk.signed_contract(signed_on="2026-12-10", starts_on="2026-12-15")
    ids["ahead"] = ahead["id"]
    ids["renewing"], ids["expiring"], ids["soon"] = renewing["id"], expiring["id"], soon["id"]
    await desk.run_day("2026-12-21")

    pilot = await desk.contract(client["id"], kind="pilot", monthly_fee="0.00",
                                ends_on="2027-01-31", site_id=site["id"])
    await desk.sign(pilot["id"], "2026-12-01")
    await desk.post(f"/api/contracts/{pilot['id']}/pilot/end",
                    {"ended_on": "2026-12-20", "outcome": "success"}, expect=200)
    await desk.post(f"/api/contracts/{pilot['id']}/pilot/convert",
                    {"starts_on": "2027-01-01", "monthly_fee": "9900.00",
                     "signed_on": "2026-12-21"}, expect=201)

    r = await desk.post("/api/claims", {"client_id": client["id"], "subject": "Сбой",
                                        "received_on": "2026-12-10"}, expect=201)
    claim_id = r.json()["id"]
    await desk.post(f"/api/claims/{claim_id}/stage", {"stage": "court"}, expect=200)
    r = await desk.http.patch(f"/api/claims/{claim_id}", headers=desk.auth(),
                              json={"churn_risk": True})
    assert r.status_code == 200, r.text
    await desk.post(f"/api/claims/{claim_id}/court-decisions",
                    files={"file": ("решение.pdf", PDF, "application/pdf")}, expect=201)

    r = await desk.post("/api/deals", {"client_id": client["id"], "title": "Турникет"},
                        expect=201)
    await desk.post(f"/api/deals/{r.json()['id']}/hand-over", {"to": "sales1"}, expect=200)
    await desk.post(f"/api/deals/{r.json()['id']}/stage", {"stage": "won"},
                    as_=desk.auth("sales1", "sales"), expect=200)
    await desk.post(f"/api/clients/{client['id']}/feedback",
                    {"kind": "wish", "text": "Хотят отчёты"}, expect=201)
    await desk.post(f"/api/contracts/{contract['id']}/scans",
                    files={"file": ("scan.pdf", PDF, "application/pdf")}, expect=201)
    return ids


async def test_every_contracts_event_reaches_rabbitmq_with_its_documented_payload(
        desk: Any, probe: Any) -> None:
    ids = await _scenario(desk)

    async def all_types() -> bool:
        await probe.drain()
        return CONTRACT_EVENTS <= {b["type"] for b in probe.seen}

    for _ in range(300):
        if await all_types():
            break
        await asyncio.sleep(0.1)
    missing = CONTRACT_EVENTS - {b["type"] for b in probe.seen}
    assert not missing, f"never delivered: {sorted(missing)}"

    for body, props in zip(probe.seen, probe.properties, strict=True):
        envelope = Envelope.model_validate(body)
        contract = REGISTRY[(envelope.type, envelope.version)]
        event = envelope.event()  # validates the payload against its contract
        assert isinstance(event, contract)
        assert set(body["payload"]) == set(contract.model_fields), envelope.type
        assert envelope.producer == "contracts" and envelope.version == 1
        assert props["routing_key"] == envelope.type
        assert props["delivery_mode"] == aio_pika.DeliveryMode.PERSISTENT
        assert props["message_id"] == str(envelope.event_id)

    def payload(type_: str, **match: Any) -> dict[str, Any]:
        found = [b["payload"] for b in probe.seen if b["type"] == type_
                 and all(b["payload"].get(k) == v for k, v in match.items())]
        assert len(found) == 1, (type_, match, found)
        return found[0]

    signed = payload("contracts.contract.signed", contract_id=ids["contract"])
    assert (signed["client_name"], signed["client_inn"], signed["manager"], signed["status"],
            signed["monthly_fee"], signed["standard"]) == (
        "ООО «Событие»", signed["client_inn"], "manager1", "active", "12500.00", False)
    assert payload("contracts.client.reassigned", client_id=ids["client"])["manager"] \
        == "manager1"
    suspended = payload("contracts.contract.suspended", contract_id=ids["contract"])
    assert suspended["effective_on"] == "2026-12-02"
    assert payload("contracts.contract.resumed", contract_id=ids["contract"])[
        "effective_on"] == "2026-12-09"
    terminated = payload("contracts.contract.terminated", contract_id=ids["contract"])
    assert (terminated["effective_on"], terminated["reason"]) == ("2027-06-01", "переезд")
    fee = payload("contracts.contract.amended", contract_id=ids["contract"], kind="fee_change")
    assert (fee["monthly_fee"], fee["effective_on"]) == ("13000.00", "2026-12-12")
    extension = payload("contracts.contract.amended", contract_id=ids["contract"],
                        kind="extension")
    assert (extension["ends_on"], extension["effective_on"]) == ("2028-11-30", "2027-12-01")
    renewed = payload("contracts.contract.renewed", contract_id=ids["renewing"])
    assert (renewed["starts_on"], renewed["ends_on"], renewed["effective_on"]) == (
        "2026-12-21", "2027-12-20", "2026-12-21")
    assert payload("contracts.contract.expired", contract_id=ids["expiring"])["ends_on"] \
        == "2026-12-20"
    assert payload("contracts.contract.activated", contract_id=ids["ahead"])["starts_on"] \
        == "2026-12-15"
    notice = payload("contracts.contract.expiring", contract_id=ids["soon"], threshold_days=30)
    assert (notice["ends_on"], notice["days_left"], notice["auto_renew"]) == (
        "2027-01-15", 25, False)
    # typed access through the shared contracts, as consumers read them
    decided = ev.ChangeRequestDecided.model_validate(
        payload("contracts.change_request.decided", client_id=ids["client"]))
    assert decided.approved and decided.amendment_id is not None
