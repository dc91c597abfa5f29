"""The expiring report and the daily job: 60/30/7-day notices exactly once, renewals, expiry."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest

from contracts.entrypoints.jobs import daily_periodic
from contracts.service_layer.daily import run_day

pytestmark = pytest.mark.integration

D1 = date(2027, 1, 1)


def day(n: int) -> str:
    return (D1 + timedelta(days=n)).isoformat()


async def test_expiring_notices_exactly_once_per_threshold_over_three_days_with_a_missed_day(
        desk: Any, db: Any, probe: Any) -> None:
    contracts: dict[str, dict[str, Any]] = {}
    for name, ends, auto in (("A", day(61), False), ("B", day(31), True),
                             ("C", day(8), False), ("E", day(1), True), ("F", day(1), False)):
        _, contracts[name] = await desk.signed_contract(
            starts_on="2026-12-01", ends_on=ends, auto_renew=auto, signed_on="2026-12-01")
    ids = {c["id"]: name for name, c in contracts.items()}

    first = await desk.run_day(day(0))          # 1 January
    assert first["ran"] is True
    # 2 January: the job was down
    third = await desk.run_day(day(2))          # 3 January catches up
    assert third["ran"] is True
    assert (await desk.run_day(day(2)))["ran"] is False      # a rerun of the day: a no-op
    assert (await desk.run_day(day(0)))["ran"] is False
    # even a second run of the day's work that bypasses the job key sends nothing twice
    runtime = desk.app.state.runtime
    async with runtime.uow() as uow:
        forced = await run_day(uow, D1 + timedelta(days=2), (60, 30, 7))
    assert forced["expiring"] == 0 and forced["renewed"] == 0 and forced["expired"] == 0

    expected = {("A", 60), ("B", 60), ("B", 30), ("C", 60), ("C", 30), ("C", 7),
                ("E", 60), ("E", 30), ("E", 7), ("F", 60), ("F", 30), ("F", 7)}
    notices = [(ids[b["payload"]["contract_id"]], b["payload"]["threshold_days"])
               for b in await db.events("contracts.contract.expiring")
               if b["payload"]["contract_id"] in ids]
    assert Counter(notices) == Counter(expected)
    # on which day each was noticed: the 30 of B and the 7 of C on the 3rd, not lost on the 2nd
    noticed = {(ids[b["payload"]["contract_id"]], b["payload"]["threshold_days"]):
               (b["payload"]["on"], b["payload"]["days_left"])
               for b in await db.events("contracts.contract.expiring")}
    assert noticed[("A", 60)] == (day(2), 59)
    assert noticed[("B", 60)] == (day(0), 31) and noticed[("B", 30)] == (day(2), 29)
    assert noticed[("C", 7)] == (day(2), 6)

    # each reached RabbitMQ once, with the documented payload
    await probe.wait_for(len(expected), type="contracts.contract.expiring")
    await asyncio.sleep(1.0)  # give a duplicate every chance to arrive
    await probe.drain()
    mine = [b for b in probe.seen if b["type"] == "contracts.contract.expiring"
            and b["payload"]["contract_id"] in ids]
    assert Counter((ids[b["payload"]["contract_id"]], b["payload"]["threshold_days"])
                   for b in mine) == Counter(expected)
    b30 = next(b for b in mine if (ids[b["payload"]["contract_id"]],
                                   b["payload"]["threshold_days"]) == ("B", 30))
    assert b30["payload"] == {**b30["payload"], "contract_id": contracts["B"]["id"],
                              "number": contracts["B"]["number"], "ends_on": day(31),
                              "auto_renew": True, "manager": "manager1"}
    assert b30["version"] == 1 and b30["producer"] == "contracts"

    # E renewed on its end date (caught up on the 3rd): a new term, once; F expired
    renewed = await db.events("contracts.contract.renewed", contract_id=contracts["E"]["id"])
    assert [(r["payload"]["starts_on"], r["payload"]["ends_on"]) for r in renewed] == [
        ("2027-01-03", "2028-01-02")]
    state_e = await desk.contract_state(contracts["E"]["id"])
    assert (state_e["status"], state_e["ends_on"]) == ("active", "2028-01-02")
    assert (await desk.contract_state(contracts["F"]["id"]))["status"] == "expired"
    assert len(await db.events("contracts.contract.expired",
                               contract_id=contracts["F"]["id"])) == 1
    # the renewed term gets its own notices when its time comes
    await desk.run_day("2027-11-05")
    renewed_notices = [b["payload"]["threshold_days"]
                       for b in await db.events("contracts.contract.expiring",
                                                contract_id=contracts["E"]["id"])
                       if b["payload"]["ends_on"] == "2028-01-02"]
    assert renewed_notices == [60]


async def test_replaced_or_terminating_contracts_get_no_notices(desk: Any, db: Any) -> None:
    _, terminating = await desk.signed_contract(ends_on=day(20))
    desk.today = date(2026, 12, 15)
    await desk.post(f"/api/contracts/{terminating['id']}/terminate",
                    {"effective_on": day(10)}, expect=201)
    _, replaced = await desk.signed_contract(ends_on=day(20))
    r = await desk.post(f"/api/contracts/{replaced['id']}/resign",
                        {"starts_on": day(21)}, expect=201)
    await desk.sign(r.json()["id"], "2026-12-15")
    await desk.run_day(day(0))
    for contract in (terminating, replaced):
        assert await db.events("contracts.contract.expiring",
                               contract_id=contract["id"]) == []
    listed = await desk.get("/api/contracts/expiring", as_=desk.head,
                            params={"within_days": 60, "on": day(0)})
    assert {terminating["id"], replaced["id"]}.isdisjoint({x["id"] for x in listed.json()})


async def test_periodic_tick_runs_the_day_its_clock_names_once(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract(ends_on="2027-02-10")
    job = daily_periodic(desk.app.state.runtime, lambda: date(2027, 1, 5))
    await job.run()
    await job.run()
    rows = await db.rows("SELECT key, finished_at, result FROM job_run WHERE job = "
                         "'contracts-daily'")
    assert [(r["key"], r["finished_at"] is not None) for r in rows] == [("2027-01-05", True)]
    notices = await db.events("contracts.contract.expiring", contract_id=contract["id"])
    assert [n["payload"]["threshold_days"] for n in notices] == [60]


async def test_expiring_report_json_and_xlsx(desk: Any) -> None:
    client, soon = await desk.signed_contract(ends_on="2027-01-20", auto_renew=True)
    await desk.post(f"/api/clients/{client['id']}/interactions",
                    {"channel": "call", "on": "2026-12-28",
                     "summary": "Напомнил о пролонгации"}, expect=201)
    _, later = await desk.signed_contract(ends_on="2027-03-15")
    _, others = await desk.signed_contract("manager2", ends_on="2027-01-25")
    desk.today = date(2027, 1, 1)

    r = await desk.get("/api/contracts/expiring", params={"within_days": 30})
    rows = r.json()
    assert [x["id"] for x in rows] == [soon["id"]]  # manager1 sees only their own
    row = rows[0]
    assert row == {**row, "number": soon["number"], "client_name": client["name"],
                   "manager": "manager1", "ends_on": "2027-01-20", "days_left": 19,
                   "auto_renew": True, "action": "auto_renew", "last_contact_on": "2026-12-28",
                   "monthly_fee": "12500.00", "status": "active", "kind": "subscription"}

    r = await desk.get("/api/contracts/expiring", as_=desk.head, params={"within_days": 90})
    ids = [x["id"] for x in r.json()]
    assert ids == [soon["id"], others["id"], later["id"]]
    assert next(x for x in r.json() if x["id"] == later["id"])["action"] == "re_sign"

    r = await desk.get("/api/contracts/expiring", as_=desk.head,
                       params={"within_days": 90, "format": "xlsx"})
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "90" in values[0][0] and "01.01.2027" in values[0][0]
    assert values[1][:3] == ["Договор", "Клиент", "Менеджер"]
    assert [v[0] for v in values[2:]] == [soon["number"], others["number"], later["number"]]
    first = dict(zip(values[1], values[2], strict=True))
    assert first["Клиент"] == client["name"] and first["Осталось дней"] == 19
    assert first["Автопролонгация"] == "да" and first["Действие"] == "продлится автоматически"
    assert float(first["АП, руб."]) == 12500.0
    assert first["Последний контакт"].date() == date(2026, 12, 28)

    r = await desk.get("/api/contracts/expiring", params={"within_days": -1}, expect=422)
    assert r.json()["errors"][0]["field"] == "within_days"
