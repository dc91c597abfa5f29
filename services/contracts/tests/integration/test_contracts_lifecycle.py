"""Contract lifecycle through HTTP and PostgreSQL: every path, every illegal move, who may."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def conflict(r: Any, state: str) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["current_state"] == state
    assert state in r.json()["detail"]


async def test_standard_contract_signed_before_start_activates_on_its_start_date(
        desk: Any, db: Any) -> None:
    client = await desk.client()
    contract = await desk.contract(client["id"], starts_on="2026-12-01", ends_on="2027-11-30")
    assert contract["status"] == "draft" and contract["number"].startswith("2026-")
    r = await desk.sign(contract["id"], "2026-11-20")
    assert r.json() == {"id": contract["id"], "number": contract["number"], "status": "signed"}

    assert (await desk.run_day("2026-11-30"))["result"]["activated"] == 0
    assert (await desk.contract_state(contract["id"]))["status"] == "signed"
    day = await desk.run_day("2026-12-01")
    assert day["ran"] is True and day["result"]["activated"] >= 1
    assert (await desk.contract_state(contract["id"]))["status"] == "active"
    activated = await db.events("contracts.contract.activated", contract_id=contract["id"])
    assert [e["payload"]["starts_on"] for e in activated] == ["2026-12-01"]
    # the day's run is once per date: a rerun answers the first result and changes nothing
    again = await desk.run_day("2026-12-01")
    assert again["ran"] is False and again["result"] == day["result"]


async def test_contract_signed_on_its_start_date_is_active_at_once(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(signed_on="2026-12-01", starts_on="2026-12-01")
    assert contract["status"] == "active" and contract["signed_on"] == "2026-12-01"
    signed = await db.events("contracts.contract.signed", contract_id=contract["id"])
    assert signed[0]["payload"]["status"] == "active"
    # active from the signing itself: no separate activation event follows
    assert await db.events("contracts.contract.activated", contract_id=contract["id"]) == []
    await desk.run_day("2026-12-02")
    assert await db.events("contracts.contract.activated", contract_id=contract["id"]) == []
    assert signed[0]["payload"]["monthly_fee"] == "12500.00"


async def test_suspend_resume_terminate_path(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    cid = contract["id"]
    desk.today = date(2026, 12, 10)
    r = await desk.post(f"/api/contracts/{cid}/suspend",
                        {"effective_on": "2026-12-10", "reason": "ремонт парковки"}, expect=201)
    assert r.json()["kind"] == "suspension" and r.json()["status"] == "applied"
    state = await desk.contract_state(cid)
    assert state["status"] == "suspended" and state["suspended_on"] == "2026-12-10"

    conflict(await desk.post(f"/api/contracts/{cid}/suspend", {"effective_on": "2026-12-11"}),
             "suspended")
    r = await desk.post(f"/api/contracts/{cid}/resume", {"effective_on": "2026-12-20"},
                        expect=200)
    assert r.json()["status"] == "active" and r.json()["suspended_on"] is None
    conflict(await desk.post(f"/api/contracts/{cid}/resume", {"effective_on": "2026-12-21"}),
             "active")

    desk.today = date(2027, 1, 15)
    r = await desk.post(f"/api/contracts/{cid}/terminate",
                        {"effective_on": "2027-01-15", "reason": "клиент съехал"}, expect=201)
    assert r.json()["status"] == "applied"
    state = await desk.contract_state(cid)
    assert state["status"] == "terminated" and state["terminated_on"] == "2027-01-15"
    conflict(await desk.post(f"/api/contracts/{cid}/terminate", {"effective_on": "2027-01-20"}),
             "terminated")
    conflict(await desk.post(f"/api/contracts/{cid}/resume", {"effective_on": "2027-01-20"}),
             "terminated")
    conflict(await desk.sign(cid, "2027-01-20", expect=409), "terminated")

    types = [e["type"] for e in await db.rows(
        "SELECT routing_key AS type FROM outbox_message WHERE body->'payload'->>'contract_id' = "
        ":c ORDER BY id", c=cid)]
    assert types == ["contracts.contract.signed", "contracts.contract.suspended",
                     "contracts.contract.resumed", "contracts.contract.terminated"]
    audits = await db.rows("SELECT action, actor FROM audit_log WHERE entity = 'contract' "
                           "AND entity_id = :c ORDER BY id", c=cid)
    assert [a["action"] for a in audits] == [
        "contract.created", "contract.signed", "contract.amended.suspension",
        "contract.resumed", "contract.amended.termination"]
    assert {a["actor"] for a in audits} == {"manager1"}


async def test_future_suspension_and_termination_apply_on_their_dates(desk: Any) -> None:
    _, contract = await desk.signed_contract()
    cid = contract["id"]
    desk.today = date(2026, 12, 5)
    r = await desk.post(f"/api/contracts/{cid}/suspend",
                        {"effective_on": "2027-01-10", "resume_on": "2027-02-01"}, expect=201)
    assert r.json()["status"] == "scheduled"
    assert (await desk.contract_state(cid))["status"] == "active"
    await desk.run_day("2027-01-09")
    assert (await desk.contract_state(cid))["status"] == "active"
    await desk.run_day("2027-01-10")
    state = await desk.contract_state(cid)
    assert (state["status"], state["resume_on"]) == ("suspended", "2027-02-01")
    await desk.run_day("2027-02-01")
    assert (await desk.contract_state(cid))["status"] == "active"

    desk.today = date(2027, 2, 2)
    r = await desk.post(f"/api/contracts/{cid}/terminate", {"effective_on": "2027-03-01"},
                        expect=201)
    assert r.json()["status"] == "scheduled"
    # a termination ahead blocks other amendments
    conflict(await desk.post(f"/api/contracts/{cid}/fee-change",
                             {"new_fee": "15000.00", "notice_on": "2027-02-02"}), "active")
    await desk.run_day("2027-03-02")  # the job missed the 1st: caught up the day after
    assert (await desk.contract_state(cid))["status"] == "terminated"


async def test_contract_without_auto_renewal_expires_after_its_end_date(desk: Any,
                                                                         db: Any) -> None:
    _, contract = await desk.signed_contract(starts_on="2026-12-01", ends_on="2027-01-31")
    await desk.run_day("2027-01-31")
    assert (await desk.contract_state(contract["id"]))["status"] == "active"
    await desk.run_day("2027-02-01")
    assert (await desk.contract_state(contract["id"]))["status"] == "expired"
    expired = await db.events("contracts.contract.expired", contract_id=contract["id"])
    assert [e["payload"]["ends_on"] for e in expired] == ["2027-01-31"]
    conflict(await desk.post(f"/api/contracts/{contract['id']}/suspend",
                             {"effective_on": "2027-02-02"}), "expired")


async def test_non_standard_contract_needs_the_heads_approval(desk: Any, db: Any) -> None:
    client = await desk.client()
    contract = await desk.contract(client["id"], standard=False)
    assert contract["status"] == "pending_approval"
    cid = contract["id"]
    r = await desk.sign(cid, "2026-12-01", expect=409)
    conflict(r, "pending_approval")
    assert "approved by the head" in r.json()["detail"]
    # a manager may not approve, even their own client's contract
    r = await desk.post(f"/api/contracts/{cid}/approve", {})
    assert r.status_code == 403 and r.headers["content-type"].startswith(
        "application/problem+json")
    r = await desk.post(f"/api/contracts/{cid}/reject", {"reason": "нет"})
    assert r.status_code == 403

    r = await desk.post(f"/api/contracts/{cid}/reject", {}, as_=desk.head)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await desk.post(f"/api/contracts/{cid}/reject", {"reason": "штраф 1% в день"},
                        as_=desk.head, expect=200)
    assert r.json()["status"] == "rejected" and r.json()["decided_by"] == "head1"
    conflict(await desk.sign(cid, "2026-12-01", expect=409), "rejected")
    conflict(await desk.post(f"/api/contracts/{cid}/approve", {}, as_=desk.head), "rejected")

    r = await desk.post(f"/api/contracts/{cid}/submit", {}, expect=200)
    assert r.json()["status"] == "pending_approval"
    r = await desk.post(f"/api/contracts/{cid}/approve", {"reason": "штраф убран"},
                        as_=desk.head, expect=200)
    assert r.json()["status"] == "approved"
    conflict(await desk.post(f"/api/contracts/{cid}/approve", {}, as_=desk.head), "approved")
    r = await desk.sign(cid, "2026-12-01")
    assert r.json()["status"] == "active"
    kinds = [e["routing_key"] for e in await db.rows(
        "SELECT routing_key FROM outbox_message WHERE body->'payload'->>'contract_id' = :c "
        "ORDER BY id", c=cid)]
    assert kinds == ["contracts.contract.submitted_for_approval", "contracts.contract.rejected",
                     "contracts.contract.submitted_for_approval", "contracts.contract.approved",
                     "contracts.contract.signed"]


async def test_standard_contract_needs_no_approval_and_signs_once(desk: Any) -> None:
    client = await desk.client()
    contract = await desk.contract(client["id"])
    conflict(await desk.post(f"/api/contracts/{contract['id']}/submit", {}), "draft")
    conflict(await desk.post(f"/api/contracts/{contract['id']}/approve", {}, as_=desk.head),
             "draft")
    await desk.sign(contract["id"], "2026-12-01")
    conflict(await desk.sign(contract["id"], "2026-12-02", expect=409), "active")


async def test_manager_cannot_read_or_change_another_managers_client(desk: Any) -> None:
    client = await desk.client("manager1")
    contract = await desk.contract(client["id"])
    other = desk.auth("manager2", "manager")
    for path in (f"/api/clients/{client['id']}", f"/api/contracts/{contract['id']}",
                 f"/api/clients/{client['id']}/timeline",
                 f"/api/contracts/{contract['id']}/amendments"):
        r = await desk.get(path, as_=other, expect=403)
        assert r.headers["content-type"].startswith("application/problem+json")
    for path, body in ((f"/api/contracts/{contract['id']}/sign", {"signed_on": "2026-12-01"}),
                       (f"/api/clients/{client['id']}/sites", {"name": "x", "address": "y"})):
        assert (await desk.post(path, body, as_=other)).status_code == 403
    # and lists leave them out
    listed = await desk.get("/api/clients", as_=other, params={"q": client["name"]})
    assert listed.json() == []
    # the head and a lawyer see it
    await desk.get(f"/api/clients/{client['id']}", as_=desk.head)
    await desk.get(f"/api/clients/{client['id']}", as_=desk.auth("lawyer1", "lawyer"))
    # a manager cannot register a client for someone else
    r = await desk.post("/api/clients", {"name": "ООО X", "inn": "7707083893",
                                         "email": "a@b.ru", "manager": "manager2"})
    assert r.status_code == 403


async def test_resigning_replaces_the_contract_and_links_both(desk: Any, db: Any) -> None:
    _, old = await desk.signed_contract(starts_on="2026-12-01", ends_on="2027-11-30")
    r = await desk.post(f"/api/contracts/{old['id']}/resign",
                        {"starts_on": "2027-03-01", "ends_on": "2028-02-29",
                         "monthly_fee": "14000.00"}, expect=201)
    new = r.json()
    assert new["replaces_id"] == old["id"] and new["status"] == "draft"
    assert new["site_id"] == old["site_id"] and new["kind"] == "subscription"
    desk.today = date(2027, 2, 10)
    await desk.sign(new["id"], "2027-02-10")
    old_state = await desk.contract_state(old["id"])
    assert old_state["replaced_by_id"] == new["id"] and old_state["status"] == "active"
    terminated = await db.events("contracts.contract.terminated", contract_id=old["id"])
    assert len(terminated) == 1
    payload = terminated[0]["payload"]
    assert payload["effective_on"] == "2027-03-01" and payload["replaced_by_id"] == new["id"]
    await desk.run_day("2027-03-01")
    assert (await desk.contract_state(old["id"]))["status"] == "terminated"
    assert (await desk.contract_state(new["id"]))["status"] == "active"
    # a contract is replaced once
    r = await desk.post(f"/api/contracts/{old['id']}/resign", {"starts_on": "2027-04-01"})
    assert r.status_code == 409


async def test_contract_numbers_are_unique_per_year(desk: Any) -> None:
    client = await desk.client()
    a = await desk.contract(client["id"], starts_on="2027-01-01", ends_on=None)
    b = await desk.contract(client["id"], starts_on="2027-02-01", ends_on=None)
    c = await desk.contract(client["id"], starts_on="2026-12-01", ends_on=None)
    year, first = a["number"].split("-")
    assert year == "2027" and b["number"] == f"2027-{int(first) + 1:04d}"
    assert c["number"].startswith("2026-")


async def test_clients_search_card_and_bulk_assignment(desk: Any, db: Any) -> None:
    client = await desk.full_client("manager1")
    assert client["phone"] == "+79161234567"
    assert client["contacts"] == [{"name": "Петрова Ольга", "role": "accountant",
                                   "phone": "+74957654321", "email": None, "position": None}]
    assert client["signatory"]["full_name"] == "Смирнова Анна Петровна"
    found = await desk.get("/api/clients", params={"q": client["inn"][:6]}, as_=desk.head)
    assert client["id"] in [c["id"] for c in found.json()]
    found = await desk.get("/api/clients", params={"q": "ромашка & сын"}, as_=desk.head)
    listed_card = next(c for c in found.json() if c["id"] == client["id"])
    assert listed_card == client
    assert (await desk.get(f"/api/clients/{client['id']}")).json() == client
    found = await desk.get("/api/clients", params={"manager": "manager1", "limit": 500},
                           as_=desk.head)
    assert client["id"] in [c["id"] for c in found.json()]
    assert int(found.headers["X-Total-Count"]) >= 1

    r = await desk.http.patch(f"/api/clients/{client['id']}", headers=desk.auth(),
                              json={"legal_address": "Москва, ул. Новая, 1", "source": "referral"})
    assert r.status_code == 200, r.text
    assert r.json()["legal_address"] == "Москва, ул. Новая, 1"
    updated = await db.events("contracts.client.updated", client_id=client["id"])
    assert updated[-1]["payload"]["legal_address"] == "Москва, ул. Новая, 1"

    # clients registered by the head without an owner are the unassigned list
    orphans = []
    for _ in range(2):
        r = await desk.post("/api/clients", {"name": "ООО «Ничей»", "inn": desk.new_inn(),
                                             "email": "x@y.ru"}, as_=desk.head, expect=201)
        orphans.append(r.json()["id"])
    listed = await desk.get("/api/clients/unassigned", as_=desk.head,
                            params={"limit": 500})
    assert set(orphans) <= {c["id"] for c in listed.json()}
    assert (await desk.get("/api/clients/unassigned", expect=403)).status_code == 403

    r = await desk.post("/api/clients/assign", {"client_ids": [*orphans, client["id"]],
                                                "manager": "manager2"}, as_=desk.head,
                        expect=200)
    assert set(r.json()["reassigned"]) == {*orphans, client["id"]}
    for cid, before in ((orphans[0], None), (client["id"], "manager1")):
        events = await db.events("contracts.client.reassigned", client_id=cid)
        assert [(e["payload"]["previous_manager"], e["payload"]["manager"]) for e in events] \
            == [(before, "manager2")]
    r = await desk.post("/api/clients/assign", {"client_ids": orphans, "manager": "manager2"},
                        as_=desk.head, expect=200)
    assert r.json()["reassigned"] == [] and r.json()["unchanged"] == 2
    # only the head assigns
    r = await desk.post("/api/clients/assign", {"client_ids": orphans, "manager": "manager1"})
    assert r.status_code == 403
    # the previous owner lost the client
    await desk.get(f"/api/clients/{client['id']}", expect=403)
