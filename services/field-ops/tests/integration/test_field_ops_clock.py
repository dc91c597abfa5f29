"""The clock: an emergency visit's SLA breaches once at the business-day boundary (across a
weekend and Russian holidays); a downtime open over 24 h escalates once, a resolved one never."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from clientops_shared.jobs import MOSCOW

pytestmark = pytest.mark.integration


async def test_sla_breach_fires_once_at_the_boundary_across_new_year_holidays(field) -> None:
    site = await field.site(sla_days=1)
    # Wed 30.12.2026: 31.12 and 1–8.01 are days off, 9–10.01 a weekend → due Mon 11.01.2027
    field.now = datetime(2026, 12, 30, 10, 0, tzinfo=MOSCOW)
    order = await field.order(site, "emergency", description="Шлагбаум не открывается")
    assert order["due_by"] == "2027-01-11"
    running = (await field.get("/api/work-orders", params={
        "sla": "running", "client_id": site["client_id"]})).json()
    assert [o["id"] for o in running] == [order["id"]]
    assert order["due_at"] == "2027-01-12T00:00:00+03:00"
    assert (await field.clock(datetime(2027, 1, 11, 23, 59, tzinfo=MOSCOW))
            )["result"]["sla_breached"] == 0
    assert not await field.events("field_ops.visit.sla_breached", work_order_id=order["id"])
    await field.clock(datetime(2027, 1, 12, 0, 0, tzinfo=MOSCOW))
    await field.clock(datetime(2027, 1, 12, 0, 1, tzinfo=MOSCOW))
    await field.clock(datetime(2027, 1, 13, 9, 0, tzinfo=MOSCOW))
    [breach] = await field.events("field_ops.visit.sla_breached", work_order_id=order["id"])
    assert breach["payload"]["due_by"] == "2027-01-11"
    breached = (await field.get("/api/work-orders", params={
        "sla": "breached", "client_id": site["client_id"]})).json()
    assert [o["id"] for o in breached] == [order["id"]] and breached[0]["sla_breached_at"]
    assert (await field.get("/api/work-orders", params={
        "sla": "running", "client_id": site["client_id"]})).json() == []
    row = next(r for r in (await field.get("/api/sla/compliance",
                                           params={"month": "2027-01"})).json()
               if r["client_id"] == site["client_id"])
    assert (row["total"], row["on_time"], row["breached"]) == (1, 0, 1)


async def test_sla_two_days_across_a_weekend_and_national_unity_day(field) -> None:
    site = await field.site(sla_days=2)
    # Tue 03.11.2026; Wed 04.11 is a holiday → Thu 05, Fri 06 → passes Sat 07.11 00:00
    field.now = datetime(2026, 11, 3, 17, 0, tzinfo=MOSCOW)
    late = await field.order(site, "emergency")
    on_time = await field.order(site, "emergency")
    assert late["due_by"] == on_time["due_by"] == "2026-11-06"
    await field.technician("tech1")
    for o in (late, on_time):
        await field.post(f"/api/work-orders/{o['id']}/approve", as_=field.head, expect=200)
        await field.post(f"/api/work-orders/{o['id']}/schedule",
                         field.schedule_body("2026-11-06"), expect=200)
    field.now = datetime(2026, 11, 6, 16, 0, tzinfo=MOSCOW)
    await field.post(f"/api/work-orders/{on_time['id']}/report", {"outcome": "done"},
                     expect=200)
    await field.clock(datetime(2026, 11, 6, 23, 59, tzinfo=MOSCOW))
    assert not await field.events("field_ops.visit.sla_breached", work_order_id=late["id"])
    await field.clock(datetime(2026, 11, 7, 0, 0, tzinfo=MOSCOW))
    await field.clock(datetime(2026, 11, 9, 9, 0, tzinfo=MOSCOW))
    assert len(await field.events("field_ops.visit.sla_breached", work_order_id=late["id"])) == 1
    assert not await field.events("field_ops.visit.sla_breached", work_order_id=on_time["id"])
    row = next(r for r in (await field.get("/api/sla/compliance",
                                           params={"month": "2026-11"})).json()
               if r["client_id"] == site["client_id"])
    assert (row["total"], row["on_time"], row["breached"], row["compliance_percent"]) == (
        2, 1, 1, 50.0)


async def test_downtime_over_24h_escalates_once_and_a_resolved_one_never(field) -> None:
    site = await field.site()
    start = datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW)
    field.now = start + timedelta(minutes=30)
    long = (await field.post("/api/downtime", {"site_id": site["site_id"],
                                               "started_at": start.isoformat(),
                                               "source": "monitoring"}, expect=201)).json()
    short = (await field.post("/api/downtime", {"site_id": site["site_id"],
                                                "started_at": start.isoformat(),
                                                "source": "client"}, expect=201)).json()
    assert long["state"] == "open" and long["state_label"] == "Открыт"
    assert await field.events("field_ops.downtime.started", incident_id=long["id"])
    await field.post(f"/api/downtime/{long['id']}/cause", {"cause": "Нет связи"}, expect=200)
    field.now = start + timedelta(hours=20)
    r = await field.post(f"/api/downtime/{short['id']}/resolve",
                         {"cause": "Перезагрузили терминал"}, expect=200)
    assert r.json()["state"] == "resolved"
    assert await field.events("field_ops.downtime.resolved", incident_id=short["id"])
    await field.post(f"/api/downtime/{short['id']}/resolve", {}, expect=409)

    await field.clock(start + timedelta(hours=23, minutes=59))
    assert not await field.events("field_ops.downtime.escalated", incident_id=long["id"])
    await field.clock(start + timedelta(hours=24))
    await field.clock(start + timedelta(hours=30))
    assert len(await field.events("field_ops.downtime.escalated", incident_id=long["id"])) == 1
    assert not await field.events("field_ops.downtime.escalated", incident_id=short["id"])

    # 004 §7.4: a repair started from the incident
    field.now = start + timedelta(hours=30)
    r = await field.post(f"/api/downtime/{long['id']}/work-order",
                         {"kind": "repair", "description": "Заменить модем"}, expect=201)
    order = (await field.get(f"/api/work-orders/{r.json()['id']}")).json()
    assert order["incident_id"] == long["id"] and order["status"] == "draft"
    assert order["origin"] == "downtime"
    listed = (await field.get("/api/downtime", params={"site_id": site["site_id"],
                                                       "state": ["cause_found"]})).json()
    assert [i["id"] for i in listed] == [long["id"]] and listed[0]["escalated_at"]
    escalated = (await field.get("/api/downtime", params={"site_id": site["site_id"],
                                                          "escalated": True})).json()
    assert [i["id"] for i in escalated] == [long["id"]]


def _sla_timer_late() -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("clientops_sla_timer_late_seconds",
                                      {"service": "field_ops"})
    assert value is not None, "the gauge is exported"
    return value


async def test_a_clock_that_has_not_fired_shows_as_a_late_sla_timer_until_it_does(field) -> None:
    """The SlaTimerLate alert's gauge: an emergency deadline passed and no breach marked
    (the clock did not run) reads as seconds late; once the clock fires, 0."""
    (job,) = [j for j in field.app.state.runtime.periodic if j.name == "business-metrics"]
    site = await field.site(sla_days=1)
    field.now = datetime(2026, 11, 3, 17, 0, tzinfo=MOSCOW)  # due by 05.11: long past
    order = await field.order(site, "emergency")
    await job.run()
    due_at = datetime.fromisoformat(order["due_at"])
    assert _sla_timer_late() >= (datetime.now(MOSCOW) - due_at).total_seconds() - 60
    await field.clock(datetime.now(MOSCOW))  # the timer fires: every passed deadline marked
    await job.run()
    assert _sla_timer_late() == 0
    text = (await field.http.get("/metrics")).text
    assert 'clientops_sla_timer_late_seconds{service="field_ops"} 0.0' in text
