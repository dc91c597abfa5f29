"""A manager's day in the browser: a new client, its site and contract, signing, the
welcome call on My day; what another manager's client and the other desks look like."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System

from .conftest import PHONE, Browsing, api_token
from .helpers import inn10, reload_until

pytestmark = pytest.mark.browser


def create_client_in_browser(page: Page, name: str, inn: str) -> str:
    page.goto("/contracts/clients/new")
    page.fill("input[name=name]", name)
    page.fill("input[name=inn]", "1234567890")  # wrong check digit: the API says so
    page.fill("input[name=email]", "office@example.ru")
    page.click("main button[type=submit]")
    error = page.locator(".field-error[data-field=inn]")
    expect(error).to_be_visible()
    expect(page.locator("input[name=inn]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=name]")).to_have_value(name)  # the form keeps its input
    page.fill("input[name=inn]", inn)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}"))
    expect(page.get_by_test_id("client-name")).to_have_text(name)
    return page.url.rsplit("/", 1)[-1].split("?")[0]


def test_manager_creates_and_signs_a_contract_and_sees_the_welcome_call(
        browsing: Browsing) -> None:
    page = browsing.logged_in("manager1")
    name = f"ООО «Проверка {uuid.uuid4().hex[:6]}»"
    client_id = create_client_in_browser(page, name, inn10())

    page.click("text=Добавить объект")
    page.fill("input[name=name]", "ЖК Румянцево")
    page.fill("input[name=address]", "Москва, Киевское ш., 1")
    page.fill("input[name=access_points]", "3")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/clients/{client_id}"))
    expect(page.locator("#sites")).to_contain_text("ЖК Румянцево")

    page.click("text=Новый договор")
    starts = business_today().replace(day=1).isoformat()
    page.fill("input[name=starts_on]", starts)
    page.fill("input[name=monthly_fee]", "-5")
    page.select_option("select[name=site_id]", label="ЖК Румянцево")
    page.click("main button[type=submit]")
    expect(page.locator(".field-error[data-field=monthly_fee]")).to_be_visible()
    page.fill("input[name=monthly_fee]", "12 500,00")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/clients/{client_id}"))
    row = page.locator("#contracts tbody tr").first
    expect(row.get_by_test_id("contract-status")).to_have_text("черновик")
    expect(row).to_contain_text("12\u00a0500,00\u00a0₽")

    row.locator("button", has_text="Подписать").click()
    page.wait_for_url(re.compile(r"flash=signed"))
    expect(page.get_by_test_id("flash")).to_have_text("Договор подписан.")
    expect(page.locator("#contracts tbody tr").first.get_by_test_id("contract-status")
           ).to_have_text(re.compile("подписан|действует"))

    page.goto("/")
    reload_until(page, lambda: page.locator(
        f"li[data-kind=welcome_call]:has-text('{name}')").count() == 1)
    task = page.locator(f"li[data-kind=welcome_call]:has-text('{name}')")
    expect(task.locator("a")).to_have_attribute("href", f"/clients/{client_id}")
    # the card shows the same task and the signing in the client's history
    page.goto(f"/clients/{client_id}")
    expect(page.locator("#tasks")).to_contain_text(name)
    reload_until(page, lambda: page.locator(
        "#timeline li[data-type='contracts.contract.signed']").count() >= 1)


def test_a_manager_sees_neither_another_managers_client_nor_the_other_desks(
        browsing: Browsing, system: System) -> None:
    r = httpx.post(f"{system.urls['contracts']}/api/clients", headers=api_token(system, "manager2"),
                   json={"name": "ООО «Чужой клиент»", "inn": inn10(),
                         "email": "other@example.ru", "manager": "manager2"})
    assert r.status_code == 201, r.text
    foreign = r.json()["id"]

    page = browsing.logged_in("manager1")
    response = page.goto(f"/clients/{foreign}")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Чужой клиент")
    for path in ("/billing", "/billing/runs/new", "/head"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_test_id("forbidden")).to_be_visible()
    # and the navigation offers only the manager's desks
    nav = page.locator("header nav .desks")
    expect(nav).to_contain_text("Мой день")
    expect(nav).to_contain_text("Договоры")
    expect(nav).not_to_contain_text("Биллинг")
    expect(nav).not_to_contain_text("Руководитель")

    # manager2 opens it
    other = browsing.logged_in("manager2")
    other.goto(f"/clients/{foreign}")
    expect(other.get_by_test_id("client-name")).to_have_text("ООО «Чужой клиент»")


def test_my_day_fits_a_phone(browsing: Browsing, system: System) -> None:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    name = f"ООО «Телефон {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "phone@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client.json()["id"], "kind": "subscription",
        "starts_on": business_today().replace(day=1).isoformat(), "monthly_fee": "9900.00",
        "auto_renew": True, "standard": True})
    assert contract.status_code == 201, contract.text
    signed = httpx.post(f"{contracts}/api/contracts/{contract.json()['id']}/sign",
                        headers=auth, json={"signed_on": business_today().isoformat()})
    assert signed.status_code == 200, signed.text

    page = browsing.logged_in("manager1", viewport=PHONE)
    reload_until(page, lambda: page.locator(f"li:has-text('{name}')").count() == 1)
    task = page.locator(f"li:has-text('{name}')")
    expect(task).to_be_visible()
    box = task.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # nothing on the page is wider than the phone: no sideways scrolling
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    expect(page.locator("header nav")).to_contain_text("Мой день")
    expect(page.locator("button", has_text="Выйти")).to_be_visible()
    # the client card from the task fits too: wide tables scroll inside their own box
    task.locator("a", has_text=name).click()
    expect(page.get_by_test_id("client-name")).to_have_text(name)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_a_non_standard_contract_goes_through_the_heads_approval(browsing: Browsing,
                                                                 system: System) -> None:
    auth = api_token(system, "manager1")
    name = f"ООО «Особые условия {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{system.urls['contracts']}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "special@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]

    page = browsing.logged_in("manager1")
    page.goto(f"/contracts/new?client_id={client_id}")
    page.fill("input[name=starts_on]", business_today().replace(day=1).isoformat())
    page.fill("input[name=monthly_fee]", "3 000")
    page.uncheck("input[name=standard]")
    page.click("main button[type=submit]")
    # a non-standard contract goes to the head at once and cannot be signed before
    row = page.locator("#contracts tbody tr").first
    expect(row.get_by_test_id("contract-status")).to_have_text("на согласовании")
    expect(row.locator("button", has_text="Подписать")).to_have_count(0)
    number = page.locator("#contracts tbody tr").first.get_attribute("data-contract")

    head = browsing.logged_in("head")
    head.goto("/contracts/approvals")
    pending = head.locator(f"#approvals tr[data-contract='{number}']")
    expect(pending).to_contain_text(name)
    pending.locator("input[name=reason]").fill("Скидка согласована")
    pending.locator("button", has_text="Согласовать").click()
    expect(head.locator(".notice")).to_have_text("Договор согласован.")
    expect(head.locator(f"#approvals tr[data-contract='{number}']")).to_have_count(0)

    page.goto(f"/clients/{client_id}")
    row = page.locator(f"#contracts tr[data-contract='{number}']")
    expect(row.get_by_test_id("contract-status")).to_have_text("согласован")
    row.locator("button", has_text="Подписать").click()
    expect(page.get_by_test_id("flash")).to_have_text("Договор подписан.")
