"""Issue 13 §2: a manager changes a contract's fee on its page (a refused amount is said next
to the field), records the client's change request, and the head decides it in the queue."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System

from .conftest import Browsing, api_token
from .helpers import inn10, rub

pytestmark = pytest.mark.browser


def test_a_manager_changes_the_fee_and_the_head_decides_a_change_request(
        browsing: Browsing, system: System) -> None:
    manager = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    name = f"ООО «Абонент {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{contracts}/api/clients", headers=manager, json={
        "name": name, "inn": inn10(), "email": "fee@example.ru", "manager": "manager1"}).json()
    site = httpx.post(f"{contracts}/api/clients/{client['id']}/sites", headers=manager,
                      json={"name": "Офис", "address": "Москва, Тверская, 1",
                            "access_points": 1}).json()
    start = business_today().replace(day=1)
    contract = httpx.post(f"{contracts}/api/contracts", headers=manager, json={
        "client_id": client["id"], "kind": "subscription", "starts_on": start.isoformat(),
        "ends_on": (start.replace(year=start.year + 1) - timedelta(days=1)).isoformat(),
        "monthly_fee": "12000.00", "standard": True, "site_id": site["id"]}).json()
    r = httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=manager,
                   json={"signed_on": start.isoformat()})
    assert r.status_code == 200, r.text

    page = browsing.logged_in("manager1")
    page.goto(f"/clients/{client['id']}")
    page.get_by_test_id("contract-link").click()
    expect(page.get_by_test_id("contract-number")).to_have_text(f"Договор {contract['number']}")
    page.get_by_role("link", name="Изменение абонентской платы").click()
    page.fill("input[name=new_fee]", "0")
    page.get_by_role("button", name="Записать изменение платы").click()
    expect(page.locator(".field-error[data-field=new_fee]")).to_contain_text("больше нуля")
    page.fill("input[name=new_fee]", "18 300,00")
    page.fill("textarea[name=reason]", "индексация")
    page.get_by_role("button", name="Записать изменение платы").click()
    expect(page.get_by_test_id("flash")).to_have_text("Изменение абонентской платы записано.")
    row = page.locator("table[data-testid=amendments] tr[data-amendment='1']")
    expect(row).to_contain_text("изменение абонентской платы")
    expect(row).to_contain_text(rub("18300.00"))
    expect(row).to_contain_text(rub("12000.00"))

    summary = f"Просят скидку {uuid.uuid4().hex[:4]}"
    page.get_by_role("link", name="Запрос клиента на изменение условий").click()
    page.locator("select[name=kind]").select_option("fee_change")
    page.fill("input[name=summary]", summary)
    page.fill("input[name=new_fee]", "17 000")
    page.get_by_role("button", name="Отправить руководителю").click()
    expect(page.get_by_test_id("flash")).to_have_text("Запрос отправлен руководителю на решение.")
    request = page.locator(f"#change-requests li[data-request='{summary}']")
    expect(request.get_by_test_id("request-state")).to_have_text("ждёт решения")

    head = browsing.logged_in("head")
    head.goto("/contracts")
    head.get_by_role("link", name="Запросы на изменение").click()
    row = head.locator(f"table[data-testid=change-requests] tr[data-request='{summary}']")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Иванова Мария")
    expect(row).to_contain_text(rub("17000.00"))
    row.get_by_role("button", name="Отклонить").click()
    row = head.locator(f"table[data-testid=change-requests] tr[data-request='{summary}']")
    expect(row.locator(".field-error[data-field=reason]")).to_have_text("Укажите причину отказа.")
    row.locator("input[name=reason]").fill("Лояльный клиент, согласовано")
    row.get_by_role("button", name="Согласовать").click()
    expect(head.get_by_test_id("flash")).to_have_text("Запрос согласован.")
    expect(head.locator(f"tr[data-request='{summary}']")).to_have_count(0)

    page.reload()
    expect(request.get_by_test_id("request-state")).to_have_text("согласован")
    expect(request).to_contain_text("Петров Игорь")
    expect(page.locator("table[data-testid=amendments] tr[data-amendment]")).to_have_count(2)
