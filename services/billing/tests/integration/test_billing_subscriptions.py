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


async def test_rent_contract_feeds_the_rent_table_and_is_never_invoiced(bt: Any) -> None:
    """A rent contract: we are Арендатор and pay the site owner (ARCHITECTURE, BILLING-RULES).

    It used to open a subscription billed from installation — an invoice to the site owner on
    the 15th and reminder calls from the 20th. Now it opens the owner's rent agreement, whose
    terminals follow field-ops' installs and removals with their dates.
    """
    site = uuid.uuid4()
    rent = bt.signed("2026-0002", kind="rent", bill_from_install=True, site_id=site,
                     starts_on=date(2026, 12, 1), fee="3000.00", auto_renew=False,
                     ends_on=date(2027, 11, 30), name="ИП Петров Иван Сергеевич")
    rent = rent.model_copy(update={
        "payment_form": "cashless", "site_name": "Магазин «Продукты»",
        "site_address": "Москва, ул. Ленина, 1", "client_bank_name": "ПАО СБЕРБАНК",
        "client_bik": "044525225", "client_account": "40702810500000004444"})
    await bt.deliver(rent, rent)  # delivered twice: still one agreement
    r = await bt.client.get("/api/subscriptions", params={"contract_id": str(rent.contract_id)},
                            headers=bt.auth())
    assert r.json() == []
    (agreement,) = await bt.rows("SELECT * FROM rent_agreement")
    assert (agreement["number"], agreement["owner_name"], agreement["site_name"],
            agreement["owner_account"], agreement["ends_on"]) == (
        "2026-0002", "ИП Петров Иван Сергеевич", "Магазин «Продукты»",
        "40702810500000004444", date(2027, 11, 30))

    # paid from installation: the terminals installed at the site, with their dates
    for day in (10, 20):
        await bt.deliver(fo.EquipmentInstalled(
            equipment_id=uuid.uuid4(), client_id=rent.client_id, site_id=site,
            installed_on=date(2026, 12, day)), producer="field_ops")
    await bt.deliver(fo.EquipmentRemoved(
        equipment_id=uuid.uuid4(), client_id=rent.client_id, site_id=site,
        contract_id=rent.contract_id, installed_on=date(2027, 1, 16)), producer="field_ops")
    r = await bt.client.get(f"/api/rent/agreements/{agreement['id']}", headers=bt.auth())
    assert [(t["effective_from"], t["terminals"], t["monthly_amount"], t["payment_form"])
            for t in r.json()["terms"]] == [
        ("2026-12-01", 0, "0.00", "cashless"), ("2026-12-10", 1, "3000.00", "cashless"),
        ("2026-12-20", 2, "6000.00", "cashless"), ("2027-01-16", 1, "3000.00", "cashless")]
    # a fee change by supplementary agreement, and a termination
    ref = {"contract_id": rent.contract_id, "number": rent.number, "client_id": rent.client_id}
    await bt.deliver(c.ContractAmended(**ref, amendment_id=uuid.uuid4(), kind="fee_change",
                                       effective_on=date(2027, 2, 1), monthly_fee="3500.00"),
                     c.ContractTerminated(**ref, effective_on=date(2027, 3, 1)))
    r = await bt.client.get(f"/api/rent/agreements/{agreement['id']}", headers=bt.auth())
    assert r.json()["terms"][-1]["monthly_amount"] == "3500.00"
    assert r.json()["ends_on"] == "2027-02-28"

    # January's cashless registry: 15/31 × 6 000 + 16/31 × 3 000 = 2 903.23 + 1 548.39
    r = await bt.client.get("/api/rent/registry", params={"period": "2027-01"},
                            headers=bt.auth())
    assert [(x["number"], x["amount"]) for x in r.json()["rows"]] == [("2026-0002", "4451.62")]
    r = await bt.client.get("/api/rent/registry", params={"period": "2027-03"},
                            headers=bt.auth())
    assert r.json()["rows"] == []  # terminated

    # the 15th: nothing is invoiced to the site owner; the 21st: nobody is reminded
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == 0
    r = await bt.client.get("/api/invoices", params={"client_id": str(rent.client_id)},
                            headers=bt.auth())
    assert r.json() == []
    bt.billing.rules.today = lambda: date(2026, 12, 21)
    r = await bt.client.post("/api/dunning-runs", json={"on": "2026-12-21"}, headers=bt.auth())
    assert r.json()["reminded"] == 0
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key IN "
                           "('billing.invoice.issued', 'billing.invoice.overdue')") == 0


