"""Stock through HTTP on real PostgreSQL: receipts, moves, reservations, never negative, low
stock flagged once, bad input refused with nothing written."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_receipt_move_reservation_and_availability(lt: Any) -> None:
    await lt.item("BAR-1", kind="barrier")
    await lt.item("TERM-1", kind="terminal", tracking="serial")
    await lt.receive("BAR-1", 5)
    await lt.receive("TERM-1", serials=["T-001", "T-002", "T-003"])

    r = await lt.post("/api/stock/moves", {"item": "BAR-1", "quantity": 2,
                                           "from_location": "warehouse",
                                           "to_location": "office", "reason": "to_office"})
    assert r.status_code == 201, r.text
    r = await lt.post("/api/stock/reservations", {"item": "BAR-1", "quantity": 2,
                                                  "work_order_id": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    assert await lt.balance("BAR-1") == {"on_hand": 3, "reserved": 2, "available": 1}
    assert await lt.balance("BAR-1", "office") == {"on_hand": 2, "reserved": 0, "available": 2}

    # serial-tracked: a reserved serial cannot be moved, a free one can
    r = await lt.post("/api/stock/reservations", {"item": "TERM-1", "serials": ["T-001"]})
    assert r.status_code == 201, r.text
    r = await lt.post("/api/stock/moves", {"item": "TERM-1", "serials": ["T-001"],
                                           "from_location": "warehouse",
                                           "to_location": "office", "reason": "transfer"})
    assert r.status_code == 409 and r.json()["item"] == "TERM-1"
    r = await lt.post("/api/stock/moves", {"item": "TERM-1", "serials": ["T-002"],
                                           "from_location": "warehouse",
                                           "to_location": "office", "reason": "transfer"})
    assert r.status_code == 201, r.text
    serials = {s["serial"]: (s["location"], s["state"])
               for s in (await lt.get("/api/stock/serials", item="TERM-1")).json()}
    assert serials == {"T-001": ("warehouse", "reserved"), "T-002": ("office", "in_stock"),
                       "T-003": ("warehouse", "in_stock")}
    stock = (await lt.get("/api/stock", item="BAR-1", location="warehouse")).json()[0]
    assert stock["location_name"] == "Склад (БП Румянцево)" and stock["kind_label"] == "Шлагбаум"
    moves = (await lt.get("/api/stock/moves", item="BAR-1")).json()
    assert [m["reason_label"] for m in moves] == ["Перенос в офис", "Поступление"]

    # releasing the reservation frees the stock again
    res = (await lt.get("/api/stock/reservations", item="BAR-1")).json()[0]
    r = await lt.post(f"/api/stock/reservations/{res['id']}/release")
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert await lt.balance("BAR-1") == {"on_hand": 3, "reserved": 0, "available": 3}


async def test_twenty_concurrent_moves_of_the_last_unit_leave_no_negative_stock(lt: Any
                                                                                ) -> None:
    await lt.item("BOOM-1", kind="boom")
    await lt.receive("BOOM-1", 1)

    async def move(i: int) -> Any:
        if i % 2:
            return await lt.post("/api/stock/reservations", {"item": "BOOM-1", "quantity": 1})
        return await lt.post("/api/stock/moves", {"item": "BOOM-1", "quantity": 1,
                                                  "from_location": "warehouse",
                                                  "to_location": "office",
                                                  "reason": "to_office"})

    answers = await asyncio.gather(*(move(i) for i in range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 19, codes
    refused = [a.json() for a in answers if a.status_code == 409]
    assert all(p["item"] == "BOOM-1" and "BOOM-1" in p["detail"] for p in refused)
    assert await lt.scalar("SELECT min(on_hand - reserved) FROM stock_balance") >= 0
    assert await lt.scalar("SELECT sum(on_hand) FROM stock_balance WHERE item = 'BOOM-1'") == 1
    moved = await lt.scalar("SELECT count(*) FROM stock_move WHERE reason <> 'receipt'")
    reserved = await lt.scalar("SELECT count(*) FROM reservation")
    assert moved + reserved == 1


async def test_low_stock_is_flagged_once_and_cleared_by_a_receipt(lt: Any) -> None:
    await lt.item("CTRL-1", kind="controller", min_stock=3)
    await lt.receive("CTRL-1", 4)
    for _ in range(3):  # 4 → 3 (still at the minimum) → 2 (low) → 1 (still low: no repeat)
        r = await lt.post("/api/stock/reservations", {"item": "CTRL-1", "quantity": 1})
        assert r.status_code == 201
    (low,) = await lt.outbox("logistics.stock.low")
    assert low == {"item": "CTRL-1", "name": "Товар CTRL-1", "available": 2, "min_stock": 3}
    assert (await lt.get("/api/stock", item="CTRL-1")).json()[0]["low"] is True
    await lt.receive("CTRL-1", 5)
    (back,) = await lt.outbox("logistics.stock.replenished")
    assert back["available"] == 6 and len(await lt.outbox("logistics.stock.low")) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"item": "PART-1", "quantity": -1}, "quantity"),
    ({"item": "PART-1", "quantity": 0}, "quantity"),
    ({"item": "NOPE", "quantity": 1}, "item"),
    ({"item": "TERM-9", "serials": ["S-1"]}, "serials"),
    ({"item": "TERM-9", "quantity": 2}, "serials"),
    ({"item": "PART-1", "quantity": 1, "location": "moon"}, "location"),
    ({"item": "PART-1", "quantity": 1, "received_on": "1999-12-31"}, "received_on"),
])
async def test_bad_receipt_is_422_naming_the_field_and_writes_nothing(
        lt: Any, body: dict[str, Any], field: str) -> None:
    await lt.item("PART-1", kind="part")
    await lt.item("TERM-9", kind="terminal", tracking="serial")
    await lt.receive("TERM-9", serials=["S-1"])
    balances = "SELECT item, location, on_hand FROM stock_balance ORDER BY item"
    before = await lt.rows(balances)
    moves = await lt.scalar("SELECT count(*) FROM stock_move")
    r = await lt.post("/api/stock/receipts", body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await lt.rows(balances) == before
    assert await lt.scalar("SELECT count(*) FROM stock_move") == moves
    assert await lt.scalar("SELECT count(*) FROM audit_log WHERE action = 'stock.received'") == 1


async def test_only_the_desk_writes_and_a_manager_reads(lt: Any) -> None:
    r = await lt.post("/api/items", {"sku": "X-1", "name": "x", "kind": "part",
                                     "tracking": "count"}, headers=lt.auth("manager1", "manager"))
    assert r.status_code == 403
    r = await lt.client.get("/api/stock", headers=lt.auth("manager1", "manager"))
    assert r.status_code == 200


async def test_a_retried_receipt_with_the_same_idempotency_key_counts_once(lt: Any) -> None:
    await lt.item("PART-7", kind="part")
    headers = {**lt.auth(), "Idempotency-Key": "receipt-2026-12-01-7"}
    body = {"item": "PART-7", "quantity": 4}
    first = await lt.client.post("/api/stock/receipts", json=body, headers=headers)
    again = await lt.client.post("/api/stock/receipts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await lt.balance("PART-7") == {"on_hand": 4, "reserved": 0, "available": 4}
    other = await lt.client.post("/api/stock/receipts", json={**body, "quantity": 5},
                                 headers=headers)
    assert other.status_code == 409
    assert await lt.scalar("SELECT count(*) FROM stock_move") == 1
