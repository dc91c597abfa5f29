"""Shipments through HTTP, PostgreSQL and RabbitMQ: reservation → shipment → carrier →
delivered → ``logistics.shipment.delivered`` on field-ops' queue with what it needs to
schedule the install."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.testing import eventually_async
from logistics.domain.model import CarrierStatus

pytestmark = pytest.mark.integration


async def _field_ops_sees(lt: Any, event_type: str) -> dict[str, Any]:
    """The first event of this type in field-ops' own queue (bound as field-ops binds it)."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        connection = await aio_pika.connect(lt.servers.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(messaging.queue_name("field_ops"))
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                body = json.loads(message.body)
                if body["type"] == event_type:
                    found.append(body)
        return bool(found)

    await eventually_async(arrived, timeout=30)
    return found[0]


async def _planned(lt: Any, carrier: str = "dostavista", **extra: Any) -> tuple[str, str]:
    client_id = await lt.client_known()
    site_id = str(uuid.uuid4())
    await lt.item("BAR-1", kind="barrier")
    await lt.item("TERM-1", kind="terminal", tracking="serial")
    await lt.receive("BAR-1", 3)
    await lt.receive("TERM-1", serials=["T-1", "T-2"])
    work_order_id = str(uuid.uuid4())
    r = await lt.post("/api/stock/reservations", {"item": "TERM-1", "serials": ["T-2"],
                                                  "work_order_id": work_order_id})
    assert r.status_code == 201, r.text
    r = await lt.post("/api/shipments", {
        "client_id": str(client_id), "site_id": site_id, "carrier": carrier,
        "work_order_id": work_order_id, "address": "Москва, ул. Вавилова, 19",
        "contact_name": "Пётр", "contact_phone": "+7 495 123-45-67",
        "arrival_on": "2026-12-01", "ships_on": "2026-12-03",
        "lines": [{"item": "BAR-1", "quantity": 2},
                  {"item": "TERM-1", "reservation_id": r.json()["id"]}], **extra})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "planned" and r.json()["number"].startswith("ОТГ-2026/")
    return r.json()["id"], work_order_id


