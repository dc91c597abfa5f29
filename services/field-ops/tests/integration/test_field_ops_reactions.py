"""Reactions through the broker: a signed contract → a draft install waiting for goods; a
delivered shipment → schedulable; a successor contract → nothing new; a termination → pending
installs cancelled and a removal for what stands; a completed removal → equipment off the site.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from clientops_shared.events import contracts as c
from clientops_shared.events import logistics as lg
from clientops_shared.jobs import MOSCOW

pytestmark = pytest.mark.integration


async def _install_of(field, contract_id: uuid.UUID) -> dict:
    await field.wait_sql("SELECT count(*) FROM work_order WHERE contract_id = :c",
                         c=contract_id)
    listed = (await field.get("/api/work-orders", params={"kind": "install", "limit": 500})
              ).json()
    [order] = [o for o in listed if o["contract_id"] == str(contract_id)]
    return dict(order)


async def test_signed_delivered_installed_terminated(field) -> None:
    site = await field.site(contract=False)
    client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
    contract_id = uuid.uuid4()
    signed = field.signed(client_id, site["name"], contract_id, kind="subscription",
                          site_id=site_id)
    await field.publish(signed)
    await field.publish(signed)  # a redelivery or a replay: still one order
    order = await _install_of(field, contract_id)
    assert order["status"] == "draft" and order["awaiting_goods"] is True
    assert order["origin"] == "contract"
    assert await field.scalar("SELECT count(*) FROM work_order WHERE contract_id = :c",
                              c=contract_id) == 1
    await field.technician("tech1")
    await field.post(f"/api/work-orders/{order['id']}/approve", as_=field.head, expect=200)
    r = await field.post(f"/api/work-orders/{order['id']}/schedule", field.schedule_body())
    assert r.status_code == 409 and r.json()["awaiting_goods"] is True

    await field.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=client_id,
                                             site_id=site_id, delivered_on="2026-11-27"))
    await field.wait_sql("SELECT count(*) FROM work_order WHERE id = :i AND NOT awaiting_goods",
                         i=uuid.UUID(order["id"]))
    await field.post(f"/api/work-orders/{order['id']}/schedule", field.schedule_body(),
                     expect=200)
    field.now = datetime(2026, 11, 30, 15, 0, tzinfo=MOSCOW)
    await field.post(f"/api/work-orders/{order['id']}/report",
                     {"outcome": "done", "equipment": [
                         {"type": "barrier", "serial": f"B-{contract_id.hex[:8]}"},
                         {"type": "controller", "serial": f"C-{contract_id.hex[:8]}"}]},
                     expect=200)
    installed = await field.events("field_ops.equipment.installed",
                                   contract_id=str(contract_id))
    assert len(installed) == 2

    # a successor (the paid contract after a pilot, a replacement) installs nothing new
    successor = uuid.uuid4()
    await field.publish(field.signed(client_id, site["name"], successor, site_id=site_id,
                                     replaces_id=contract_id))
    await field.wait_sql("SELECT count(*) FROM contract_terms WHERE contract_id = :c",
                         c=successor)
    assert await field.scalar("SELECT count(*) FROM work_order WHERE contract_id = :c",
                              c=successor) == 0

    # terminated: a removal for what stands at the site, created once
    terminated = c.ContractTerminated(contract_id=contract_id, number=signed.number,
                                      client_id=client_id, effective_on="2026-12-31")
    await field.publish(terminated)
    await field.publish(terminated)
    await field.wait_sql("SELECT count(*) FROM work_order WHERE contract_id = :c AND "
                         "kind = 'remove'", c=contract_id)
    removals = await field.rows("SELECT id, status FROM work_order WHERE contract_id = :c AND "
                                "kind = 'remove'", c=contract_id)
    assert len(removals) == 1 and removals[0]["status"] == "draft"
    removal = str(removals[0]["id"])
    await field.post(f"/api/work-orders/{removal}/approve", as_=field.head, expect=200)
    await field.post(f"/api/work-orders/{removal}/schedule", field.schedule_body("2027-01-11"),
                     expect=200)
    field.now = datetime(2027, 1, 11, 15, 0, tzinfo=MOSCOW)
    await field.post(f"/api/work-orders/{removal}/report", {"outcome": "done"}, expect=200)
    removed = await field.events("field_ops.equipment.removed", site_id=site["site_id"])
    assert {e["payload"]["installed_on"] for e in removed} == {"2027-01-11"}
    assert len(removed) == 2
    register = (await field.get("/api/equipment", params={"site_id": site["site_id"]})).json()
    assert {e["removed_on"] for e in register} == {"2027-01-11"}


async def test_termination_before_install_cancels_the_pending_install(field) -> None:
    site = await field.site(contract=False)
    client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
    contract_id = uuid.uuid4()
    signed = field.signed(client_id, site["name"], contract_id, kind="rent", site_id=site_id)
    await field.publish(signed)
    order = await _install_of(field, contract_id)
    await field.publish(c.ContractTerminated(contract_id=contract_id, number=signed.number,
                                             client_id=client_id, effective_on="2026-12-31"))
    await field.wait_sql("SELECT count(*) FROM work_order WHERE id = :i AND status = "
                         "'cancelled'", i=uuid.UUID(order["id"]))
    assert await field.events("field_ops.work_order.cancelled", work_order_id=order["id"])
    assert await field.scalar("SELECT count(*) FROM work_order WHERE contract_id = :c AND "
                              "kind = 'remove'", c=contract_id) == 0


async def test_completed_install_starts_billing_through_the_broker(field) -> None:
    """field-ops' outbox → RabbitMQ → billing: a contract billed from installation starts on
    the day the technician reports the install done."""
    from clientops_shared.testing import eventually_async, running_app

    async with running_app(field.servers, "billing", jobs_enabled=False) as (_, billing):
        site = await field.site(contract=False)
        client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
        contract_id = uuid.uuid4()
        signed = field.signed(client_id, site["name"], contract_id, kind="subscription",
                              site_id=site_id).model_copy(update={"bill_from_install": True})
        await field.publish(signed)
        bookkeeper = field.auth("billing1", "billing")

        async def subscription() -> dict | None:
            r = await billing.get("/api/subscriptions", params={"contract_id": str(contract_id)},
                                  headers=bookkeeper)
            return r.json()[0] if r.status_code == 200 and r.json() else None

        before = await eventually_async(subscription, timeout=30)
        assert before["service_start"] is None
        order = await _install_of(field, contract_id)
        await field.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=client_id,
                                                 site_id=site_id, delivered_on="2026-11-27"))
        await field.wait_sql("SELECT count(*) FROM work_order WHERE id = :i AND "
                             "NOT awaiting_goods", i=uuid.UUID(order["id"]))
        await field.technician("tech1")
        await field.post(f"/api/work-orders/{order['id']}/approve", as_=field.head, expect=200)
        await field.post(f"/api/work-orders/{order['id']}/schedule",
                         field.schedule_body("2026-12-03"), expect=200)
        field.now = datetime(2026, 12, 3, 14, 0, tzinfo=MOSCOW)
        await field.post(f"/api/work-orders/{order['id']}/report", {
            "outcome": "done", "equipment": [{"type": "terminal",
                                              "serial": f"T-{contract_id.hex[:10]}"}]},
            as_=field.auth("tech1", "technician"), expect=200)

        async def started() -> dict | None:
            sub = await subscription()
            return sub if sub and sub["service_start"] == "2026-12-03" else None

        after = await eventually_async(started, timeout=30)
        assert after["status"] == "active"


async def test_a_delivery_made_for_one_order_frees_only_that_order(field) -> None:
    site = await field.site(contract=False)
    client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
    first, second = uuid.uuid4(), uuid.uuid4()
    await field.publish(field.signed(client_id, site["name"], first, site_id=site_id))
    await field.publish(field.signed(client_id, site["name"], second, kind="rent",
                                     site_id=site_id))
    one, two = await _install_of(field, first), await _install_of(field, second)
    await field.publish(lg.ShipmentDelivered(shipment_id=uuid.uuid4(), client_id=client_id,
                                             site_id=site_id, delivered_on="2026-11-27"),
                        work_order_id=two["id"])
    await field.wait_sql("SELECT count(*) FROM work_order WHERE id = :i AND NOT awaiting_goods",
                         i=uuid.UUID(two["id"]))
    assert await field.scalar("SELECT awaiting_goods FROM work_order WHERE id = :i",
                              i=uuid.UUID(one["id"])) is True