async def test_rent_contract_not_paid_from_install_pays_one_place_from_its_start(bt: Any
                                                                                ) -> None:
    site = uuid.uuid4()
    rent = bt.signed("2026-0007", kind="rent", site_id=site, starts_on=date(2026, 12, 1),
                     fee="5000.00").model_copy(update={"payment_form": "cash"})
    await bt.deliver(rent)
    (agreement,) = await bt.rows("SELECT * FROM rent_agreement")
    assert agreement["ends_on"] is None  # renews itself: open-ended
    # the first terminal is the contracted place; a second one adds to the rent
    for day in (5, 20):
        await bt.deliver(fo.EquipmentInstalled(
            equipment_id=uuid.uuid4(), client_id=rent.client_id, site_id=site,
            contract_id=rent.contract_id, installed_on=date(2026, 12, day)), producer="field_ops")
    r = await bt.client.get(f"/api/rent/agreements/{agreement['id']}", headers=bt.auth())
    assert [(t["effective_from"], t["terminals"], t["payment_form"])
            for t in r.json()["terms"]] == [("2026-12-01", 1, "cash"), ("2026-12-05", 1, "cash"),
                                            ("2026-12-20", 2, "cash")]
    # suspended for half of February: no rent in those days
    ref = {"contract_id": rent.contract_id, "number": rent.number, "client_id": rent.client_id}
    await bt.deliver(c.ContractSuspended(**ref, effective_on=date(2027, 2, 1),
                                         resume_on=date(2027, 2, 15)))
    r = await bt.client.get(f"/api/rent/agreements/{agreement['id']}", headers=bt.auth())
    assert [(t["effective_from"], t["amount_per_terminal"]) for t in r.json()["terms"][-2:]] == [
        ("2027-02-01", "0.00"), ("2027-02-15", "5000.00")]


async def test_pilot_conversion_ends_the_pilot(bt: Any) -> None:
    pilot = bt.signed("2026-0003", kind="pilot", fee="0.00", starts_on=date(2026, 11, 1))
    paid = bt.signed("2026-0004", client_id=pilot.client_id, starts_on=date(2027, 1, 1))
    await bt.deliver(pilot, paid)
    await bt.deliver(c.PilotConverted(contract_id=pilot.contract_id, number=pilot.number,
                                      client_id=pilot.client_id,
                                      new_contract_id=paid.contract_id))
    sub = await _sub(bt, pilot.contract_id)
    assert (sub["status"], sub["service_stop"]) == ("ended", "2027-01-01")


async def test_an_invoice_once_issued_for_a_rent_contract_is_not_dunned_and_is_cancelled(
        bt: Any) -> None:
    """Before the fix a rent contract was invoiced: such an invoice is never chased, and the
    desk cancels it with a credit note and a reason."""
    s = bt.signed("2026-0008")
    await bt.deliver(s)
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=bt.auth())
    assert r.json()["issued"] == 1
    await bt.execute("UPDATE subscription SET kind = 'rent'")  # as the old handler left it
    bt.billing.rules.today = lambda: date(2026, 12, 21)
    r = await bt.client.post("/api/dunning-runs", json={"on": "2026-12-21"}, headers=bt.auth())
    assert r.json()["reminded"] == 0
    (inv,) = (await bt.client.get("/api/invoices", headers=bt.auth())).json()
    url = f"/api/invoices/{inv['id']}/cancellation"
    r = await bt.client.post(url, json={"reason": ""}, headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await bt.client.post(url, json={"reason": "аренда: платим мы, счёт выставлен ошибочно"},
                             headers=bt.auth())
    assert r.status_code == 201, r.text
    assert (r.json()["action"], r.json()["credit_note"], r.json()["new_invoice"]) == (
        "credited", "КН-2026-12-0001", None)
    invoices = {i["number"]: i for i in (await bt.client.get(
        "/api/invoices", headers=bt.auth())).json()}
    assert invoices[inv["number"]]["status"] == "credited"
    assert invoices["КН-2026-12-0001"]["total"] == "-15250.00"
    assert (await bt.client.post(url, json={"reason": "ещё раз"}, headers=bt.auth())
            ).status_code == 409
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                           "'billing.credit_note.issued'") == 1


async def test_subscriptions_are_for_the_desk_and_the_clients_manager(bt: Any) -> None:
    mine = bt.signed("2026-0005", manager="manager1")
    theirs = bt.signed("2026-0006", manager="manager2")
    await bt.deliver(mine, theirs)
    r = await bt.client.get("/api/subscriptions", headers=bt.auth("manager1", "manager"))
    assert [s["contract_number"] for s in r.json()] == ["2026-0005"]
    r = await bt.client.get("/api/subscriptions", headers=bt.auth("tech1", "technician"))
    assert r.status_code == 403
