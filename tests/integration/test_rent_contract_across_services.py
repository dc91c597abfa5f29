"""Issue 13 §1 through HTTP and the broker: a signed rent contract (we are Арендатор) opens the
site owner's rent agreement in billing — never a subscription, an invoice or a reminder."""

from __future__ import annotations

from datetime import date

import pytest

from clientops_shared.testing import Servers, eventually_async, running_app

pytestmark = pytest.mark.integration

BANK = {"bank_name": "АО «ТБанк»", "bik": "044525974", "account": "40702810600000004567",
        "corr_account": "30101810145250000974"}


async def test_signed_rent_contract_is_paid_to_the_site_owner_never_invoiced(
        servers: Servers) -> None:
    manager = servers.auth("manager1", "manager")
    desk = servers.auth("buh1", "billing")
    async with (running_app(servers, "contracts") as (_, contracts),
                running_app(servers, "billing") as (app, billing),
                running_app(servers, "notifications") as (_, notifications)):
        r = await contracts.post("/api/clients", headers=manager, json={
            "name": "ИП Сидоров Пётр Ильич", "inn": "500100732259", "email": "s@example.ru",
            "manager": "manager1", "bank": BANK})
        assert r.status_code == 201, r.text
        client_id = r.json()["id"]
        r = await contracts.post(f"/api/clients/{client_id}/sites", headers=manager, json={
            "name": "Магазин «У дома»", "address": "Москва, ул. Садовая, 3"})
        site_id = r.json()["id"]
        r = await contracts.post("/api/contracts", headers=manager, json={
            "client_id": client_id, "kind": "rent", "starts_on": "2026-12-01",
            "monthly_fee": "4000.00", "auto_renew": True, "standard": True,
            "site_id": site_id, "payment_form": "cashless"})
        assert r.status_code == 201, r.text
        contract = r.json()
        r = await contracts.post(f"/api/contracts/{contract['id']}/sign", headers=manager,
                                 json={"signed_on": "2026-11-27"})
        assert r.status_code == 200, r.text

        async def registry() -> list[dict[str, object]]:
            r = await billing.get("/api/rent/registry", params={"period": "2026-12"},
                                  headers=desk)
            return list(r.json()["rows"])
        await eventually_async(registry)
        (row,) = await registry()
        assert (row["number"], row["owner_name"], row["owner_inn"], row["amount"],
                row["owner_account"]) == (contract["number"], "ИП Сидоров Пётр Ильич",
                                          "500100732259", "4000.00", BANK["account"])
        r = await billing.get("/api/rent/agreements", headers=desk)
        (agreement,) = [a for a in r.json() if a["number"] == contract["number"]]
        assert (agreement["site_name"], agreement["address"]) == (
            "Магазин «У дома»", "Москва, ул. Садовая, 3")

        r = await billing.get("/api/subscriptions", params={"contract_id": contract["id"]},
                              headers=desk)
        assert r.json() == []
        app.state.billing.rules.today = lambda: date(2026, 12, 15)
        r = await billing.post("/api/invoice-runs", json={"period": "2026-12"}, headers=desk)
        assert r.status_code == 200, r.text  # other tests' contracts may be billed; not this one
        r = await billing.get("/api/invoices", params={"client_id": client_id}, headers=desk)
        assert r.json() == []
        app.state.billing.rules.today = lambda: date(2026, 12, 21)
        r = await billing.post("/api/dunning-runs", json={"on": "2026-12-21"}, headers=desk)
        assert r.status_code == 200, r.text
        r = await billing.get("/api/invoices", params={"client_id": client_id}, headers=desk)
        assert r.json() == []  # nothing to chase the site owner for
        r = await notifications.get("/api/tasks", params={"client_id": client_id},
                                    headers=manager)
        assert not [t for t in r.json() if t["kind"] == "payment_reminder"]
