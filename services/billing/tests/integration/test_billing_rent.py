"""Site rent: dated changes (also from field-ops events), the cashless registry, cash routes."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from clientops_shared.events import field_ops as fo

pytestmark = pytest.mark.integration

OWNER = {"owner_name": "ИП Петров Иван Сергеевич", "owner_inn": "772012345670",
         "owner_account": "40702810500000004444", "owner_bic": "044525225",
         "owner_bank": "ПАО СБЕРБАНК"}


async def _agreement(bt: Any, number: str, site: uuid.UUID, terminals: int, amount: str,
                     form: str, **extra: Any) -> dict[str, Any]:
    body = {"number": number, "owner_name": f"Владелец {number}", "owner_inn": "7707083893",
            "site_id": str(site), "site_name": f"Магазин {number}", "address": "Москва",
            "starts_on": "2026-12-01", "terminals": terminals, "amount_per_terminal": amount,
            "payment_form": form, **extra}
    r = await bt.client.post("/api/rent/agreements", json=body, headers=bt.auth())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_rent_registry_and_cash_routes_for_the_month(bt: Any) -> None:
    s1, s2, s3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a = await _agreement(bt, "А-1", s1, 2, "3000.00", "cashless", **OWNER)
    b = await _agreement(bt, "А-2", s2, 1, "5000.00", "cash")
    c = await _agreement(bt, "А-3", s3, 2, "2500.00", "cash")

    # a third terminal is installed at the first site on 16 January (field-ops event)
    await bt.deliver(fo.EquipmentInstalled(equipment_id=uuid.uuid4(), client_id=uuid.uuid4(),
                                           site_id=s1, installed_on=date(2027, 1, 16)),
                     producer="field_ops")
    r = await bt.client.get(f"/api/rent/agreements/{a['id']}", headers=bt.auth())
    assert [(t["effective_from"], t["terminals"], t["monthly_amount"])
            for t in r.json()["terms"]] == [("2026-12-01", 2, "6000.00"),
                                             ("2027-01-16", 3, "9000.00")]
    # cashless needs the owner's bank account
    r = await bt.client.post(f"/api/rent/agreements/{b['id']}/changes",
                             json={"effective_from": "2027-02-01", "payment_form": "cashless"},
                             headers=bt.auth())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "payment_form"

    r = await bt.client.get("/api/rent/registry", params={"period": "2027-01"},
                            headers=bt.auth())
    registry = r.json()
    # 15/31 × 6 000 = 2 903.23 and 16/31 × 9 000 = 4 645.16
    assert [(x["number"], x["amount"]) for x in registry["rows"]] == [("А-1", "7548.39")]
    assert (registry["state"], registry["total"]) == ("draft", "7548.39")
    assert registry["rows"][0]["owner_account"] == "40702810500000004444"
    r = await bt.client.get("/api/rent/registry", params={"period": "2027-01",
                                                          "format": "xlsx"}, headers=bt.auth())
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "А-1" and Decimal(str(rows[1][7])) == Decimal("7548.39")

    r = await bt.client.post("/api/rent/registry/2027-01/state", json={"state": "sent"},
                             headers=bt.auth())
    assert r.json()["state"] == "sent"
    # sent to accounting: later changes do not alter what was sent
    await bt.client.post(f"/api/rent/agreements/{a['id']}/changes",
                         json={"effective_from": "2027-01-01", "amount_per_terminal": "3500.00"},
                         headers=bt.auth())
    r = await bt.client.get("/api/rent/registry", params={"period": "2027-01"},
                            headers=bt.auth())
    assert r.json()["total"] == "7548.39"
    r = await bt.client.post("/api/rent/registry/2027-01/state",
                             json={"state": "reconciled", "note": "сверено с бухгалтерией"},
                             headers=bt.auth("acc1", "accountant"))
    assert r.json()["state"] == "reconciled"
    r = await bt.client.post("/api/rent/registry/2027-01/state", json={"state": "sent"},
                             headers=bt.auth())
    assert r.status_code == 409

    # the cash route: C then B, in the courier's order
    r = await bt.client.post("/api/rent/cash-routes", headers=bt.auth(), json={
        "name": "Юг", "courier": "Иванов", "stops": [c["id"], b["id"]]})
    assert r.status_code == 201, r.text
    route = r.json()["id"]
    r = await bt.client.post(f"/api/rent/cash-routes/{route}/months",
                             json={"period": "2027-01"}, headers=bt.auth())
    month = r.json()
    assert (month["state"], month["total"], month["open_items"]) == ("planned", "10000.00", 2)
    assert [i["number"] for i in month["items"]] == ["А-3", "А-2"]
    confirm = {"paid_on": "2027-01-10", "receipt_kind": "receipt", "receipt_no": "Р-1"}
    url = f"/api/rent/route-months/{month['id']}"
    r = await bt.client.post(f"{url}/items/{c['id']}/confirm", json=confirm, headers=bt.auth())
    assert r.status_code == 409 and r.json()["current_state"] == "planned"
    assert (await bt.client.post(f"{url}/cash-request", headers=bt.auth())).json()[
        "state"] == "requested"
    r = await bt.client.post(f"{url}/permission", json={"permission_no": "РО-17"},
                             headers=bt.auth())
    assert r.status_code == 403  # the head or accounting permits payment
    r = await bt.client.post(f"{url}/permission", json={"permission_no": "РО-17"},
                             headers=bt.auth("acc1", "accountant"))
    assert r.json()["state"] == "permitted"
    r = await bt.client.get("/api/rent/open-items", headers=bt.auth())
    assert [i["site_name"] for i in r.json()] == ["Магазин А-3", "Магазин А-2"]
    r = await bt.client.post(f"{url}/items/{c['id']}/confirm", json=confirm, headers=bt.auth())
    assert (r.json()["state"], r.json()["open_items"]) == ("permitted", 1)
    r = await bt.client.post(f"{url}/items/{c['id']}/confirm", json=confirm, headers=bt.auth())
    assert r.status_code == 409
    r = await bt.client.post(f"{url}/items/{b['id']}/confirm",
                             json={**confirm, "receipt_kind": "cash_order", "receipt_no": "ПКО-5"},
                             headers=bt.auth())
    assert (r.json()["state"], r.json()["open_items"]) == ("closed", 0)
    assert (await bt.client.get("/api/rent/open-items", headers=bt.auth())).json() == []
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key IN "
                           "('billing.rent.cash_requested', 'billing.rent.route_closed')") == 2

    # the terminal at B is removed on 10 February: 9/28 × 5 000 = 1 607.14
    await bt.deliver(fo.EquipmentRemoved(equipment_id=uuid.uuid4(), client_id=uuid.uuid4(),
                                         site_id=s2, installed_on=date(2027, 2, 10)),
                     producer="field_ops")
    r = await bt.client.post(f"/api/rent/cash-routes/{route}/months",
                             json={"period": "2027-02"}, headers=bt.auth())
    assert [(i["number"], i["amount"]) for i in r.json()["items"]] == [
        ("А-3", "5000.00"), ("А-2", "1607.14")]
    r = await bt.client.post(f"/api/rent/cash-routes/{route}/months",
                             json={"period": "2027-02"}, headers=bt.auth())
    assert r.status_code == 409


async def test_rent_input_is_checked(bt: Any) -> None:
    site = uuid.uuid4()
    base = {"number": "А-9", "owner_name": "ИП", "owner_inn": "772012345670",
            "site_id": str(site), "site_name": "Точка", "address": "Москва",
            "starts_on": "2026-12-01", "terminals": 1, "amount_per_terminal": "1000.00",
            "payment_form": "cash"}
    for bad, field in [({**base, "payment_form": "cashless"}, "owner_account"),
                       ({**base, "amount_per_terminal": "-1.00"}, "amount_per_terminal"),
                       ({**base, "ends_on": "2026-11-01"}, "ends_on"),
                       ({**base, "owner_inn": "123"}, "owner_inn")]:
        r = await bt.client.post("/api/rent/agreements", json=bad, headers=bt.auth())
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert await bt.scalar("SELECT count(*) FROM rent_agreement") == 0
    r = await bt.client.post("/api/rent/agreements", json=base, headers=bt.auth())
    assert r.status_code == 201
    r = await bt.client.post("/api/rent/agreements", json=base, headers=bt.auth())
    assert r.status_code == 409
    r = await bt.client.post("/api/rent/cash-routes", headers=bt.auth(), json={
        "name": "Север", "courier": "Петров", "stops": [str(uuid.uuid4())]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stops"
    r = await bt.client.post("/api/rent/agreements", json=base,
                             headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403


async def test_rent_lists_for_the_desk(bt: Any) -> None:
    """The desk's lists: agreements with the terms in force on a date, an agreement's dated
    changes, the registries handed over, the cash routes with their stops and months."""
    a = await _agreement(bt, "Л-1", uuid.uuid4(), 2, "3000.00", "cashless", **OWNER)
    b = await _agreement(bt, "Л-2", uuid.uuid4(), 1, "5000.00", "cash")
    c = await _agreement(bt, "Л-3", uuid.uuid4(), 1, "4000.00", "cash", starts_on="2027-03-01")
    d = await _agreement(bt, "Л-4", uuid.uuid4(), 4, "1000.00", "cash", ends_on="2026-12-31")
    r = await bt.client.post(f"/api/rent/agreements/{a['id']}/changes", headers=bt.auth(),
                             json={"effective_from": "2027-01-16", "terminals": 3,
                                   "note": "монтаж терминала"})
    assert r.status_code == 201, r.text
    r = await bt.client.post(f"/api/rent/agreements/{b['id']}/changes", headers=bt.auth(),
                             json={"effective_from": "2027-02-01",
                                   "amount_per_terminal": "6000.00"})
    assert r.status_code == 201, r.text

    async def listed(**params: Any) -> tuple[int, list[tuple[Any, ...]]]:
        r = await bt.client.get("/api/rent/agreements", params=params, headers=bt.auth())
        assert r.status_code == 200, r.text
        return int(r.headers["x-total-count"]), [
            (x["number"], x["terms_from"], x["terminals"], x["amount_per_terminal"],
             x["payment_form"], x["monthly_amount"], x["changes"], x["ended"])
            for x in r.json()]

    # by owner name ("Владелец …" before "ИП …"); Л-3 starts in March: its first terms
    assert await listed(on="2027-01-20") == (4, [
        ("Л-2", "2026-12-01", 1, "5000.00", "cash", "5000.00", 2, False),
        ("Л-3", "2027-03-01", 1, "4000.00", "cash", "4000.00", 1, False),
        ("Л-4", "2026-12-01", 4, "1000.00", "cash", "4000.00", 1, True),
        ("Л-1", "2027-01-16", 3, "3000.00", "cashless", "9000.00", 2, False)])
    total, rows = await listed(on="2027-01-10", payment_form="cashless")
    assert (total, rows) == (1, [("Л-1", "2026-12-01", 2, "3000.00", "cashless", "6000.00", 2,
                                  False)])
    total, rows = await listed(on="2027-02-01", payment_form="cash", limit=1, offset=1)
    assert total == 3 and rows == [("Л-3", "2027-03-01", 1, "4000.00", "cash", "4000.00", 1,
                                    False)]
    assert [x[0] for x in (await listed(owner_inn="772012345670"))[1]] == ["Л-1"]
    assert [x[0] for x in (await listed(q="л-4"))[1]] == ["Л-4"]
    assert [x[0] for x in (await listed(q="7720"))[1]] == ["Л-1"]  # an INN prefix

    r = await bt.client.get(f"/api/rent/agreements/{a['id']}/changes", headers=bt.auth())
    assert [(x["effective_from"], x["terminals"], x["monthly_amount"], x["payment_form"],
             x["note"], x["created_by"]) for x in r.json()] == [
        ("2026-12-01", 2, "6000.00", "cashless", "договор", "buh1"),
        ("2027-01-16", 3, "9000.00", "cashless", "монтаж терминала", "buh1")]
    r = await bt.client.get(f"/api/rent/agreements/{uuid.uuid4()}/changes", headers=bt.auth())
    assert r.status_code == 404

    # registries: only what was handed over is listed
    assert (await bt.client.get("/api/rent/registries", headers=bt.auth())).json() == []
    r = await bt.client.post("/api/rent/registry/2027-01/state", json={"state": "sent"},
                             headers=bt.auth())
    assert r.status_code == 200, r.text
    r = await bt.client.post("/api/rent/registry/2027-01/state",
                             json={"state": "disputed", "note": "не тот счёт"},
                             headers=bt.auth("acc1", "accountant"))
    assert r.status_code == 200, r.text
    (registry,) = (await bt.client.get("/api/rent/registries", headers=bt.auth())).json()
    # 15/31 × 6 000 + 16/31 × 9 000 = 2 903.23 + 4 645.16
    assert {k: registry[k] for k in ("period", "state", "total", "count", "note",
                                     "changed_by")} == {
        "period": "2027-01", "state": "disputed", "total": "7548.39", "count": 1,
        "note": "не тот счёт", "changed_by": "acc1"}

    # cash routes: stops in the courier's order, months newest first with their open items
    r = await bt.client.post("/api/rent/cash-routes", headers=bt.auth(), json={
        "name": "Север", "courier": "Сидоров", "stops": [c["id"], b["id"], d["id"]]})
    route = r.json()["id"]
    planned: dict[str, str] = {}
    for period in ("2027-01", "2027-02"):
        r = await bt.client.post(f"/api/rent/cash-routes/{route}/months",
                                 json={"period": period}, headers=bt.auth())
        assert r.status_code == 201, r.text
        planned[period] = r.json()["id"]
    (listed_route,) = (await bt.client.get("/api/rent/cash-routes", headers=bt.auth())).json()
    assert (listed_route["name"], listed_route["courier"]) == ("Север", "Сидоров")
    assert [(s["position"], s["number"], s["site_name"]) for s in listed_route["stops"]] == [
        (1, "Л-3", "Магазин Л-3"), (2, "Л-2", "Магазин Л-2"), (3, "Л-4", "Магазин Л-4")]
    # January: only Л-2 is due (Л-3 starts in March, Л-4 ended); February at the new amount
    assert [(m["period"], m["state"], m["total"], m["open_items"])
            for m in listed_route["months"]] == [("2027-02", "planned", "6000.00", 1),
                                                 ("2027-01", "planned", "5000.00", 1)]
    r = await bt.client.post(f"/api/rent/route-months/{planned['2027-02']}/cash-request",
                             headers=bt.auth())
    assert r.status_code == 200
    r = await bt.client.get(f"/api/rent/cash-routes/{route}", headers=bt.auth())
    assert [(m["period"], m["state"]) for m in r.json()["months"]] == [
        ("2027-02", "requested"), ("2027-01", "planned")]
    r = await bt.client.get(f"/api/rent/cash-routes/{uuid.uuid4()}", headers=bt.auth())
    assert r.status_code == 404
    for path in ("/api/rent/agreements", "/api/rent/registries", "/api/rent/cash-routes"):
        r = await bt.client.get(path, headers=bt.auth("manager1", "manager"))
        assert r.status_code == 403, path
