"""The foundation's vertical slice, every service a process, through HTTP only."""

from __future__ import annotations

import httpx
import pytest

from clientops_shared.testing import System, eventually, random_inn

pytestmark = pytest.mark.e2e


def login(system: System, username: str) -> dict[str, str]:
    r = httpx.post(f"{system.urls['web']}/api/auth/token",
                   data={"username": username, "password": f"{username}-demo"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_every_service_is_ready(system: System) -> None:
    for name, url in system.urls.items():
        r = httpx.get(f"{url}/health/ready")
        assert r.status_code == 200, (name, r.text)
        assert r.json()["database"] == "ok" and r.json()["broker"] == "ok"
        assert httpx.get(f"{url}/health/live").json()["status"] == "ok"
        assert "clientops_outbox_pending" in httpx.get(f"{url}/metrics").text or name == "web"


def test_token_endpoint_accepts_json_and_refuses_bad_passwords(system: System) -> None:
    web = system.urls["web"]
    r = httpx.post(f"{web}/api/auth/token", json={"username": "head", "password": "head-demo"})
    assert r.status_code == 200 and r.json()["role"] == "head"
    r = httpx.post(f"{web}/api/auth/token", json={"username": "head", "password": "nope"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    r = httpx.post(f"{web}/api/auth/token", json={"username": "head"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"


def test_signed_contract_opens_subscription_and_welcome_call(system: System) -> None:
    manager = login(system, "manager1")
    contracts = system.urls["contracts"]
    r = httpx.post(f"{contracts}/api/clients", headers=manager, json={
        "name": "ООО «Шлагбаум-Сервис»", "inn": random_inn(), "kpp": "770201001",
        "email": "office@shlagbaum.ru", "phone": "+7 495 123-45-67", "manager": "manager1"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    r = httpx.post(f"{contracts}/api/clients/{client_id}/sites", headers=manager, json={
        "name": "ЖК Румянцево", "address": "Москва, Киевское ш., 1", "access_points": 3})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{contracts}/api/contracts", headers=manager, json={
        "client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
        "monthly_fee": "12500.00", "auto_renew": True, "standard": True,
        "site_id": r.json()["id"]})
    assert r.status_code == 201, r.text
    contract = r.json()
    assert contract["status"] == "draft" and contract["number"].startswith("2026-")
    r = httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=manager,
                   json={"signed_on": "2026-11-20"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "signed"  # starts on 1 December: signed, not yet active

    billing = system.urls["billing"]

    def subscription() -> list[dict[str, object]]:
        return httpx.get(f"{billing}/api/subscriptions", headers=manager,
                         params={"contract_id": contract["id"]}).json()
    subs = eventually(subscription)
    assert subs[0]["client_id"] == client_id
    assert subs[0]["monthly_fee"] == "12500.00"
    assert subs[0]["starts_on"] == "2026-12-01"

    notifications = system.urls["notifications"]

    def welcome_call() -> list[dict[str, object]]:
        tasks = httpx.get(f"{notifications}/api/tasks", headers=manager,
                          params={"assignee": "manager1"}).json()
        return [t for t in tasks if t["kind"] == "welcome_call" and t["client_id"] == client_id]
    tasks = eventually(welcome_call)
    assert len(tasks) == 1 and tasks[0]["state"] == "open"

    # another manager sees neither the client's subscription nor its tasks
    other = login(system, "manager2")
    assert httpx.get(f"{billing}/api/subscriptions", headers=other,
                     params={"contract_id": contract["id"]}).json() == []
    assert httpx.get(f"{contracts}/api/clients/{client_id}", headers=other).status_code == 403
    timeline = httpx.get(f"{notifications}/api/clients/{client_id}/timeline",
                         headers=manager).json()
    assert [e["type"] for e in timeline][:1] == ["contracts.client.registered"]
    assert "contracts.contract.signed" in {e["type"] for e in timeline}

    # every write is audited: who, what, before and after
    audit = httpx.get(f"{contracts}/api/admin/audit", headers=login(system, "head"),
                      params={"entity": "contract", "entity_id": contract["id"]}).json()
    signing = next(a for a in audit if a["action"] == "contract.signed")
    assert signing["actor"] == "manager1"
    assert signing["before"]["status"] == "draft" and signing["after"]["status"] == "signed"
    assert httpx.get(f"{contracts}/api/admin/audit", headers=manager).status_code == 403
