"""Supplier invoices on the billing desk in the browser: billing enters one (the API's 422
shown at its field), the head approves, billing asks for payment, accounting marks it paid;
another is rejected with a reason; each is mirrored in PlanFact."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clientops_shared.jobs import business_today

from .conftest import Browsing
from .helpers import inn10, rub

pytestmark = pytest.mark.browser


def enter(page: Page, supplier: str, inn: str, number: str, amount: str, vat: str) -> None:
    page.goto("/billing/payables")
    page.click("text=Внести счёт")
    form = page.locator("main form[action='/billing/payables/new']")
    form.locator("input[name=supplier_name]").fill(supplier)
    form.locator("input[name=supplier_inn]").fill(inn)
    form.locator("input[name=number]").fill(number)
    form.locator("input[name=due_on]").fill((business_today() + timedelta(days=10)).isoformat())
    form.locator("input[name=amount]").fill(amount)
    form.locator("input[name=vat]").fill(vat)
    form.locator("select[name=category]").select_option("delivery")
    form.locator("input[name=description]").fill("Доставка терминалов, Москва — Тула")
    form.locator("button[type=submit]").click()


def test_a_supplier_invoice_from_entry_to_paid_and_another_rejected(browsing: Browsing) -> None:
    suffix = uuid.uuid4().hex[:6]
    supplier, inn = f"ООО «Деловые линии {suffix}»", inn10()
    desk = browsing.logged_in("billing")
    enter(desk, supplier, inn, f"ДЛ-{suffix}", "12 000,00", "13 000,00")
    expect(desk.locator(".field-error[data-field=vat]")).to_have_text(
        "НДС не может быть больше суммы счёта.")
    expect(desk.locator("input[name=supplier_name]")).to_have_value(supplier)
    desk.locator("input[name=vat]").fill("2 163,93")
    desk.locator("main form button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Счёт поставщика записан.")
    row = desk.locator(f"#payables tr[data-payable='ДЛ-{suffix}']")
    expect(row.get_by_test_id("payable-status")).to_have_text("получен")
    expect(row).to_contain_text(rub("12000.00"))
    expect(row.get_by_test_id("planfact")).to_have_text("в ПланФакте")
    # billing enters; approving is the head's or accounting's
    expect(row.locator("button", has_text="Согласовать")).to_have_count(0)
    expect(row).to_contain_text("ждёт согласования")

    head = browsing.logged_in("head")
    head.goto("/billing/payables")
    head_row = head.locator(f"#payables tr[data-payable='ДЛ-{suffix}']")
    head_row.locator("button", has_text="Согласовать").click()
    expect(head.get_by_test_id("flash")).to_have_text("Счёт согласован.")
    expect(head_row.get_by_test_id("payable-status")).to_have_text("согласован")

    desk.reload()
    row.locator("button", has_text="Заявка на оплату").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Заявка на оплату создана.")
    expect(row.get_by_test_id("payable-status")).to_have_text("заявка на оплату")
    expect(row).to_contain_text("оплату отмечает бухгалтерия")

    accountant = browsing.logged_in("accountant")
    accountant.goto("/billing/payables?status=payment_requested")
    paid_row = accountant.locator(f"#payables tr[data-payable='ДЛ-{suffix}']")
    paid_row.locator("input[name=paid_on]").fill(business_today().isoformat())
    paid_row.locator("button", has_text="Оплачен").click()
    expect(accountant.get_by_test_id("flash")).to_have_text("Счёт отмечен оплаченным.")
    # back on the tab it came from, where it no longer is
    expect(accountant.locator(f"#payables tr[data-payable='ДЛ-{suffix}']")).to_have_count(0)
    accountant.goto("/billing/payables?status=paid")
    expect(paid_row.get_by_test_id("payable-status")).to_have_text("оплачен")
    expect(paid_row).to_contain_text(business_today().strftime("%d.%m.%Y"))
    expect(paid_row.get_by_test_id("planfact")).to_have_text("в ПланФакте")

    # the second one is rejected: a reason is required, three letters at least
    enter(desk, supplier, inn, f"ДЛ-{suffix}-2", "4 500,00", "0")
    head.goto("/billing/payables")
    reject = head.locator(f"#payables tr[data-payable='ДЛ-{suffix}-2'] details.reject")
    reject.locator("summary").click()
    reject.locator("input[name=reason]").evaluate("i => i.removeAttribute('minlength')")
    reject.locator("input[name=reason]").fill("но")
    reject.locator("button", has_text="Отклонить").click()
    expect(head.get_by_test_id("error")).to_have_text(
        "Причина отклонения: не короче 3 символов.")
    reject.locator("summary").click()
    reject.locator("input[name=reason]").fill("дороже, чем у другого перевозчика")
    reject.locator("button", has_text="Отклонить").click()
    expect(head.get_by_test_id("flash")).to_have_text("Счёт отклонён.")
    head.goto("/billing/payables?status=rejected")
    rejected = head.locator(f"#payables tr[data-payable='ДЛ-{suffix}-2']")
    expect(rejected.get_by_test_id("payable-status")).to_have_text("отклонён")
    expect(rejected).to_contain_text("дороже, чем у другого перевозчика")

    # nothing is waiting for PlanFact: the retry sends nothing
    head.locator("form[action='/billing/payables/planfact-sync'] button").click()
    expect(head.get_by_test_id("notice")).to_have_text("Отправлено в ПланФакт: 0.")
