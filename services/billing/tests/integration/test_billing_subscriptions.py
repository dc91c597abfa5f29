"""Subscriptions kept from the contracts and field-ops events, through RabbitMQ."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from clientops_shared.events import contracts as c
from clientops_shared.events import field_ops as fo

pytestmark = pytest.mark.integration


async def _sub(bt: Any, contract_id: uuid.UUID) -> dict[str, Any]:
    r = await bt.client.get("/api/subscriptions", params={"contract_id": str(contract_id)},
                            headers=bt.auth())
    assert r.status_code == 200, r.text
    (found,) = r.json()
    return found  # type: ignore[no-any-return]


async def test_terms_follow_every_contract_event(bt: Any) -> None:
    s = bt.signed("2026-0001", auto_renew=False, ends_on=date(2027, 11, 30))
    ref = {"contract_id": s.contract_id, "number": s.number, "client_id": s.client_id}
    await bt.deliver(s)
    sub = await _sub(bt, s.contract_id)
    assert sub["status"] == "active"
    assert sub["service_start"] == "2026-12-01"
    assert sub["service_stop"] == "2027-12-01"  # the day after a non-renewing end
    assert sub["fees"] == [{"effective_from": "2026-12-01", "monthly_fee": "12500.00",
                            "source": "signed"}]

    amendment = uuid.uuid4()
    await bt.deliver(
        c.ContractAmended(**ref, amendment_id=amendment, kind="fee_change",
                          effective_on=date(2027, 2, 16), monthly_fee="15000.00"),
        c.ContractSuspended(**ref, effective_on=date(2027, 4, 5), resume_on=None))
    await bt.deliver(c.ContractResumed(**ref, effective_on=date(2027, 4, 19)))
    await bt.deliver(c.ContractRenewed(**ref, starts_on=date(2027, 12, 1),
                                       ends_on=date(2028, 11, 30)))
    sub = await _sub(bt, s.contract_id)
    assert sub["monthly_fee"] == "15000.00"
    assert [(f["effective_from"], f["monthly_fee"]) for f in sub["fees"]] == [
        ("2026-12-01", "12500.00"), ("2027-02-16", "15000.00")]
    assert sub["fees"][1]["source"] == f"amendment:{amendment}"
    assert sub["suspensions"] == [{"suspended_from": "2027-04-05", "resume_on": "2027-04-19"}]
    assert sub["status"] == "active"
    assert sub["service_stop"] == "2028-12-01"

    await bt.deliver(c.ContractTerminated(**ref, effective_on=date(2027, 3, 10)))
    sub = await _sub(bt, s.contract_id)
    assert sub["status"] == "ended"
    assert sub["service_stop"] == "2027-03-10"
    audit = await bt.scalar("SELECT count(*) FROM audit_log WHERE entity = 'subscription' "
                            "AND entity_id = :c", c=str(s.contract_id))
    assert audit == 5  # fee change, suspension, resumption, renewal, termination


async def test_rent_billed_from_installation_and_pilot_conversion(bt: Any) -> None:
    site = uuid.uuid4()
    rent = bt.signed("2026-0002", kind="rent", bill_from_install=True, site_id=site,
                     starts_on=date(2026, 12, 1))
    pilot = bt.signed("2026-0003", kind="pilot", fee="0.00", starts_on=date(2026, 11, 1))
    paid = bt.signed("2026-0004", client_id=pilot.client_id, starts_on=date(2027, 1, 1))
    await bt.deliver(rent, pilot, paid)
    assert (await _sub(bt, rent.contract_id))["status"] == "pending_install"
    assert (await _sub(bt, rent.contract_id))["service_start"] is None

    # installed equipment names only the site: billing finds the contract billed from install
    await bt.deliver(fo.EquipmentInstalled(equipment_id=uuid.uuid4(), client_id=rent.client_id,
                                           site_id=site, installed_on=date(2026, 12, 10)),
                     producer="field_ops")
    sub = await _sub(bt, rent.contract_id)
    assert (sub["status"], sub["service_start"]) == ("active", "2026-12-10")
    # a second install at the same site does not move the start
    await bt.deliver(fo.EquipmentInstalled(equipment_id=uuid.uuid4(), client_id=rent.client_id,
                                           site_id=site, installed_on=date(2026, 12, 20)),
                     producer="field_ops")
    assert (await _sub(bt, rent.contract_id))["service_start"] == "2026-12-10"

    await bt.deliver(c.PilotConverted(contract_id=pilot.contract_id, number=pilot.number,
                                      client_id=pilot.client_id,
                                      new_contract_id=paid.contract_id))
    sub = await _sub(bt, pilot.contract_id)
    assert (sub["status"], sub["service_stop"]) == ("ended", "2027-01-01")


async def test_subscriptions_are_for_the_desk_and_the_clients_manager(bt: Any) -> None:
    mine = bt.signed("2026-0005", manager="manager1")
    theirs = bt.signed("2026-0006", manager="manager2")
    await bt.deliver(mine, theirs)
    r = await bt.client.get("/api/subscriptions", headers=bt.auth("manager1", "manager"))
    assert [s["contract_number"] for s in r.json()] == ["2026-0005"]
    r = await bt.client.get("/api/subscriptions", headers=bt.auth("tech1", "technician"))
    assert r.status_code == 403
