"""Seed 004 §2 over HTTP: draft → approved (journal) → scheduled → not done → rescheduled →
done; every illegal move is a 409; a technician sees only their orders; bad input writes
nothing; the journal stays gap-free under concurrent approvals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

from clientops_shared.jobs import MOSCOW

pytestmark = pytest.mark.integration


async def test_full_procedure_with_not_done_rescheduled_done(field, pdf_text) -> None:
    site = await field.site()
    await field.technician("tech1")
    order = await field.order(site, "install", description="Установить терминал у въезда")
    assert order["status"] == "draft" and order["status_label"] == "Черновик"
    created = await field.events("field_ops.work_order.created", work_order_id=order["id"])
    assert created[0]["payload"]["needs_approval"] is True
    assert created[0]["payload"]["kind_label"] == "Установка"

    # 2.2–2.3: the head signs, the journal number is given in the same transaction
    r = await field.post(f"/api/work-orders/{order['id']}/approve", as_=field.head, expect=200)
    number = r.json()["journal_number"]
    assert r.json()["status"] == "approved" and number.startswith("2026-")
    journal = (await field.get("/api/journal", params={"year": 2026})).json()
    assert number in [j["journal_number"] for j in journal]
    seqs = [j["journal_seq"] for j in journal]
    assert seqs == list(range(1, len(seqs) + 1))

    # 2.4–2.5: date, window, contact, technician; the notice event carries them
    r = await field.post(f"/api/work-orders/{order['id']}/schedule",
                         field.schedule_body("2026-11-30"), expect=200)
    assert r.json()["status"] == "scheduled" and r.json()["reschedule_count"] == 0
    [scheduled] = await field.events("field_ops.work_order.scheduled", work_order_id=order["id"])
    p = scheduled["payload"]
    assert p["technician"] == "tech1" and p["contact_name"] == "Иван Петров"
    assert p["scheduled_for"].startswith("2026-11-30T10:00:00+03:00")

    # 2.6–2.7: the act the technician takes along
    act = await field.get(f"/api/work-orders/{order['id']}/act.pdf",
                          as_=field.auth("tech1", "technician"))
    assert act.headers["content-type"] == "application/pdf" and act.content[:4] == b"%PDF"

    # 2.9: a problem on site goes to the head, who decides
    r = await field.post(f"/api/work-orders/{order['id']}/problems",
                         {"description": "Нет питания на опоре"},
                         as_=field.auth("tech1", "technician"), expect=201)
    problem = r.json()
    assert await field.events("field_ops.work_order.problem_reported",
                              problem_id=problem["id"])
    await field.post(f"/api/problems/{problem['id']}/decision",
                     {"decision": "Перенести, вызвать электрика"}, as_=field.head, expect=200)
    await field.post(f"/api/problems/{problem['id']}/decision", {"decision": "ещё"},
                     as_=field.head, expect=409)

    # 2.10: not done with a reason → 2.11: rescheduled, counted
    field.now = datetime(2026, 11, 30, 18, 0, tzinfo=MOSCOW)
    r = await field.post(f"/api/work-orders/{order['id']}/report",
                         {"outcome": "not_done"}, as_=field.auth("tech1", "technician"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await field.post(f"/api/work-orders/{order['id']}/report",
                         {"outcome": "not_done", "reason": "Нет доступа на объект"},
                         as_=field.auth("tech1", "technician"), expect=200)
    assert r.json()["status"] == "not_done"
    assert await field.events("field_ops.work_order.failed", work_order_id=order["id"])
    r = await field.post(f"/api/work-orders/{order['id']}/schedule",
                         field.schedule_body("2026-12-02"), expect=200)
    assert r.json()["reschedule_count"] == 1

    # done with the serial: the equipment register and billing's event follow
    field.now = datetime(2026, 12, 2, 15, 0, tzinfo=MOSCOW)
    r = await field.post(f"/api/work-orders/{order['id']}/report",
                         {"outcome": "done", "equipment": [{"type": "terminal",
                                                            "serial": "T-000123"}]},
                         as_=field.auth("tech1", "technician"), expect=200)
    assert r.json()["status"] == "done" and r.json()["status_label"] == "Выполнена"
    [completed] = await field.events("field_ops.work_order.completed", work_order_id=order["id"])
    assert completed["payload"]["completed_on"] == "2026-12-02"
    equipment = (await field.get("/api/equipment", params={"site_id": site["site_id"]})).json()
    assert [(e["type"], e["serial"], e["installed_on"], e["removed_on"]) for e in equipment] == [
        ("terminal", "T-000123", "2026-12-02", None)]
    [installed] = await field.events("field_ops.equipment.installed", serial="T-000123")
    assert installed["payload"]["site_id"] == site["site_id"]
    assert installed["payload"]["installed_on"] == "2026-12-02"

    act = await field.get(f"/api/work-orders/{order['id']}/act.pdf",
                          as_=field.auth("tech1", "technician"))
    text = pdf_text(act.content)
    for expected in ("Акт приёма-передачи оборудования", f"№ {number}", "Установка",
                     site["name"], "Иван Петров", "Терминал", "T-000123", "установлено",
                     "Техник tech1"):
        assert expected in text, (expected, text)

    detail = (await field.get(f"/api/work-orders/{order['id']}")).json()
    assert [x["outcome"] for x in detail["reports"]] == ["not_done", "done"]
    assert detail["problems"][0]["decision"] == "Перенести, вызвать электрика"
    journal = (await field.get("/api/journal", params={"year": 2026})).json()
    row = next(j for j in journal if j["id"] == order["id"])
    assert row["status_label"] == "Выполнена" and row["reschedule_count"] == 1
    xlsx = await field.get("/api/journal", params={"year": 2026, "format": "xlsx"})
    assert xlsx.content[:2] == b"PK"


async def test_a_technician_sees_only_their_orders(field) -> None:
    site = await field.site()
    await field.technician("tech1")
    await field.technician("tech2")
    mine = await field.scheduled(site)
    other = await field.approved(site)
    await field.post(f"/api/work-orders/{other['id']}/schedule",
                     field.schedule_body(technician="tech2"), expect=200)
    tech1 = field.auth("tech1", "technician")
    assert (await field.get("/api/work-orders", as_=tech1,
                            params={"technician": "tech2"})).json() == []
    listed = (await field.get("/api/work-orders", as_=tech1)).json()
    assert {o["technician"] for o in listed} == {"tech1"}
    assert mine["id"] in {o["id"] for o in listed} and other["id"] not in {o["id"] for o in listed}
    await field.get(f"/api/work-orders/{other['id']}", as_=tech1, expect=404)
    await field.get(f"/api/work-orders/{other['id']}/act.pdf", as_=tech1, expect=404)
    await field.post(f"/api/work-orders/{other['id']}/report",
                     {"outcome": "done"}, as_=tech1, expect=404)
    await field.post(f"/api/work-orders/{mine['id']}/approve", as_=tech1, expect=403)
    # what stands at sites they never visit is not theirs to browse either
    elsewhere = await field.site()
    seen = {s["site_id"] for s in (await field.get("/api/sites", as_=tech1)).json()}
    assert site["site_id"] in seen and elsewhere["site_id"] not in seen
    # a manager opens orders for their own clients only
    body = {"client_id": elsewhere["client_id"], "site_id": elsewhere["site_id"],
            "kind": "repair", "description": "x"}
    await field.post("/api/work-orders", body, as_=field.auth("manager1", "manager"),
                     expect=201)
    r = await field.post("/api/work-orders", body, as_=field.auth("manager2", "manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "client_id"
    r = await field.post("/api/downtime", {"site_id": elsewhere["site_id"], "source": "client",
                                           "started_at": "2026-11-27T09:00:00+03:00"},
                         as_=field.auth("manager2", "manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "site_id"


async def _conflict(field, path: str, body: object = None, as_=None, state: str = "") -> None:
    r = await field.post(path, body, as_=as_)
    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == state, r.text


async def test_every_illegal_transition_is_a_409_with_the_current_state(field) -> None:
    site = await field.site()
    await field.technician("tech1")
    head = field.head
    sched = field.schedule_body()
    done = {"outcome": "done"}
    draft = await field.order(site)
    base = f"/api/work-orders/{draft['id']}"
    await _conflict(field, f"{base}/schedule", sched, state="draft")
    await _conflict(field, f"{base}/report", done, state="draft")
    await field.post(f"{base}/approve", as_=head, expect=200)
    await _conflict(field, f"{base}/approve", as_=head, state="approved")
    await _conflict(field, f"{base}/reject", {"reason": "нет"}, as_=head, state="approved")
    await _conflict(field, f"{base}/report", done, state="approved")
    await field.post(f"{base}/schedule", sched, expect=200)
    await _conflict(field, f"{base}/approve", as_=head, state="scheduled")
    await field.post(f"{base}/report", done, expect=200)
    for path, body in ((f"{base}/schedule", sched), (f"{base}/report", done),
                       (f"{base}/cancel", {"reason": "x"}), (f"{base}/approve", None)):
        await _conflict(field, path, body, as_=head, state="done")
    rejected = await field.order(site)
    await field.post(f"/api/work-orders/{rejected['id']}/reject", {"reason": "не нужно"},
                     as_=head, expect=200)
    await _conflict(field, f"/api/work-orders/{rejected['id']}/approve", as_=head,
                    state="rejected")
    cancelled = await field.approved(site)
    await field.post(f"/api/work-orders/{cancelled['id']}/cancel", {"reason": "клиент отказался"},
                     expect=200)
    await _conflict(field, f"/api/work-orders/{cancelled['id']}/schedule", sched,
                    state="cancelled")
    not_done = await field.scheduled(site)
    await field.post(f"/api/work-orders/{not_done['id']}/report",
                     {"outcome": "not_done", "reason": "закрыто"}, expect=200)
    await _conflict(field, f"/api/work-orders/{not_done['id']}/report", done, state="not_done")


async def test_bad_input_is_422_naming_the_field_and_writes_nothing(field) -> None:
    site = await field.site()
    other = await field.site()
    await field.technician("tech1")
    approved = await field.approved(site)
    before = await field.counts()
    base = {"client_id": site["client_id"], "site_id": site["site_id"], "kind": "repair",
            "description": "ok"}
    cases = [
        ("/api/work-orders", {**base, "site_id": other["site_id"]}, "site_id"),
        ("/api/work-orders", {**base, "site_id": "00000000-0000-0000-0000-000000000001"},
         "site_id"),
        ("/api/work-orders", {**base, "description": "x" * 10_000}, "description"),
        ("/api/work-orders", {**base, "kind": "dance"}, "kind"),
        (f"/api/work-orders/{approved['id']}/schedule", field.schedule_body("2026-11-26"),
         "visit_on"),
        (f"/api/work-orders/{approved['id']}/schedule",
         field.schedule_body(technician="manager1"), "technician"),
        (f"/api/work-orders/{approved['id']}/schedule",
         {**field.schedule_body(), "window": "13:00-10:00"}, "window"),
        (f"/api/work-orders/{approved['id']}/schedule", field.schedule_body("2099-01-01"),
         "visit_on"),
        ("/api/downtime", {"site_id": site["site_id"], "started_at": "2026-11-28T10:00:00+03:00",
                           "source": "monitoring"}, "started_at"),
        ("/api/downtime", {"site_id": site["site_id"], "started_at": "2026-11-27T08:00:00",
                           "source": "monitoring"}, "started_at"),
    ]
    for path, body, name in cases:
        r = await field.post(path, body)
        assert r.status_code == 422, (path, name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert name in [e["field"] for e in r.json()["errors"]], (name, r.json())
    assert await field.counts() == before


async def test_journal_is_gap_free_under_20_concurrent_approvals(field) -> None:
    site = await field.site()
    field.now = datetime(2031, 3, 2, 11, 0, tzinfo=MOSCOW)  # a year no other test uses
    orders = [await field.order(site) for _ in range(20)]
    answers = await asyncio.gather(*(
        field.http.post(f"/api/work-orders/{o['id']}/approve", headers=field.head)
        for o in orders))
    assert [a.status_code for a in answers] == [200] * 20
    journal = (await field.get("/api/journal", params={"year": 2031})).json()
    assert [j["journal_seq"] for j in journal] == list(range(1, 21))
    assert sorted(a.json()["journal_number"] for a in answers) == [
        f"2031-{n:04d}" for n in range(1, 21)]
    # a refused approval takes no number
    await field.post(f"/api/work-orders/{orders[0]['id']}/approve", as_=field.head, expect=409)
    late = await field.order(site)
    r = await field.post(f"/api/work-orders/{late['id']}/approve", as_=field.head, expect=200)
    assert r.json()["journal_number"] == "2031-0021"


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_order(field) -> None:
    site = await field.site()
    body = {"client_id": site["client_id"], "site_id": site["site_id"], "kind": "repair",
            "description": "Повтор по сети"}
    headers = {**field.dispatcher, "Idempotency-Key": f"k-{site['site_id']}"}
    first = await field.http.post("/api/work-orders", json=body, headers=headers)
    again = await field.http.post("/api/work-orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await field.scalar("SELECT count(*) FROM work_order WHERE site_id = :s",
                              s=uuid.UUID(site["site_id"])) == 1
    other = await field.http.post("/api/work-orders", json={**body, "kind": "repaint"},
                                  headers=headers)
    assert other.status_code == 409
