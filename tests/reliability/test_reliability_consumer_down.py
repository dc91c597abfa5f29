"""A consumer that is down loses nothing: its events wait in its durable queue."""

from __future__ import annotations

import httpx
import pytest

from clientops_shared.testing import System, eventually, restart_service

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


def test_billing_down_while_contracts_are_signed_catches_up_after_restart(
    system: System,
) -> None:
    manager = system.servers.auth("manager2", "manager")
    contracts, billing = system.urls["contracts"], system.urls["billing"]
    proc = system.processes["billing"]
    proc.terminate()
    proc.wait(timeout=20)
    signed: list[str] = []
    try:
        for inn in ("2309085638", "7708004767"):
            r = httpx.post(f"{contracts}/api/clients", headers=manager, json={
                "name": f"ООО Надёжность {inn}", "inn": inn, "email": "x@example.ru"})
            assert r.status_code == 201, r.text
            r = httpx.post(f"{contracts}/api/contracts", headers=manager, json={
                "client_id": r.json()["id"], "kind": "subscription",
                "starts_on": "2026-12-01", "monthly_fee": "5000.00", "auto_renew": False,
                "standard": True})
            contract_id = r.json()["id"]
            r = httpx.post(f"{contracts}/api/contracts/{contract_id}/sign", headers=manager,
                           json={"signed_on": "2026-12-01"})
            assert r.status_code == 200, r.text
            signed.append(contract_id)
    finally:
        # with the settings the system started with: later tests rely on them
        restart_service(system, "billing")

    for contract_id in signed:
        subs = eventually(lambda cid=contract_id: httpx.get(  # type: ignore[misc]
            f"{billing}/api/subscriptions", headers=manager,
            params={"contract_id": cid}).json(), timeout=30)
        assert len(subs) == 1 and subs[0]["monthly_fee"] == "5000.00"
