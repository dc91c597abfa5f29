"""Maintenance plans (000 §11) generate orders ahead of time, once per visit; missing parts
become a purchase request for logistics; contractors (000 §18) take orders at their price."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from clientops_shared.jobs import MOSCOW

pytestmark = pytest.mark.integration


async def test_plan_from_a_signed_contract_generates_orders_ahead_once(field) -> None:
    site = await field.site(contract=False)
    client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
    contract_id = uuid.uuid4()
    signed = field.signed(client_id, site["name"], contract_id, kind="maintenance",
                          site_id=site_id).model_copy(update={
                              "scheduled_visits": 2, "visit_period": "quarter",
                              "starts_on": "2028-02-01"})
    await field.publish(signed)
    await field.publish(signed)
    await field.wait_sql("SELECT count(*) FROM maintenance_plan WHERE contract_id = :c",
                         c=contract_id)
    [plan] = (await field.get("/api/maintenance-plans",
                              params={"contract_id": str(contract_id)})).json()
    assert (plan["visits"], plan["period"], plan["period_label"]) == (2, "quarter", "квартал")

    async def plan_orders() -> list[dict]:
        return await field.rows("SELECT description, origin, status FROM work_order WHERE "
                                "contract_id = :c AND kind = 'maintenance' ORDER BY created_at",
                                c=contract_id)

    field.now = datetime(2028, 1, 10, 9, 0, tzinfo=MOSCOW)
    await field.clock(field.now)        # 14 days ahead: nothing due before 24.01
    assert await plan_orders() == []
    field.now = datetime(2028, 1, 19, 9, 0, tzinfo=MOSCOW)
    await field.clock(field.now)        # 01.02.2028 is within 14 days
    await field.clock(datetime(2028, 1, 19, 9, 5, tzinfo=MOSCOW))
    field.now = datetime(2028, 1, 20, 9, 0, tzinfo=MOSCOW)
    await field.clock(field.now)
    orders = await plan_orders()
    assert [o["description"] for o in orders] == [
        "Плановое обслуживание 01.02.2028: визит 1 из 2 за квартал"]
    assert orders[0]["origin"] == "plan" and orders[0]["status"] == "draft"
    field.now = datetime(2028, 3, 5, 9, 0, tzinfo=MOSCOW)  # the second visit: 16.03.2028
    await field.clock(field.now)
    assert len(await plan_orders()) == 2

    # a termination ends the plan: no visits after it
    from clientops_shared.events import contracts as c

    await field.publish(c.ContractTerminated(contract_id=contract_id, number=signed.number,
                                             client_id=client_id, effective_on="2028-04-30"))
    await field.wait_sql("SELECT count(*) FROM maintenance_plan WHERE contract_id = :c AND "
                         "ends_on = '2028-04-30'", c=contract_id)
    field.now = datetime(2028, 5, 25, 9, 0, tzinfo=MOSCOW)
    await field.clock(field.now)
    assert len(await plan_orders()) == 2


async def test_plan_by_hand_and_bad_input(field) -> None:
    site = await field.site()
    body = {"contract_id": site["contract_id"], "visits": 1, "period": "month",
            "starts_on": "2027-02-01", "works": "Чистка, смазка, проверка приводов"}
    r = await field.post("/api/maintenance-plans", {**body, "visits": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visits"
    r = await field.post("/api/maintenance-plans", {**body, "contract_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contract_id"
    plan = (await field.post("/api/maintenance-plans", body, expect=201)).json()
    assert plan["site_id"] == site["site_id"]
    await field.post("/api/maintenance-plans", body, expect=409)


async def test_parts_request_reaches_the_outbox_for_logistics(field) -> None:
    site = await field.site()
    await field.technician("tech1")
    order = await field.scheduled(site, "maintenance")
    r = await field.post(f"/api/work-orders/{order['id']}/parts",
                         {"lines": [{"item": "Привод шлагбаума", "quantity": 1}],
                          "needed_by": "2026-12-10"}, as_=field.auth("tech1", "technician"),
                         expect=201)
    [event] = await field.events("field_ops.parts.requested", request_id=r.json()["id"])
    assert event["payload"]["lines"] == [{"item": "Привод шлагбаума", "quantity": 1}]
    assert event["payload"]["site_id"] == site["site_id"]
    r = await field.post(f"/api/work-orders/{order['id']}/parts", {"lines": []})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines"
    # the act lists the works done
    field.now = datetime(2026, 11, 30, 17, 0, tzinfo=MOSCOW)
    await field.post(f"/api/work-orders/{order['id']}/report", {
        "outcome": "done", "works": ["Смазка приводов", "Замена фотоэлемента"]}, expect=200)
    detail = (await field.get(f"/api/work-orders/{order['id']}")).json()
    assert detail["reports"][0]["works"] == ["Смазка приводов", "Замена фотоэлемента"]


async def test_an_order_goes_to_a_contractor_at_the_price_of_the_day(field) -> None:
    site = await field.site()
    await field.technician("tech1")
    contractor = (await field.post("/api/contractors", {
        "name": "ООО «Малярка»", "inn": "7707083893", "phone": "+74950001122"},
        expect=201)).json()
    cid = contractor["id"]
    order = await field.approved(site, "repaint")
    sched = {**field.schedule_body("2026-12-02"), "technician": None, "contractor_id": cid}
    r = await field.post(f"/api/work-orders/{order['id']}/schedule", sched)
    assert r.status_code == 422 and "договор" in r.json()["errors"][0]["message"]
    await field.http.put(f"/api/contractors/{cid}", headers=field.dispatcher, json={
        "name": "ООО «Малярка»", "inn": "7707083893", "contract_number": "П-12/2026",
        "contract_signed_on": "2026-11-01"})
    r = await field.post(f"/api/work-orders/{order['id']}/schedule", sched)
    assert r.status_code == 422 and "цены" in r.json()["errors"][0]["message"]
    await field.post(f"/api/contractors/{cid}/prices", {
        "service": "repaint", "price": "5000.00", "effective_from": "2026-11-01"}, expect=201)
    await field.post(f"/api/contractors/{cid}/prices", {
        "service": "repaint", "price": "5500.00", "effective_from": "2026-12-01",
        "note": "подорожала краска"}, expect=201)
    r = await field.post(f"/api/contractors/{cid}/prices", {
        "service": "repaint", "price": 5500.5, "effective_from": "2026-12-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "price"
    both = {**field.schedule_body("2026-12-02"), "contractor_id": cid}
    r = await field.post(f"/api/work-orders/{order['id']}/schedule", both)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "technician"
    await field.post(f"/api/work-orders/{order['id']}/schedule", sched, expect=200)
    detail = (await field.get(f"/api/work-orders/{order['id']}")).json()
    assert detail["contractor_name"] == "ООО «Малярка»" and detail["agreed_price"] == "5500.00"
    [event] = await field.events("field_ops.work_order.scheduled", work_order_id=order["id"])
    assert event["payload"]["contractor_name"] == "ООО «Малярка»"
    field.now = datetime(2026, 12, 2, 17, 0, tzinfo=MOSCOW)
    await field.post(f"/api/work-orders/{order['id']}/report", {"outcome": "done"}, expect=200)
    listed = (await field.get("/api/contractors")).json()
    prices = next(c for c in listed if c["id"] == cid)["prices"]
    assert [(p["price"], p["effective_from"]) for p in prices] == [
        ("5000.00", "2026-11-01"), ("5500.00", "2026-12-01")]
