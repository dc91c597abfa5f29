"""Purchasing (seed 000 §9, 10) through HTTP on real PostgreSQL: suppliers with checked INN,
price history with the change in %, purchase order → supplier invoice event → overdue flagged
once → goods received remotely with photos → stock; parts requests; non-standard search."""

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

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


async def _supplier(lt: Any, inn: str = "7702070139") -> str:
    r = await lt.post("/api/suppliers", {
        "name": "ООО «Шлагбаумы Оптом»", "inn": inn, "notes": "Доставка по вторникам",
        "contacts": [{"name": "Анна", "phone": "+7 495 111-22-33", "email": "anna@opt.ru",
                      "role": "менеджер"}]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_supplier_inn_is_checked_and_prices_show_their_change(lt: Any) -> None:
    r = await lt.post("/api/suppliers", {"name": "ООО Ошибка", "inn": "7702070138"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inn"
    assert await lt.scalar("SELECT count(*) FROM supplier") == 0
    supplier_id = await _supplier(lt)
    r = await lt.post("/api/suppliers", {"name": "Дубль", "inn": "7702070139"})
    assert r.status_code == 409
    other = await _supplier(lt, inn="7707083893")
    await lt.item("BAR-1", kind="barrier")
    for sid, price, valid_from in ((supplier_id, "50000.00", "2026-10-01"),
                                   (supplier_id, "56000.00", "2026-11-15"),
                                   (other, "54000.00", "2026-11-01")):
        r = await lt.post(f"/api/suppliers/{sid}/prices", {
            "item": "BAR-1", "price": price, "valid_from": valid_from,
            "availability": "в наличии"})
        assert r.status_code == 201, r.text
    r = await lt.post(f"/api/suppliers/{supplier_id}/prices",
                      {"item": "NOPE", "price": "1.00", "valid_from": "2026-11-15"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "item"
    current = (await lt.get("/api/prices", item="BAR-1")).json()
    assert [(p["supplier_id"], p["price"], p["change_percent"]) for p in current] == [
        (other, "54000.00", None), (supplier_id, "56000.00", "12.0")]
    history = (await lt.get("/api/prices", item="BAR-1", supplier_id=supplier_id,
                            history="true")).json()
    assert [p["valid_from"] for p in history] == ["2026-11-15", "2026-10-01"]


async def test_order_invoice_overdue_remote_acceptance_into_stock(lt: Any) -> None:
    supplier_id = await _supplier(lt)
    await lt.item("BAR-1", kind="barrier", tracking="serial")
    await lt.item("PART-1", kind="part")
    lt.logistics.today = lambda: date(2026, 12, 1)
    r = await lt.post("/api/purchase-orders", {
        "supplier_id": supplier_id, "expected_ship_on": "2026-12-04",
        "lines": [{"item": "BAR-1", "quantity": 2, "price": "56000.00"},
                  {"item": "PART-1", "quantity": 10, "price": "350.00"}]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["number"] == "ЗП-2026/0001"

    r = await lt.post(f"/api/purchase-orders/{order['id']}/invoice", {
        "number": "1187", "issued_on": "2026-12-01", "amount": "115500.00",
        "vat": "20827.87", "due_on": "2026-11-30"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "due_on"
    r = await lt.post(f"/api/purchase-orders/{order['id']}/invoice", {
        "number": "1187", "issued_on": "2026-12-01", "amount": "115500.00",
        "vat": "20827.87", "due_on": "2026-12-05"})
    assert r.status_code == 200 and r.json()["status_label"] == "Счёт получен"
    (invoice,) = await lt.outbox("logistics.supplier_invoice.recorded")
    assert invoice["supplier_inn"] == "7702070139" and invoice["amount"] == "115500.00"
    assert invoice["vat"] == "20827.87" and invoice["category"] == "equipment"
    assert invoice["order_number"] == "ЗП-2026/0001"

    # the supplier did not ship by 04.12: flagged once
    for on in ("2026-12-04", "2026-12-07", "2026-12-08"):
        r = await lt.post("/api/jobs/purchase-orders-overdue", {"on": on})
    (late,) = await lt.outbox("logistics.purchase_order.overdue")
    assert late["expected_ship_on"] == "2026-12-04"
    lt.logistics.today = lambda: date(2026, 12, 7)
    listed = (await lt.get("/api/purchase-orders", overdue="true")).json()
    assert [o["id"] for o in listed] == [order["id"]] and listed[0]["overdue"] is True

    # remote acceptance needs photos or documents; a fake "photo" is refused by its bytes
    r = await lt.post(f"/api/purchase-orders/{order['id']}/received", {
        "received_on": "2026-12-08", "remote": True,
        "serials": {"BAR-1": ["CG-1", "CG-2"]}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "remote"
    r = await lt.client.post(f"/api/purchase-orders/{order['id']}/attachments",
                             headers=lt.auth(),
                             files={"file": ("photo.jpg", b"MZ\x90 not a photo", "image/jpeg")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await lt.client.post(f"/api/purchase-orders/{order['id']}/attachments",
                             headers=lt.auth(),
                             files={"file": ("huge.pdf", PDF + b"0" * (5 * 1024 * 1024),
                                             "application/pdf")})
    assert r.status_code == 422
    r = await lt.client.post(f"/api/purchase-orders/{order['id']}/attachments",
                             headers=lt.auth(), files={"file": ("photo.jpg", JPEG, "image/jpeg")})
    assert r.status_code == 201, r.text
    attachment_id = r.json()["id"]
    # serial-tracked goods need their serials; nothing goes into stock without them
    r = await lt.post(f"/api/purchase-orders/{order['id']}/received",
                      {"received_on": "2026-12-08", "remote": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "serials"
    assert await lt.scalar("SELECT count(*) FROM stock_move") == 0
    r = await lt.post(f"/api/purchase-orders/{order['id']}/received", {
        "received_on": "2026-12-08", "remote": True, "note": "Принято по фото",
        "serials": {"BAR-1": ["CG-1", "CG-2"]}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received" and r.json()["remote_acceptance"] is True
    assert [a["content_type"] for a in r.json()["attachments"]] == ["image/jpeg"]
    assert await lt.balance("BAR-1") == {"on_hand": 2, "reserved": 0, "available": 2}
    assert await lt.balance("PART-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    r = await lt.client.get(f"/api/purchase-orders/{order['id']}/attachments/{attachment_id}",
                            headers=lt.auth())
    assert r.content == JPEG and r.headers["content-type"] == "image/jpeg"
    (received,) = await lt.outbox("logistics.goods.received")
    assert received["remote_acceptance"] is True


async def test_parts_request_reserves_what_is_in_stock_once(lt: Any) -> None:
    await lt.item("PART-1", kind="part")
    await lt.receive("PART-1", 3)
    work_order_id = str(uuid.uuid4())
    r = await lt.post("/api/purchase-requests", {
        "work_order_id": work_order_id, "needed_by": "2026-12-10",
        "lines": [{"item": "PART-1", "quantity": 2}, {"item": "MOTOR-X", "quantity": 1}]})
    assert r.status_code == 201, r.text
    assert [x["reserved"] for x in r.json()["lines"]] == [True, False]
    assert r.json()["status"] == "open"
    reservations = (await lt.get("/api/stock/reservations", work_order_id=work_order_id)).json()
    assert [(x["item"], x["quantity"]) for x in reservations] == [("PART-1", 2)]
    assert (await lt.get("/api/purchase-requests")).json()[0]["status_label"] == "Новая"

    # a request the stock cannot cover reserves nothing and leaves the stock as it was
    r = await lt.post("/api/purchase-requests", {"lines": [{"item": "PART-1", "quantity": 5}]})
    assert r.json()["lines"][0]["reserved"] is False
    assert await lt.balance("PART-1") == {"on_hand": 3, "reserved": 2, "available": 1}


async def test_non_standard_goods_search_keeps_its_notes(lt: Any) -> None:
    supplier_id = await _supplier(lt)
    r = await lt.post("/api/goods-searches", {"title": "Стрела 6 м с шарниром",
                                              "description": "Для парковки с низким потолком"})
    search_id = r.json()["id"]
    await lt.post(f"/api/goods-searches/{search_id}/notes",
                  {"text": "Запросили у трёх поставщиков"})
    r = await lt.post(f"/api/goods-searches/{search_id}/notes",
                      {"text": "Есть у «Шлагбаумы Оптом», 3 недели", "status": "found",
                       "supplier_id": supplier_id})
    assert r.status_code == 200
    (found,) = (await lt.get("/api/goods-searches")).json()
    assert found["status_label"] == "Найден поставщик"
    assert found["supplier_name"] == "ООО «Шлагбаумы Оптом»"
    assert [n["text"] for n in found["notes"]] == ["Запросили у трёх поставщиков",
                                                   "Есть у «Шлагбаумы Оптом», 3 недели"]


PARTS_REQUESTED = getattr(fo, "PartsRequested", None)


@pytest.mark.skipif(PARTS_REQUESTED is None,
                    reason="field-ops' field_ops.parts.requested contract comes with its branch")
async def test_parts_requested_by_field_ops_arrive_through_the_broker_once(lt: Any) -> None:
    assert PARTS_REQUESTED is not None
    await lt.item("PART-1", kind="part")
    await lt.receive("PART-1", 5)
    event = PARTS_REQUESTED(request_id=uuid.uuid4(), work_order_id=uuid.uuid4(),
                            client_id=uuid.uuid4(), lines=[{"item": "PART-1", "quantity": 2}],
                            needed_by=date(2026, 12, 10))
    envelope = Envelope.wrap(event, "field_ops")
    connection = await aio_pika.connect(lt.servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        for _ in range(2):  # a redelivery changes nothing
            await exchange.publish(aio_pika.Message(
                envelope.model_dump_json().encode(), content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(envelope.event_id), type=envelope.type),
                routing_key=envelope.type)

    async def reserved() -> bool:
        return bool(await lt.scalar("SELECT count(*) FROM reservation") == 1)
    await eventually_async(reserved, timeout=30)
    (request,) = (await lt.get("/api/purchase-requests")).json()
    assert request["status"] == "reserved" and request["source"] == "field_ops"
    assert await lt.balance("PART-1") == {"on_hand": 5, "reserved": 2, "available": 3}
