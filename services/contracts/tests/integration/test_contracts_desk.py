"""Claims and court cases, pilots, upsell deals, feedback and the client's timeline."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n%decision\n%%EOF\n"


async def test_claim_stages_lawyer_churn_risk_and_court_decision(desk: Any, db: Any) -> None:
    client, contract = await desk.signed_contract()
    lawyer = desk.auth("lawyer1", "lawyer")
    r = await desk.post("/api/claims", {
        "client_id": client["id"], "contract_id": contract["id"],
        "subject": "Шлагбаум не открывается", "amount": "45000.00",
        "received_on": "2027-01-10", "answer_due_on": "2027-01-20"}, expect=201)
    claim = r.json()
    assert (claim["stage"], claim["churn_risk"], claim["lawyer"]) == ("received", False, None)
    opened = (await db.events("contracts.claim.opened", claim_id=claim["id"]))[0]["payload"]
    assert (opened["amount"], opened["answer_due_on"], opened["manager"]) == (
        "45000.00", "2027-01-20", "manager1")

    r = await desk.http.patch(f"/api/claims/{claim['id']}", headers=desk.head,
                              json={"lawyer": "lawyer1", "churn_risk": True})
    assert r.status_code == 200 and r.json()["lawyer"] == "lawyer1"
    flagged = await db.events("contracts.claim.churn_risk_flagged", claim_id=claim["id"])
    assert [(f["payload"]["churn_risk"], f["payload"]["manager"]) for f in flagged] == [
        (True, "manager1")]

    r = await desk.post(f"/api/claims/{claim['id']}/court-decisions",
                        files={"file": ("решение.pdf", PDF, "application/pdf")}, as_=lawyer)
    assert r.status_code == 409 and r.json()["current_state"] == "received"
    desk.today = date(2027, 1, 18)
    for stage in ("answered", "negotiation", "court"):
        r = await desk.post(f"/api/claims/{claim['id']}/stage", {"stage": stage}, as_=lawyer,
                            expect=200)
    r = await desk.post(f"/api/claims/{claim['id']}/stage", {"stage": "answered"}, as_=lawyer)
    assert r.status_code == 409 and r.json()["current_state"] == "court"
    r = await desk.post(f"/api/claims/{claim['id']}/court-decisions",
                        files={"file": ("решение.pdf", PDF, "application/pdf")}, as_=lawyer,
                        expect=201)
    decision = r.json()
    assert decision["kind"] == "court_decision" and decision["claim_id"] == claim["id"]
    attached = await db.events("contracts.claim.decision_attached", claim_id=claim["id"])
    assert attached[0]["payload"]["document_id"] == decision["id"]
    docs = await desk.get(f"/api/claims/{claim['id']}/documents", as_=lawyer)
    assert [d["id"] for d in docs.json()] == [decision["id"]]
    assert (await desk.get(f"/api/documents/{decision['id']}")).content == PDF

    r = await desk.post(f"/api/claims/{claim['id']}/stage",
                        {"stage": "resolved", "note": "мировое соглашение"}, as_=lawyer,
                        expect=200)
    assert r.json()["closed_on"] == "2027-01-18"
    r = await desk.post(f"/api/claims/{claim['id']}/stage", {"stage": "lost"}, as_=lawyer)
    assert r.status_code == 409 and r.json()["current_state"] == "resolved"
    stages = [e["payload"]["stage"] for e in
              await db.events("contracts.claim.stage_changed", claim_id=claim["id"])]
    assert stages == ["answered", "negotiation", "court", "resolved"]

    found = await desk.get("/api/claims", as_=lawyer, params={"q": "шлагбаум"})
    assert claim["id"] in [c["id"] for c in found.json()]
    assert (await desk.get("/api/claims", as_=desk.auth("manager2", "manager"),
                           params={"q": "шлагбаум"})).json() == []
    # sales may not open claims
    r = await desk.post("/api/claims", {"client_id": client["id"], "subject": "x",
                                        "received_on": "2027-01-10"},
                        as_=desk.auth("sales1", "sales"))
    assert r.status_code == 403


async def test_claim_answer_cannot_be_due_before_it_was_received(desk: Any, db: Any) -> None:
    client = await desk.client()
    before = await db.counts()
    r = await desk.post("/api/claims", {"client_id": client["id"], "subject": "x",
                                        "received_on": "2027-01-10",
                                        "answer_due_on": "2027-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "answer_due_on"
    assert await db.counts() == before


async def test_pilot_ends_by_its_date_and_converts_into_a_paid_contract(desk: Any,
                                                                          db: Any) -> None:
    client = await desk.client()
    site = await desk.site(client["id"])
    pilot = await desk.contract(client["id"], kind="pilot", monthly_fee="0.00",
                                starts_on="2026-12-01", ends_on="2027-01-31",
                                site_id=site["id"])
    await desk.sign(pilot["id"], "2026-12-01")
    await desk.run_day("2027-02-01")
    state = await desk.contract_state(pilot["id"])
    assert (state["status"], state["pilot_ended_on"], state["pilot_outcome"]) == (
        "expired", "2027-01-31", None)
    ended = await db.events("contracts.pilot.ended", contract_id=pilot["id"])
    assert [e["payload"]["ended_on"] for e in ended] == ["2027-01-31"]

    r = await desk.post(f"/api/contracts/{pilot['id']}/pilot/end",
                        {"ended_on": "2027-01-31", "outcome": "success",
                         "note": "клиенту понравилось"}, expect=200)
    assert r.json()["pilot_outcome"] == "success"
    assert len(await db.events("contracts.pilot.ended", contract_id=pilot["id"])) == 1

    desk.today = date(2027, 2, 5)
    r = await desk.post(f"/api/contracts/{pilot['id']}/pilot/convert",
                        {"starts_on": "2027-02-01", "ends_on": "2028-01-31",
                         "monthly_fee": "9900.00", "auto_renew": True,
                         "signed_on": "2027-02-05"}, expect=201)
    paid = r.json()
    assert (paid["kind"], paid["status"], paid["replaces_id"], paid["site_id"]) == (
        "subscription", "active", pilot["id"], site["id"])
    converted = (await db.events("contracts.pilot.converted",
                                 contract_id=pilot["id"]))[0]["payload"]
    assert (converted["new_contract_id"], converted["monthly_fee"],
            converted["new_number"]) == (paid["id"], "9900.00", paid["number"])
    signed = (await db.events("contracts.contract.signed", contract_id=paid["id"]))[0]
    assert signed["payload"]["replaces_id"] == pilot["id"]
    state = await desk.contract_state(pilot["id"])
    assert (state["pilot_outcome"], state["replaced_by_id"]) == ("converted", paid["id"])
    r = await desk.post(f"/api/contracts/{pilot['id']}/pilot/convert",
                        {"starts_on": "2027-03-01", "monthly_fee": "9900.00"})
    assert r.status_code == 409


async def test_pilot_declined_early_and_pilot_rules(desk: Any, db: Any) -> None:
    client = await desk.client()
    r = await desk.post("/api/contracts", {
        "client_id": client["id"], "kind": "pilot", "starts_on": "2026-12-01",
        "monthly_fee": "0.00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_on"
    pilot = await desk.contract(client["id"], kind="pilot", monthly_fee="0.00",
                                ends_on="2027-02-28")
    await desk.sign(pilot["id"], "2026-12-01")
    r = await desk.post(f"/api/contracts/{pilot['id']}/pilot/end",
                        {"ended_on": "2027-01-15", "outcome": "declined",
                         "note": "не подошло"}, expect=200)
    assert (r.json()["status"], r.json()["pilot_outcome"]) == ("expired", "declined")
    ended = (await db.events("contracts.pilot.ended", contract_id=pilot["id"]))[0]["payload"]
    assert (ended["ended_on"], ended["outcome"], ended["manager"]) == (
        "2027-01-15", "declined", "manager1")
    r = await desk.post(f"/api/contracts/{pilot['id']}/pilot/convert",
                        {"starts_on": "2027-02-01", "monthly_fee": "9900.00"})
    assert r.status_code == 409
    _, paid = await desk.signed_contract()
    r = await desk.post(f"/api/contracts/{paid['id']}/pilot/end",
                        {"ended_on": "2027-01-15", "outcome": "declined"})
    assert r.status_code == 409 and r.json()["current_state"] == "active"


async def test_deals_feedback_search_and_timeline(desk: Any, db: Any) -> None:
    client, contract = await desk.signed_contract()
    sales = desk.auth("sales1", "sales")
    r = await desk.post("/api/deals", {"client_id": client["id"],
                                       "title": "Второй въезд: шлагбаум и камера",
                                       "equipment": "Шлагбаум DOORHAN 5м, камера LPR",
                                       "amount": "180000.00"}, expect=201)
    deal = r.json()
    assert (deal["owner"], deal["stage"], deal["handed_to_sales"]) == (
        "manager1", "new", False)
    # the sales manager cannot see it yet
    assert (await desk.get("/api/deals", as_=sales, params={"q": "шлагбаум"})).json() == []
    r = await desk.post(f"/api/deals/{deal['id']}/hand-over", {"to": "sales1"}, expect=200)
    assert r.json()["owner"] == "sales1" and r.json()["handed_to_sales"] is True
    found = await desk.get("/api/deals", as_=sales, params={"q": "камера"})
    assert [d["id"] for d in found.json()] == [deal["id"]]
    desk.today = date(2027, 3, 3)
    for stage in ("proposal", "won"):
        r = await desk.post(f"/api/deals/{deal['id']}/stage", {"stage": stage}, as_=sales,
                            expect=200)
    assert r.json()["closed_on"] == "2027-03-03"
    r = await desk.post(f"/api/deals/{deal['id']}/stage", {"stage": "lost"}, as_=sales)
    assert r.status_code == 409 and r.json()["current_state"] == "won"
    created = (await db.events("contracts.deal.created", deal_id=deal["id"]))[0]["payload"]
    assert (created["amount"], created["owner"], created["stage"]) == (
        "180000.00", "manager1", "new")
    moves = [(e["payload"]["previous_stage"], e["payload"]["stage"], e["payload"]["owner"])
             for e in await db.events("contracts.deal.stage_changed", deal_id=deal["id"])]
    assert moves == [("new", "proposal", "sales1"), ("proposal", "won", "sales1")]
    handed = (await db.events("contracts.deal.handed_over", deal_id=deal["id"]))[0]["payload"]
    assert (handed["previous_owner"], handed["owner"]) == ("manager1", "sales1")

    for kind, text in (("wish", "Хотят мобильное приложение для гостей"),
                       ("testimonial_request", "Попросили благодарственное письмо"),
                       ("feedback", "Обучение прошло хорошо")):
        r = await desk.post(f"/api/clients/{client['id']}/feedback",
                            {"kind": kind, "text": text}, expect=201)
        assert r.json()["recorded_on"] == "2027-03-03"
    found = await desk.get("/api/feedback", as_=desk.head,
                           params={"q": "приложение", "client_id": client["id"]})
    assert [f["kind"] for f in found.json()] == ["wish"]
    found = await desk.get("/api/feedback", as_=desk.head,
                           params={"kind": "testimonial_request", "client_id": client["id"]})
    assert [f["text"] for f in found.json()] == ["Попросили благодарственное письмо"]
    recorded = await db.events("contracts.feedback.recorded", client_id=client["id"])
    assert [e["payload"]["recorded_by"] for e in recorded] == ["manager1"] * 3

    await desk.post(f"/api/clients/{client['id']}/interactions",
                    {"channel": "call", "on": "2027-03-02", "summary": "Обсудили апсейл"},
                    expect=201)
    timeline = (await desk.get(f"/api/clients/{client['id']}/timeline")).json()
    types = {t["type"] for t in timeline}
    assert {"contract", "deal", "feedback", "interaction"} <= types
    assert any(contract["number"] in t["summary"] for t in timeline)
    assert timeline == sorted(timeline, key=lambda t: t["at"], reverse=True)
    assert (await desk.get(f"/api/clients/{client['id']}")).json()["last_contact_on"] \
        == "2027-03-02"
