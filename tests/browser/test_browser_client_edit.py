"""Editing a client's details from the client card: contracts' 422 messages in Russian at
their fields (the form keeps what was typed), then the saved details on the card; another
manager's client and the billing desk cannot edit."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.testing import System

from .conftest import Browsing, api_token
from .helpers import inn10

pytestmark = pytest.mark.browser


def test_manager_edits_the_clients_details_with_inline_messages(browsing: Browsing,
                                                                system: System) -> None:
    name = f"ООО «Реквизиты {uuid.uuid4().hex[:6]}»"
    r = httpx.post(f"{system.urls['contracts']}/api/clients",
                   headers=api_token(system, "manager1"),
                   json={"name": name, "inn": inn10(), "email": "old@example.ru",
                         "manager": "manager1"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]

    page = browsing.logged_in("manager1")
    page.goto(f"/clients/{client_id}")
    page.click("text=Изменить реквизиты")
    form = page.locator("form#client-edit")
    expect(form.locator("input[name=name]")).to_have_value(name)
    expect(form.locator("input[name=email]")).to_have_value("old@example.ru")

    form.locator("input[name=name]").fill("")
    form.locator("input[name=kpp]").fill("77010")
    form.locator("input[name=phone]").fill("12")
    form.locator("input[name='bank.bank_name']").fill("ПАО СБЕРБАНК")
    form.locator("input[name='bank.bik']").fill("044525225")
    form.locator("input[name='bank.account']").fill("40702810500000004444")  # wrong key
    form.locator("input[name='bank.corr_account']").fill("30101810400000000225")
    form.locator("button[type=submit]").click()
    expect(page.locator(".field-error[data-field=name]")).to_have_text("Заполните поле.")
    expect(page.locator(".field-error[data-field=kpp]")).to_contain_text("КПП: 9 знаков")
    expect(page.locator(".field-error[data-field=phone]")).to_have_text(
        "Неверный номер телефона.")
    expect(page.locator(".field-error[data-field=bank]")).to_have_text(
        "Расчётный счёт не соответствует БИК.")
    expect(page.locator("input[name=kpp]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name='bank.account']")).to_have_value("40702810500000004444")

    form.locator("input[name=name]").fill(name)
    form.locator("input[name=email]").fill("buh@example.ru")
    form.locator("input[name=kpp]").fill("770101001")
    form.locator("input[name=phone]").fill("+7 495 123-45-67")
    form.locator("input[name='bank.account']").fill("40702810938000012345")
    form.locator("input[name=legal_address]").fill("Москва, ул. Тверская, 1")
    form.locator("input[name='signatory.position']").fill("Генеральный директор")
    form.locator("input[name='signatory.full_name']").fill("Иванова Мария Петровна")
    form.locator("input[name='signatory.female']").check()
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("flash")).to_have_text("Реквизиты клиента сохранены.")
    details = page.locator("#details")
    expect(details).to_contain_text("buh@example.ru")
    expect(details).to_contain_text("+7 (495) 123-45-67")  # phones shown formatted
    expect(details).to_contain_text("БИК 044525225, р/с 40702810938000012345")
    expect(details).to_contain_text("Генеральный директор Иванова Мария Петровна")
    expect(page.locator("main hgroup")).to_contain_text("КПП 770101001")
    stored = httpx.get(f"{system.urls['contracts']}/api/clients/{client_id}",
                       headers=api_token(system, "manager1")).json()
    assert stored["signatory"]["female"] is True and stored["kpp"] == "770101001"

    # saving the unchanged form sends nothing
    page.click("text=Изменить реквизиты")
    page.locator("form#client-edit button[type=submit]").click()
    expect(page.get_by_test_id("flash")).to_have_text("Изменений нет — ничего не сохранено.")

    # a cleared field is cleared
    page.click("text=Изменить реквизиты")
    page.locator("form#client-edit input[name=phone]").fill("")
    page.locator("form#client-edit button[type=submit]").click()
    expect(page.get_by_test_id("flash")).to_have_text("Реквизиты клиента сохранены.")
    expect(page.locator("#details")).not_to_contain_text("+7 (495) 123-45-67")

    other = browsing.logged_in("manager2")
    refused = other.goto(f"/clients/{client_id}/edit")
    assert refused is not None and refused.status == 403
    billing = browsing.logged_in("billing")
    refused = billing.goto(f"/clients/{client_id}/edit")
    assert refused is not None and refused.status == 403
    billing.goto(f"/clients/{client_id}")
    expect(billing.locator("text=Изменить реквизиты")).to_have_count(0)
