"""Closing documents (seed 000 §4) and the register of documents received from clients
(seed 004, questions 4-5), on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.events import Envelope
from clientops_shared.events import field_ops as fo
from clientops_shared.testing import eventually_async

pytestmark = pytest.mark.integration


async def _publish(lt: Any, event: Any) -> uuid.UUID:
    envelope = Envelope.wrap(event, "field_ops")
    connection = await aio_pika.connect(lt.servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        await exchange.publish(aio_pika.Message(
            envelope.model_dump_json().encode(), content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(envelope.event_id),
            type=envelope.type), routing_key=envelope.type)
    return envelope.event_id


async def test_delivery_and_completed_work_expect_closing_documents_followed_up_once(
        lt: Any) -> None:
    client_id = await lt.client_known()
    await lt.item("TERM-1", kind="terminal")
    await lt.receive("TERM-1", 1)
    r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                         "site_id": str(uuid.uuid4()), "carrier": "cdek",
                                         "lines": [{"item": "TERM-1", "quantity": 1}]})
    shipment_id = r.json()["id"]
    await lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-11-30"})
    await lt.post(f"/api/shipments/{shipment_id}/delivered",
                  {"delivered_on": "2026-12-01", "received_by": "Иванов"})

    # field-ops reports completed work through the broker: an act is expected, once
    work_order_id = uuid.uuid4()
    event = fo.WorkOrderCompleted(work_order_id=work_order_id, client_id=client_id,
                                  completed_on=date(2026, 12, 2))
    ids = [await _publish(lt, event), await _publish(lt, event)]

    async def consumed() -> bool:
        return bool(await lt.scalar("SELECT count(*) FROM inbox_message WHERE event_id = "
                                    "ANY(:ids)", ids=ids) == 2)
    await eventually_async(consumed, timeout=30)
    docs = (await lt.get("/api/closing-documents")).json()
    assert sorted((d["kind_label"], d["status_label"]) for d in docs) == [
        ("Акт выполненных работ", "Ожидается"), ("УПД", "Ожидается")]
    upd = next(d for d in docs if d["shipment_id"] == shipment_id)
    act = next(d for d in docs if d["work_order_id"] == str(work_order_id))

    r = await lt.post(f"/api/closing-documents/{upd['id']}/sent", {"sent_on": "2026-11-30"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sent_on"
    r = await lt.post(f"/api/closing-documents/{upd['id']}/sent",
                      {"sent_on": "2026-12-02", "number": "УПД-77", "amount": "45000.00"})
    assert r.status_code == 200
    r = await lt.post(f"/api/closing-documents/{act['id']}/sent", {"sent_on": "2026-12-02"})
    r = await lt.post(f"/api/closing-documents/{act['id']}/signed", {"signed_on": "2026-12-03"})
    assert r.status_code == 200
    r = await lt.post(f"/api/closing-documents/{act['id']}/signed", {"signed_on": "2026-12-03"})
    assert r.status_code == 409

    async def control(on: str) -> dict[str, Any]:
        return dict((await lt.post("/api/jobs/closing-documents-control", {"on": on})).json())

    # sent Wednesday 02.12: five working days → reminder on 09.12, three more → head on 14.12
    assert await control("2026-12-08") == {"ran": True, "reminded": 0, "escalated": 0}
    assert await control("2026-12-09") == {"ran": True, "reminded": 1, "escalated": 0}
    assert await control("2026-12-09") == {"ran": False, "reminded": 1, "escalated": 0}
    assert await control("2026-12-11") == {"ran": True, "reminded": 0, "escalated": 0}
    assert await control("2026-12-14") == {"ran": True, "reminded": 0, "escalated": 1}
    assert await control("2026-12-21") == {"ran": True, "reminded": 0, "escalated": 0}
    (unsigned,) = await lt.outbox("logistics.closing_docs.unsigned")
    (overdue,) = await lt.outbox("logistics.closing_docs.overdue")
    assert unsigned["document_id"] == overdue["document_id"] == upd["id"]
    assert unsigned["number"] == "УПД-77" and unsigned["shipment_id"] == shipment_id
    (signed,) = await lt.outbox("logistics.closing_docs.signed")
    assert signed["document_id"] == act["id"]


async def test_documents_received_from_clients_are_logged_and_handed_to_accounting(lt: Any
                                                                                   ) -> None:
    client_id = await lt.client_known("ИП Арендодатель")
    ids = []
    for kind, number in (("invoice", "15"), ("act", "15-А"), ("vat_invoice", "15-СФ")):
        r = await lt.post("/api/received-documents", {
            "client_id": str(client_id), "kind": kind, "number": number,
            "issued_on": "2026-12-01", "amount": "7000.00", "received_on": "2026-12-03"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await lt.post("/api/received-documents", {
        "client_id": str(client_id), "kind": "invoice", "number": "15",
        "issued_on": "2026-12-01", "received_on": "2026-12-04"})
    assert r.status_code == 409
    r = await lt.post("/api/received-documents", {
        "client_id": str(client_id), "kind": "act", "number": "16", "issued_on": "2026-12-05",
        "received_on": "2026-12-04"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "received_on"
    r = await lt.post("/api/received-documents", {
        "client_id": str(client_id), "kind": "act", "number": "16", "issued_on": "2026-12-05",
        "amount": "-5.00", "received_on": "2026-12-06"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    pending = (await lt.get("/api/received-documents", pending="true")).json()
    assert sorted(d["kind_label"] for d in pending) == ["Акт выполненных работ",
                                                        "Счёт на оплату", "Счёт-фактура"]
    r = await lt.post("/api/received-documents/to-accounting",
                      {"documents": ids[:2], "handed_on": "2026-12-04"})
    assert r.status_code == 200 and r.json() == {"handed": 2}
    r = await lt.post("/api/received-documents/to-accounting",
                      {"documents": ids[:1], "handed_on": "2026-12-05"})
    assert r.status_code == 409
    pending = (await lt.get("/api/received-documents", pending="true")).json()
    assert [d["number"] for d in pending] == ["15-СФ"]
