"""Issue 13 §2 in the browser: billing opens the payments list, finds a payment, opens its
record (where the money went, what is left), applies the client's advance to an open invoice
picked from a list; and downloads the 1C export for a month, a bad month refused in Russian."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import DOCUMENT_MS
from .test_browser_billing import previous_period, signed_client

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("PAYDESK_SCREENSHOTS")  # a folder: save each new page's screenshot


def _shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _second_contract(system: System, client_id: str, starts_on: date, fee: str) -> str:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client_id, "kind": "subscription", "starts_on": starts_on.isoformat(),
        "monthly_fee": fee, "auto_renew": True, "standard": True})
    assert contract.status_code == 201, contract.text
    signed = httpx.post(f"{contracts}/api/contracts/{contract.json()['id']}/sign",
                        headers=auth, json={"signed_on": business_today().isoformat()})
    assert signed.status_code == 200, signed.text
    eventually(lambda: httpx.get(f"{system.urls['billing']}/api/subscriptions",
                                 headers=auth, params={"contract_id": contract.json()["id"]}
                                 ).json())
    return str(contract.json()["id"])


def _invoices(system: System, client_id: str, period: date) -> list[dict[str, object]]:
    auth = api_token(system, "billing")
    rows = httpx.get(f"{system.urls['billing']}/api/invoices", headers=auth, params={
        "client_id": client_id, "period": period.strftime("%Y-%m"), "kind": "invoice"}).json()
    return sorted(rows, key=lambda r: r["number"])


def _ru_money(value: Decimal) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = re.sub(r"(?<=\d)(?=(\d{3})+$)", "\u00a0", whole)
    return f"{groups},{cents}"


def test_billing_opens_a_payment_and_applies_the_advance_to_a_picked_invoice(
        browsing: Browsing, system: System) -> None:
    period = previous_period(business_today())
    tag = uuid.uuid4().hex[:6]
    client = signed_client(system, f"ООО «Аванс {tag}»", period, "12500.00")
    _second_contract(system, client["client_id"], period, "3000.00")
    auth = api_token(system, "billing")
    httpx.post(f"{system.urls['billing']}/api/invoice-runs", headers=auth,
               json={"period": period.strftime("%Y-%m")}, timeout=60)
    invoices = eventually(lambda: (lambda rows: rows if len(rows) == 2 else None)(
        _invoices(system, client["client_id"], period)))
    first, second = invoices
    over = Decimal(str(first["total"])) + Decimal("1000.00")
    reference = f"п/п № {tag}"
    r = httpx.post(f"{system.urls['billing']}/api/payments", headers=auth, json={
        "invoice_id": first["id"], "amount": f"{over:.2f}", "paid_on": business_today().isoformat(),
        "reference": reference})
    assert r.status_code == 201 and r.json()["unallocated"] == "1000.00", r.text

    desk = browsing.logged_in("billing")
    desk.goto("/billing")
    desk.get_by_role("link", name="Платежи", exact=True).click()
    expect(desk.locator("table[data-testid=payments]")).to_be_visible()
    _shot(desk, "payments-list")
    # a bad amount is refused next to the field, in Russian
    desk.fill("input[name=amount]", "много")
    desk.click("form[data-testid=payment-filters] button[type=submit]")
    expect(desk.locator(".field-error[data-field=amount]")).to_contain_text("Сумма числом")
    _shot(desk, "payments-refused")
    desk.fill("input[name=amount]", _ru_money(over) + " ₽")
    desk.fill("input[name=q]", tag)
    desk.select_option("select[name=state]", "partly")
    desk.click("form[data-testid=payment-filters] button[type=submit]")
    rows = desk.locator("table[data-testid=payments] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("разнесён частично, остаток — аванс")
    expect(rows.first).to_contain_text(f"ООО «Аванс {tag}»")
    rows.first.get_by_role("link", name=reference).click()

    expect(desk.get_by_test_id("payment-title")).to_contain_text(reference)
    expect(desk.get_by_test_id("remainder")).to_have_text(f"{_ru_money(Decimal('1000'))} ₽")
    allocations = desk.locator("table[data-testid=allocations] tbody tr")
    expect(allocations).to_have_count(1)
    expect(allocations.first).to_contain_text(str(first["number"]))
    _shot(desk, "payment-record")
    desk.get_by_test_id("apply-advance").click()

    expect(desk.get_by_test_id("credit")).to_have_text(f"{_ru_money(Decimal('1000'))} ₽")
    _shot(desk, "advance")
    # submitted without a pick: refused next to the list, nothing applied
    desk.click("form[data-testid=apply-form] button[type=submit]")
    expect(desk.locator(".field-error[data-field=invoice_id]")).to_have_text(
        "Выберите счёт из списка.")
    options = desk.locator("select[name=invoice_id] option")
    label = next(t for t in options.all_inner_texts() if str(second["number"]) in t)
    desk.select_option("select[name=invoice_id]", label=label)
    desk.click("form[data-testid=apply-form] button[type=submit]")
    expect(desk.get_by_test_id("flash")).to_have_text("Аванс зачтён в счёт.")
    expect(desk.get_by_test_id("credit")).to_have_text("0,00 ₽")
    _shot(desk, "advance-applied")

    desk.goto(f"/billing/payments/{r.json()['id']}")
    expect(desk.get_by_test_id("remainder")).to_have_text("0,00 ₽")
    expect(desk.get_by_test_id("payment-state")).to_have_text("разнесён")
    expect(allocations).to_have_count(2)
    expect(desk.locator(f"tr[data-invoice='{second['number']}']")).to_contain_text(
        _ru_money(Decimal("1000")))
    # the invoice record links back to the payment
    desk.locator(f"tr[data-invoice='{second['number']}'] a").first.click()
    expect(desk.get_by_test_id("invoice-status")).to_have_text("оплачен частично")
    desk.get_by_role("link", name=reference).click()
    expect(desk.get_by_test_id("payment-title")).to_contain_text(reference)
    # the client card: debt and no advance left; the client's payments one click away
    desk.goto(f"/clients/{client['client_id']}")
    desk.get_by_role("link", name="Платежи клиента").click()
    expect(desk.locator("table[data-testid=payments] tbody tr")).to_have_count(1)
    _shot(desk, "client-payments")


def test_billing_downloads_the_1c_export_and_a_bad_month_is_refused(
        browsing: Browsing) -> None:
    desk = browsing.logged_in("billing")
    desk.goto("/billing")
    desk.get_by_role("link", name="Выгрузка в 1С").click()
    _shot(desk, "onec")
    desk.fill("input[name=period]", "2099-01")
    desk.click("form[data-testid=onec-form] button[type=submit]")
    expect(desk.locator(".field-error[data-field=period]")).to_contain_text(
        "Период ещё не наступил")
    _shot(desk, "onec-refused")
    desk.fill("input[name=period]", previous_period(business_today()).strftime("%Y-%m"))
    with desk.expect_download(timeout=DOCUMENT_MS) as download:
        desk.click("form[data-testid=onec-form] button[type=submit]", timeout=DOCUMENT_MS)
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".xml")
    assert b"EnterpriseData" in Path(path).read_bytes()
