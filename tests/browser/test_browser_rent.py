"""Site rent on the billing desk in the browser: a cashless agreement and its dated change,
next month's payout registry (XLSX, sent, disputed, reconciled), and a cash route's month
from the cash sum through the accountant's permission to the courier's receipts."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System

from .conftest import Browsing, api_token
from .helpers import DOCUMENT_MS, inn10, rub

pytestmark = pytest.mark.browser


def month_after(day: date, months: int = 1) -> date:
    """The first day of the month ``months`` after the one ``day`` is in."""
    first = day.replace(day=1)
    for _ in range(months):
        first = (first + timedelta(days=32)).replace(day=1)
    return first


def rent_agreement(system: System, number: str, owner_inn: str, terminals: int, amount: str,
                   form: str, starts_on: date, **extra: Any) -> dict[str, Any]:
    r = httpx.post(f"{system.urls['billing']}/api/rent/agreements",
                   headers=api_token(system, "billing"), json={
                       "number": number, "owner_name": f"Владелец {number}",
                       "owner_inn": owner_inn, "site_name": f"Магазин {number}",
                       "address": "Москва, ул. Льва Толстого, 16", "starts_on":
                       starts_on.isoformat(), "terminals": terminals,
                       "amount_per_terminal": amount, "payment_form": form, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_cashless_agreement_its_change_and_next_months_registry(browsing: Browsing) -> None:
    suffix = uuid.uuid4().hex[:6]
    number, owner_inn = f"АР-{suffix}", inn10()
    this_month = business_today().replace(day=1)
    next_month = month_after(this_month)
    desk = browsing.logged_in("billing")
    desk.goto("/billing")
    desk.click("nav.tabs >> text=Аренда площадок")
    expect(desk.locator("main h1")).to_have_text("Аренда площадок")
    desk.click("text=Новый договор аренды")

    form = desk.locator("main form[action='/billing/rent/agreements/new']")
    form.locator("input[name=number]").fill(number)
    form.locator("input[name=starts_on]").fill(this_month.isoformat())
    form.locator("input[name=owner_name]").fill(f"ИП Петров {suffix}")
    form.locator("input[name=owner_inn]").fill(owner_inn)
    form.locator("input[name=site_name]").fill("Магазин «Продукты»")
    form.locator("input[name=address]").fill("Москва, Ленинский пр-т, 10")
    form.locator("input[name=terminals]").fill("2")
    form.locator("input[name=amount_per_terminal]").fill("3 000,00")
    form.locator("select[name=payment_form]").select_option("cashless")
    form.locator("button[type=submit]").click()
    # cashless without the owner's account: billing says so, at the field, in Russian
    error = desk.locator(".field-error[data-field=owner_account]")
    expect(error).to_have_text("Для безнала нужны расчётный счёт и БИК владельца.")
    expect(desk.locator("input[name=number]")).to_have_value(number)
    form.locator("input[name=owner_account]").fill("40702810500000004444")
    form.locator("input[name=owner_bic]").fill("044525225")
    form.locator("input[name=owner_bank]").fill("ПАО СБЕРБАНК")
    form.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(r"/billing/rent/agreements/[0-9a-f-]{36}\?flash=created"))
    expect(desk.get_by_test_id("agreement-number")).to_contain_text(number)

    # a third terminal from the month after next: next month's rent is still 2 × 3 000
    change_on = month_after(this_month, 2)
    change = desk.locator("#change form")
    change.locator("input[name=effective_from]").fill(change_on.isoformat())
    change.locator("input[name=terminals]").fill("3")
    change.locator("input[name=note]").fill("монтаж терминала")
    change.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Изменение условий записано.")
    terms = desk.locator("#terms tbody tr")
    expect(terms).to_have_count(2)
    expect(terms.nth(0)).to_contain_text(rub("6000.00"))
    expect(terms.nth(1)).to_contain_text(change_on.strftime("%d.%m.%Y"))
    expect(terms.nth(1)).to_contain_text(rub("9000.00"))
    expect(terms.nth(1)).to_contain_text("монтаж терминала")

    # the list, one owner: the terms in force today and on the day of the change
    desk.goto(f"/billing/rent?owner_inn={owner_inn}")
    row = desk.locator(f"#agreements tr[data-agreement='{number}']")
    expect(row.get_by_test_id("terminals")).to_have_text("2")
    expect(row.get_by_test_id("monthly")).to_have_text(rub("6000.00"))
    expect(desk.get_by_test_id("rent-summary")).to_contain_text(f"безналом {rub('6000.00')}")
    desk.goto(f"/billing/rent?owner_inn={owner_inn}&on={change_on.isoformat()}")
    expect(row.get_by_test_id("monthly")).to_have_text(rub("9000.00"))

    # next month's registry: the row, the spreadsheet, then accounting's answers
    desk.goto("/billing/rent/registry")
    period = next_month.strftime("%Y-%m")
    expect(desk.locator("input[name=period]")).to_have_value(period)
    registry_row = desk.locator(f"#registry tr[data-agreement='{number}']")
    expect(registry_row).to_contain_text(rub("6000.00"))
    expect(registry_row).to_contain_text("40702810500000004444")
    expect(desk.get_by_test_id("registry-state")).to_have_text("черновик")
    xlsx = desk.request.get(desk.get_by_test_id("registry-xlsx").get_attribute("href") or "",
                            timeout=DOCUMENT_MS)
    assert xlsx.status == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    assert xlsx.body()[:2] == b"PK"
    assert f"rent-registry-{period}.xlsx" in xlsx.headers.get("content-disposition", "")

    state_form = desk.locator("form#registry-state")
    state_form.locator("button", has_text="Передать в бухгалтерию").click()
    expect(desk.get_by_test_id("registry-state")).to_have_text("передан в бухгалтерию")
    state_form.locator("input[name=note]").fill("в реестре не тот БИК")
    state_form.locator("button", has_text="Есть расхождение").click()
    expect(desk.get_by_test_id("registry-state")).to_have_text("расхождение")
    expect(desk.locator(f"#registries tr[data-period='{period}']")).to_contain_text(
        "в реестре не тот БИК")
    state_form.locator("button", has_text="Сверено").click()
    expect(desk.get_by_test_id("notice")).to_contain_text("сверен")
    expect(desk.locator("form#registry-state")).to_have_count(0)
    expect(desk.locator(f"#registries tr[data-period='{period}']")).to_contain_text("сверен")


def test_cash_route_month_from_the_cash_sum_to_the_couriers_receipts(
        browsing: Browsing, system: System) -> None:
    suffix = uuid.uuid4().hex[:6]
    this_month = business_today().replace(day=1)
    first = rent_agreement(system, f"НАЛ-{suffix}-1", inn10(), 1, "5000.00", "cash",
                           this_month)
    second = rent_agreement(system, f"НАЛ-{suffix}-2", inn10(), 2, "2500.00", "cash",
                            this_month)
    desk = browsing.logged_in("billing")
    desk.goto("/billing/rent/routes")
    new_route = desk.locator("#new-route form")
    new_route.locator("input[name=name]").fill(f"Юг {suffix}")
    new_route.locator("input[name=courier]").fill("Иванов")
    new_route.locator("button[type=submit]").click()
    expect(desk.locator(".field-error[data-field=stops]")).to_be_visible()  # no stops
    # the courier goes to the second site first
    new_route.locator(f"input[name='pos_{second['id']}']").fill("1")
    new_route.locator(f"input[name='pos_{first['id']}']").fill("2")
    new_route.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Маршрут создан.")
    expect(desk.locator("#stops li").nth(0)).to_contain_text(second["site_name"])
    expect(desk.locator("#stops li").nth(1)).to_contain_text(first["site_name"])

    desk.locator("#plan button[type=submit]").click()
    desk.wait_for_url(re.compile(r"/billing/rent/route-months/[0-9a-f-]{36}"))
    month_url = desk.url.split("?")[0]
    # 1 × 5 000 + 2 × 2 500 for a whole month
    expect(desk.get_by_test_id("cash-total")).to_have_text(rub("10000.00"))
    expect(desk.get_by_test_id("month-state")).to_have_text("запланирован")
    expect(desk.locator("#items tbody tr").nth(0)).to_contain_text(second["site_name"])
    desk.goto("/billing/rent/open-items")
    expect(desk.locator("#open-items tr", has_text=f"Юг {suffix}")).to_have_count(2)

    desk.goto(month_url)
    desk.click("text=Заявка на наличные в бухгалтерию")
    expect(desk.get_by_test_id("month-state")).to_have_text("заявка на наличные")
    # billing cannot permit the payment: only the head or accounting can
    expect(desk.locator("form#permission")).to_have_count(0)
    expect(desk.locator("#month")).to_contain_text("руководитель или бухгалтерия")

    accountant = browsing.logged_in("accountant")
    accountant.goto(month_url)
    accountant.locator("form#permission button").click()
    expect(accountant.locator("form#permission .field-error")).to_have_text(
        "Укажите номер разрешения на оплату.")
    accountant.locator("form#permission input[name=permission_no]").fill("РО-17")
    accountant.locator("form#permission button").click()
    expect(accountant.get_by_test_id("month-state")).to_have_text("оплата разрешена")

    desk.goto(month_url)
    item = desk.locator(f"#items tr[data-agreement='{second['number']}']")
    item.locator("input[name=paid_on]").fill(business_today().isoformat())
    item.locator("button", has_text="Подтвердить").click()
    # no receipt number: the API's 422 at the field, the typed date kept
    expect(item.locator(".field-error[data-field=receipt_no]")).to_have_text(
        "Обязательное поле.")
    expect(item.locator("input[name=paid_on]")).to_have_value(business_today().isoformat())
    item.locator("input[name=receipt_no]").fill("Р-1")
    item.locator("button", has_text="Подтвердить").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Выдача подтверждена.")
    expect(item.get_by_test_id("confirmed")).to_contain_text("расписка № Р-1")
    expect(desk.get_by_test_id("open-items")).to_have_text("1")

    item = desk.locator(f"#items tr[data-agreement='{first['number']}']")
    item.locator("input[name=paid_on]").fill(business_today().isoformat())
    item.locator("select[name=receipt_kind]").select_option("cash_order")
    item.locator("input[name=receipt_no]").fill("ПКО-5")
    item.locator("button", has_text="Подтвердить").click()
    expect(desk.get_by_test_id("month-state")).to_have_text("закрыт")
    expect(desk.get_by_test_id("open-items")).to_have_text("0")
    desk.goto("/billing/rent/open-items")
    expect(desk.locator("#open-items tr", has_text=f"Юг {suffix}")).to_have_count(0)
