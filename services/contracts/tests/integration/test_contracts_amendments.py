"""Amendments with effective dates, and client change requests decided by the head."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_fee_change_earlier_than_the_notice_period_is_refused_explaining_why(
        desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(notice_days=30)
    desk.today = date(2027, 2, 1)
    before = await db.counts()
    r = await desk.post(f"/api/contracts/{contract['id']}/fee-change",
                        {"new_fee": "15000.00", "notice_on": "2027-02-01",
                         "effective_on": "2027-03-01"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"] == [{"field": "effective_on", "message": problem["errors"][0][
        "message"]}]
    message = problem["errors"][0]["message"]
    assert "no earlier than 2027-03-03" in message and "notified on 2027-02-01" in message
    assert "30 days' notice" in message
    assert await db.counts() == before


async def test_fee_change_with_notice_applies_on_its_effective_date(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(notice_days=30)
    cid = contract["id"]
    desk.today = date(2027, 2, 1)
    r = await desk.post(f"/api/contracts/{cid}/fee-change",
                        {"new_fee": "15000.00", "notice_on": "2027-02-01",
                         "effective_on": "2027-03-03"}, expect=201)
    amendment = r.json()
    assert (amendment["kind"], amendment["status"], amendment["number"]) == (
        "fee_change", "scheduled", 1)
    assert amendment["previous_fee"] == "12500.00" and amendment["new_fee"] == "15000.00"
    event = (await db.events("contracts.contract.amended", contract_id=cid))[0]["payload"]
    assert event == {**event, "kind": "fee_change", "effective_on": "2027-03-03",
                     "monthly_fee": "15000.00", "previous_monthly_fee": "12500.00",
                     "notice_on": "2027-02-01", "amendment_id": amendment["id"]}
    assert (await desk.contract_state(cid))["monthly_fee"] == "12500.00"
    await desk.run_day("2027-03-02")
    assert (await desk.contract_state(cid))["monthly_fee"] == "12500.00"
    await desk.run_day("2027-03-03")
    assert (await desk.contract_state(cid))["monthly_fee"] == "15000.00"
    listed = await desk.get(f"/api/contracts/{cid}/amendments")
    assert [(a["number"], a["status"], a["applied_on"]) for a in listed.json()] == [
        (1, "applied", "2027-03-03")]
    # without an effective date the earliest allowed one is taken
    r = await desk.post(f"/api/contracts/{cid}/fee-change",
                        {"new_fee": "16000.00", "notice_on": "2027-04-10"}, expect=201)
    assert r.json()["effective_on"] == "2027-05-10" and r.json()["number"] == 2


async def test_extension_moves_the_end_date_at_once(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(ends_on="2027-11-30")
    cid = contract["id"]
    desk.today = date(2027, 10, 1)
    r = await desk.post(f"/api/contracts/{cid}/extension", {"new_ends_on": "2027-10-31"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_ends_on"
    r = await desk.post(f"/api/contracts/{cid}/extension",
                        {"new_ends_on": "2028-11-30", "new_fee": "13000.00"}, expect=201)
    extension = r.json()
    assert extension["effective_on"] == "2027-12-01"
    assert extension["previous_ends_on"] == "2027-11-30"
    assert (await desk.contract_state(cid))["ends_on"] == "2028-11-30"
    payload = (await db.events("contracts.contract.amended", contract_id=cid))[0]["payload"]
    assert (payload["kind"], payload["ends_on"], payload["effective_on"],
            payload["monthly_fee"]) == ("extension", "2028-11-30", "2027-12-01", "13000.00")
    await desk.run_day("2027-12-01")
    state = await desk.contract_state(cid)
    assert (state["status"], state["monthly_fee"]) == ("active", "13000.00")


async def test_amendments_of_contracts_not_in_force_are_conflicts(desk: Any) -> None:
    client = await desk.client()
    draft = await desk.contract(client["id"])
    for path, body in (("fee-change", {"new_fee": "1.00"}),
                       ("extension", {"new_ends_on": "2030-01-01"}),
                       ("terminate", {"effective_on": "2027-01-01"}),
                       ("suspend", {"effective_on": "2027-01-01"})):
        r = await desk.post(f"/api/contracts/{draft['id']}/{path}", body)
        assert r.status_code == 409 and r.json()["current_state"] == "draft", (path, r.text)


async def test_change_request_routed_to_the_head_and_approved_becomes_an_amendment(
        desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(notice_days=30)
    cid = contract["id"]
    desk.today = date(2027, 1, 10)
    r = await desk.post(f"/api/contracts/{cid}/change-requests",
                        {"kind": "fee_change", "summary": "Клиент просит снизить АП до 11 000",
                         "received_on": "2027-01-10", "new_fee": "11000.00",
                         "effective_on": "2027-02-15"}, expect=201)
    request = r.json()
    assert request["state"] == "pending" and request["submitted_by"] == "manager1"
    submitted = (await db.events("contracts.change_request.submitted",
                                 request_id=request["id"]))[0]["payload"]
    assert submitted["manager"] == "manager1" and submitted["kind"] == "fee_change"
    assert submitted["number"] == contract["number"]

    pending = await desk.get("/api/change-requests", as_=desk.head,
                             params={"state": "pending", "contract_id": cid})
    assert [x["id"] for x in pending.json()] == [request["id"]]
    # the manager cannot decide it
    r = await desk.post(f"/api/change-requests/{request['id']}/decide", {"approve": True})
    assert r.status_code == 403

    desk.today = date(2027, 1, 12)
    r = await desk.post(f"/api/change-requests/{request['id']}/decide",
                        {"approve": True, "reason": "лояльный клиент"}, as_=desk.head,
                        expect=200)
    decided = r.json()
    assert decided["state"] == "approved" and decided["decided_by"] == "head1"
    assert decided["decided_on"] == "2027-01-12" and decided["amendment_id"]
    amendment = (await desk.get(f"/api/amendments/{decided['amendment_id']}")).json()
    assert (amendment["kind"], amendment["new_fee"], amendment["effective_on"],
            amendment["notice_on"], amendment["change_request_id"]) == (
        "fee_change", "11000.00", "2027-02-15", "2027-01-10", request["id"])
    decision = (await db.events("contracts.change_request.decided",
                                request_id=request["id"]))[0]["payload"]
    assert decision["approved"] is True and decision["amendment_id"] == amendment["id"]
    amended = (await db.events("contracts.contract.amended", contract_id=cid))[0]["payload"]
    assert amended["change_request_id"] == request["id"]
    r = await desk.post(f"/api/change-requests/{request['id']}/decide", {"approve": False,
                        "reason": "передумали"}, as_=desk.head)
    assert r.status_code == 409 and r.json()["current_state"] == "approved"


async def test_rejected_change_request_states_its_reason_and_changes_nothing(
        desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    r = await desk.post(f"/api/contracts/{contract['id']}/change-requests",
                        {"kind": "termination", "summary": "Хотят расторгнуть с февраля",
                         "received_on": "2026-12-20", "effective_on": "2027-02-01"},
                        expect=201)
    request_id = r.json()["id"]
    r = await desk.post(f"/api/change-requests/{request_id}/decide", {"approve": False},
                        as_=desk.head)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await desk.post(f"/api/change-requests/{request_id}/decide",
                        {"approve": False, "reason": "действует мораторий до марта"},
                        as_=desk.head, expect=200)
    assert r.json()["state"] == "rejected" and r.json()["amendment_id"] is None
    assert await db.events("contracts.contract.terminated", contract_id=contract["id"]) == []
    assert (await desk.contract_state(contract["id"]))["status"] == "active"


async def test_approving_a_change_that_breaks_the_notice_rule_writes_nothing(
        desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(notice_days=30)
    desk.today = date(2027, 1, 10)
    r = await desk.post(f"/api/contracts/{contract['id']}/change-requests",
                        {"kind": "fee_change", "summary": "Повышение АП", "new_fee": "20000.00",
                         "received_on": "2027-01-10", "effective_on": "2027-01-20"},
                        expect=201)
    before = await db.counts()
    r = await desk.post(f"/api/change-requests/{r.json()['id']}/decide", {"approve": True},
                        as_=desk.head)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "effective_on"
    assert await db.counts() == before
    pending = await desk.get("/api/change-requests", as_=desk.head, params={"state": "pending"})
    assert len(pending.json()) == 1


async def test_idempotency_key_makes_a_retried_amendment_happen_once(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    desk.today = date(2027, 1, 10)
    headers = {**desk.auth(), "Idempotency-Key": "fee-2027-01"}
    body = {"new_fee": "14000.00", "notice_on": "2027-01-10"}
    first = await desk.http.post(f"/api/contracts/{contract['id']}/fee-change", json=body,
                                 headers=headers)
    second = await desk.http.post(f"/api/contracts/{contract['id']}/fee-change", json=body,
                                  headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(await db.events("contracts.contract.amended",
                               contract_id=contract["id"])) == 1
    other = await desk.http.post(f"/api/contracts/{contract['id']}/fee-change",
                                 json={**body, "new_fee": "14500.00"}, headers=headers)
    assert other.status_code == 409
