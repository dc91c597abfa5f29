"""Issue 13 §2: the lawyer's claims desk — the lawyer moves a claim to its next stage."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System

from .conftest import Browsing, api_token
from .helpers import inn10

pytestmark = pytest.mark.browser


def test_the_lawyer_moves_a_claim_to_its_next_stage(browsing: Browsing, system: System) -> None:
    head = api_token(system, "head")
    contracts = system.urls["contracts"]
    client = httpx.post(f"{contracts}/api/clients", headers=head, json={
        "name": f"ООО «Претензия {uuid.uuid4().hex[:6]}»", "inn": inn10(),
        "email": "claim@example.ru", "manager": "manager1"}).json()
    subject = f"Возврат аванса {uuid.uuid4().hex[:6]}"
    r = httpx.post(f"{contracts}/api/claims", headers=head, json={
        "client_id": client["id"], "subject": subject, "amount": "45000.00",
        "received_on": business_today().isoformat(), "lawyer": "lawyer"})
    assert r.status_code == 201, r.text

    lawyer = browsing.logged_in("lawyer")
    lawyer.goto("/contracts")
    lawyer.get_by_role("link", name="Претензии").click()
    row = lawyer.locator(f"table[data-testid=claims] tr[data-claim='{subject}']")
    expect(row.get_by_test_id("claim-stage")).to_contain_text("получена")
    expect(row).to_contain_text("Лебедев Кирилл")  # the lawyer by name, not the login
    expect(row).to_contain_text("45 000,00")
    row.locator("select[name=stage]").select_option("answered")
    row.locator("input[name=note]").fill("ответ направлен почтой")
    row.locator("button", has_text="Перевести").click()
    expect(lawyer.get_by_test_id("flash")).to_have_text("Стадия претензии изменена.")
    expect(row.get_by_test_id("claim-stage")).to_contain_text("дан ответ")
    expect(row.get_by_test_id("claim-stage")).to_contain_text("ответ направлен почтой")
    assert httpx.get(f"{contracts}/api/claims/{r.json()['id']}",
                     headers=head).json()["stage"] == "answered"
