"""The document courier (seed 004 §6) on real PostgreSQL: gap-free journal numbers, originals
returned per document, and the daily control — late originals get a reminder, then the head is
told, exactly once each; originals back on time trigger nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest

from clientops_shared.jobs import business_today

pytestmark = pytest.mark.integration


async def _delivered(lt: Any, client_id: Any, due: str, docs: list[Any] | None = None
                     ) -> dict[str, Any]:
    r = await lt.post("/api/document-deliveries", {
        "client_id": str(client_id), "originals_due_on": due,
        "documents": docs or ["Договор № 12/2026", {"title": "Счёт № 77",
                                                    "original_required": False},
                              "Акт приёма-передачи терминала"]})
    assert r.status_code == 201, r.text
    delivery = r.json()
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/handed",
                      {"courier": "sales1", "courier_kind": "sales", "handed_on": "2026-12-01"})
    assert r.status_code == 200 and r.json()["status_label"] == "Передана курьеру"
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/delivered",
                      {"delivered_on": "2026-12-02"})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    return {**delivery, **r.json()}


async def _control(lt: Any, on: str) -> dict[str, Any]:
    r = await lt.post("/api/jobs/originals-control", {"on": on})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_journal_numbers_are_gap_free_even_with_failures_and_concurrency(lt: Any
                                                                               ) -> None:
    client_id = await lt.client_known()
    r = await lt.post("/api/document-deliveries", {"client_id": str(uuid.uuid4()),
                                                   "documents": ["Договор"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "client_id"
    answers = await asyncio.gather(*(lt.post("/api/document-deliveries", {
        "client_id": str(client_id), "documents": [f"Договор № {i}"]}) for i in range(10)))
    assert all(a.status_code == 201 for a in answers)
    year = business_today().year
    assert sorted(a.json()["journal_number"] for a in answers) == [
        f"ДД-{year}/{i:04d}" for i in range(1, 11)]


async def test_late_originals_get_a_reminder_then_an_escalation_once_each(lt: Any) -> None:
    client_id = await lt.client_known()
    on_time = await _delivered(lt, client_id, "2026-12-10")       # registered first
    late = await _delivered(lt, client_id, "2026-12-10")          # due on a Thursday
    r = await lt.post(f"/api/document-deliveries/{on_time['id']}/returned",
                      {"returned_on": "2026-12-09"})
    assert r.status_code == 200 and r.json()["status"] == "returned"

    assert await _control(lt, "2026-12-10") == {"ran": True, "reminded": 0, "escalated": 0}
    # the first working day after the due date: a reminder to the counterparty
    assert await _control(lt, "2026-12-11") == {"ran": True, "reminded": 1, "escalated": 0}
    assert await _control(lt, "2026-12-11") == {"ran": False, "reminded": 1, "escalated": 0}
    assert await _control(lt, "2026-12-14") == {"ran": True, "reminded": 0, "escalated": 0}
    # three working days after the reminder: the head is told
    assert await _control(lt, "2026-12-16") == {"ran": True, "reminded": 0, "escalated": 1}
    assert await _control(lt, "2026-12-17") == {"ran": True, "reminded": 0, "escalated": 0}
    assert await _control(lt, "2026-12-28") == {"ran": True, "reminded": 0, "escalated": 0}

    (reminder,) = await lt.outbox("logistics.originals.reminder_due")
    (overdue,) = await lt.outbox("logistics.originals.overdue")
    assert reminder["delivery_id"] == overdue["delivery_id"] == late["id"]
    assert reminder["documents"] == ["Договор № 12/2026", "Акт приёма-передачи терминала"]
    assert overdue["due_on"] == "2026-12-10" and overdue["journal_number"] == late[
        "journal_number"]

    lt.logistics.today = lambda: date(2026, 12, 16)
    listing = (await lt.get("/api/document-deliveries")).json()
    assert [d["id"] for d in listing] == [late["id"], on_time["id"]]  # overdue first
    assert listing[0]["days_overdue"] == 6 and listing[1]["overdue"] is False
    assert [d["id"] for d in (await lt.get("/api/document-deliveries", overdue="true")).json()
            ] == [late["id"]]
    assert listing[0]["overdue"] is True and listing[0]["reminded_on"] == "2026-12-11"
    assert listing[0]["escalated_on"] == "2026-12-16"


async def test_originals_come_back_per_document_and_go_to_accounting(lt: Any) -> None:
    client_id = await lt.client_known()
    delivery = await _delivered(lt, client_id, "2026-12-20")
    contract, bill, act = delivery["documents"]
    assert bill["original_required"] is False
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/returned",
                      {"returned_on": "2026-12-05", "documents": [contract["id"]]})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/returned",
                      {"returned_on": "2026-12-06", "documents": [contract["id"]]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "documents"
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/to-accounting",
                      {"handed_on": "2026-12-06"})
    assert r.status_code == 409  # one original is still out
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/returned",
                      {"returned_on": "2026-12-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "returned_on"
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/returned",
                      {"returned_on": "2026-12-07"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert [d["returned_on"] for d in r.json()["documents"]] == ["2026-12-05", None,
                                                                 "2026-12-07"]
    (back,) = await lt.outbox("logistics.originals.returned")
    assert back["delivery_id"] == delivery["id"] and back["returned_on"] == "2026-12-07"
    r = await lt.post(f"/api/document-deliveries/{delivery['id']}/to-accounting",
                      {"handed_on": "2026-12-08", "mark": "Журнал договоров, стр. 14"})
    assert r.status_code == 200 and r.json()["status_label"] == "Передана в бухгалтерию"
    assert r.json()["accounting_mark"] == "Журнал договоров, стр. 14"
    assert await _control(lt, "2026-12-28") == {"ran": True, "reminded": 0, "escalated": 0}
    assert act["title"] == "Акт приёма-передачи терминала"