async def test_reservation_shipment_delivered_reaches_field_ops_through_the_broker(lt: Any
                                                                                  ) -> None:
    shipment_id, work_order_id = await _planned(lt)
    assert await lt.balance("BAR-1") == {"on_hand": 3, "reserved": 2, "available": 1}

    r = await lt.post(f"/api/shipments/{shipment_id}/quote")
    assert r.status_code == 200 and r.json()["price"] == "1500.00"
    r = await lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-12-03"})
    assert r.status_code == 200, r.text
    shipped = r.json()
    assert shipped["status"] == "in_transit" and shipped["status_label"] == "В пути"
    assert shipped["tracking_number"] and shipped["carrier_status_label"]
    assert await lt.balance("BAR-1") == {"on_hand": 1, "reserved": 0, "available": 1}
    assert await lt.balance("BAR-1", "in_transit") == {"on_hand": 2, "reserved": 0,
                                                       "available": 2}

    r = await lt.post(f"/api/shipments/{shipment_id}/delivered",
                      {"delivered_on": "2026-12-04", "received_by": "Петров П. П."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "delivered" and r.json()["received_by"] == "Петров П. П."
    assert await lt.balance("BAR-1", "client_site") == {"on_hand": 2, "reserved": 0,
                                                        "available": 2}
    serial = (await lt.get("/api/stock/serials", item="TERM-1", state="at_client")).json()
    assert [s["serial"] for s in serial] == ["T-2"]

    event = await _field_ops_sees(lt, "logistics.shipment.delivered")
    payload = event["payload"]
    assert payload["shipment_id"] == shipment_id and payload["work_order_id"] == work_order_id
    assert payload["delivered_on"] == "2026-12-04" and payload["site_id"]
    assert sorted((x["item"], x["kind"], x["quantity"], x["serials"])
                  for x in payload["lines"]) == [("BAR-1", "barrier", 2, []),
                                                 ("TERM-1", "terminal", 1, ["T-2"])]
    # a second confirmation is refused and publishes nothing more
    r = await lt.post(f"/api/shipments/{shipment_id}/delivered",
                      {"delivered_on": "2026-12-04", "received_by": "Петров П. П."})
    assert r.status_code == 409
    assert len(await lt.outbox("logistics.shipment.delivered")) == 1

    # the terminal comes back from the client's site (e.g. the contract ended)
    back = {"item": "TERM-1", "serials": ["T-2"], "from_location": "client_site",
            "to_location": "warehouse"}
    r = await lt.post("/api/stock/moves", {**back, "reason": "delivered"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await lt.post("/api/stock/moves", {**back, "reason": "return"})
    assert r.status_code == 201, r.text
    serial = (await lt.get("/api/stock/serials", item="TERM-1")).json()
    assert {s["serial"]: (s["location"], s["state"]) for s in serial}["T-2"] == (
        "warehouse", "in_stock")


async def test_delivery_before_shipping_is_422_and_changes_nothing(lt: Any) -> None:
    shipment_id, _ = await _planned(lt)
    r = await lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-12-03"})
    assert r.status_code == 200
    r = await lt.post(f"/api/shipments/{shipment_id}/delivered",
                      {"delivered_on": "2026-12-02", "received_by": "Петров"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "delivered_on"
    found = (await lt.get(f"/api/shipments/{shipment_id}")).json()
    assert found["status"] == "in_transit" and found["delivered_on"] is None
    assert await lt.balance("BAR-1", "client_site") == {"on_hand": 0, "reserved": 0,
                                                        "available": 0}
    assert await lt.outbox("logistics.shipment.delivered") == []


@pytest.mark.parametrize(("line", "field"), [
    ({"item": "NOPE", "quantity": 1}, "lines.1.item"),
    ({"item": "BAR-1", "quantity": -2}, "lines.1.quantity"),
])
async def test_bad_shipment_lines_are_422_and_reserve_nothing(lt: Any, line: dict[str, Any],
                                                              field: str) -> None:
    client_id = await lt.client_known()
    await lt.item("BAR-1", kind="barrier")
    await lt.receive("BAR-1", 3)
    r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                         "site_id": str(uuid.uuid4()), "carrier": "truck",
                                         "lines": [{"item": "BAR-1", "quantity": 1}, line]})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await lt.scalar("SELECT count(*) FROM reservation") == 0
    assert await lt.scalar("SELECT count(*) FROM shipment") == 0
    assert await lt.balance("BAR-1") == {"on_hand": 3, "reserved": 0, "available": 3}


async def test_shipment_of_more_than_available_is_409_naming_the_item(lt: Any) -> None:
    client_id = await lt.client_known()
    await lt.item("BAR-1", kind="barrier")
    await lt.receive("BAR-1", 1)
    r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                         "site_id": str(uuid.uuid4()), "carrier": "truck",
                                         "lines": [{"item": "BAR-1", "quantity": 2}]})
    assert r.status_code == 409 and r.json()["item"] == "BAR-1"
    assert await lt.scalar("SELECT count(*) FROM shipment") == 0


async def test_dates_agreed_cancel_releases_and_carrier_status_is_polled(lt: Any) -> None:
    shipment_id, _ = await _planned(lt, carrier="cdek")
    r = await lt.post(f"/api/shipments/{shipment_id}/dates", {"ships_on": "2026-11-30"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ships_on"
    r = await lt.post(f"/api/shipments/{shipment_id}/dates", {"ships_on": "2026-12-05"})
    assert r.status_code == 200 and r.json()["ships_on"] == "2026-12-05"
    r = await lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-12-05"})
    order_id = r.json()["tracking_number"]
    cdek = lt.logistics.carriers["cdek"]
    cdek.advance(order_id, CarrierStatus.DELIVERED)
    r = await lt.post("/api/jobs/carrier-status")
    assert r.json() == {"checked": 1, "changed": 1, "failed": 0}
    found = (await lt.get(f"/api/shipments/{shipment_id}")).json()
    assert found["carrier_status"] == "delivered"
    assert found["carrier_status_label"] == "Доставлено перевозчиком"
    assert found["status"] == "in_transit"  # until the client confirms receipt

    other, _ = await _second_shipment(lt)
    r = await lt.post(f"/api/shipments/{other}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert await lt.scalar("SELECT count(*) FROM reservation WHERE status = 'active'") == 0


async def _second_shipment(lt: Any) -> tuple[str, str]:
    client_id = await lt.client_known("ООО Вторая")
    r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                         "site_id": str(uuid.uuid4()), "carrier": "dellin",
                                         "lines": [{"item": "BAR-1", "quantity": 1}]})
    assert r.status_code == 201, r.text
    return r.json()["id"], str(client_id)


async def test_courier_balance_is_kept_and_a_low_balance_flagged_once(lt: Any) -> None:
    fake = lt.logistics.carriers["dostavista"]
    fake.account_balance = Decimal("5200.00")
    r = await lt.post("/api/courier-accounts/dostavista/refresh")
    assert r.status_code == 200 and r.json()["low"] is False
    fake.account_balance = Decimal("1200.50")
    for _ in range(2):
        r = await lt.post("/api/courier-accounts/dostavista/refresh")
        assert r.json()["low"] is True
    (low,) = await lt.outbox("logistics.courier_balance.low")
    assert low == {"carrier": "dostavista", "balance": "1200.50", "threshold": "3000.00"}
    (account,) = (await lt.get("/api/courier-accounts")).json()
    assert account["balance"] == "1200.50" and account["low"] is True


async def test_a_manager_sees_only_their_own_clients_shipments(lt: Any) -> None:
    shipment_id, _ = await _planned(lt)  # the client of manager1
    mine = await lt.client.get("/api/shipments", headers=lt.auth("manager1", "manager"))
    theirs = await lt.client.get("/api/shipments", headers=lt.auth("manager2", "manager"))
    assert [s["id"] for s in mine.json()] == [shipment_id] and theirs.json() == []
    r = await lt.client.get(f"/api/shipments/{shipment_id}",
                            headers=lt.auth("manager2", "manager"))
    assert r.status_code == 404
    r = await lt.client.post(f"/api/shipments/{shipment_id}/cancel",
                             headers=lt.auth("manager1", "manager"))
    assert r.status_code == 403


async def test_concurrent_dispatches_place_one_carrier_order(lt: Any) -> None:
    shipment_id, _ = await _planned(lt, carrier="dellin")
    fake = lt.logistics.carriers["dellin"]
    answers = await asyncio.gather(*(
        lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-12-03"})
        for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert len(fake.orders) == 1
    assert await lt.scalar("SELECT count(*) FROM stock_move WHERE reason = 'shipment'") == 2
