"""Issue 13 §2 and §1 in the browser: billing finds an invoice by number, downloads its PDF,
re-sends it, corrects it with a reason, and cancels an invoice issued in error by a credit
note; a paid invoice offers no cancellation."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import DOCUMENT_MS
from .test_browser_billing import invoice_of, previous_period, signed_client

pytestmark = pytest.mark.browser


def test_billing_finds_downloads_resends_corrects_and_cancels_an_invoice(
        browsing: Browsing, system: System) -> None:
    period = previous_period(business_today())
    a = signed_client(system, f"ООО «Счёт {uuid.uuid4().hex[:6]}»", period, "12500.00")
    b = signed_client(system, f"ООО «Ошибка {uuid.uuid4().hex[:6]}»", period, "3000.00")
    auth = api_token(system, "billing")
    httpx.post(f"{system.urls['billing']}/api/invoice-runs", headers=auth,
               json={"period": period.strftime("%Y-%m")}, timeout=60)
    invoice_a = eventually(lambda: invoice_of(system, a["client_id"], period))
    invoice_b = eventually(lambda: invoice_of(system, b["client_id"], period))

    desk = browsing.logged_in("billing")
    desk.goto("/billing")
    desk.get_by_role("link", name="Счета", exact=True).click()
    desk.fill("input[name=number]", invoice_a["number"])
    desk.click("form[data-testid=invoice-filters] button[type=submit]")
    rows = desk.locator("table[data-testid=invoices] tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=invoice_a["number"]).click()
    expect(desk.get_by_test_id("invoice-number")).to_contain_text(invoice_a["number"])
    expect(desk.get_by_test_id("invoice-status")).to_have_text("выставлен")
    expect(desk.locator("#lines tbody tr")).to_have_count(1)

    pdf = desk.request.get(desk.get_by_test_id("pdf").get_attribute("href") or "",
                           timeout=DOCUMENT_MS)
    assert pdf.ok and pdf.body().startswith(b"%PDF"), pdf.status

    desk.fill("#resend input[name=email]", "buh-copy@example.ru")
    desk.click("#resend button[type=submit]")
    expect(desk.get_by_test_id("flash")).to_have_text("Счёт отправлен повторно.")

    # a correction without a reason is refused next to the field, nothing is written
    desk.click("#correct button[type=submit]")
    expect(desk.locator("#correct .field-error[data-field=reason]")).to_be_visible()
    desk.fill("#correct input[name=reason]", "скидка по письму клиента")
    desk.fill("#correct input[name=amount]", "12 000,00")
    desk.click("#correct button[type=submit]")
    expect(desk.get_by_test_id("flash")).to_have_text("Счёт исправлен.")
    expect(desk.get_by_test_id("invoice-status")).to_have_text("сторнирован")
    expect(desk.locator("#summary")).to_contain_text("Кредит-нота")
    desk.locator("#summary a", has_text="СЧ-").click()  # the new revision
    expect(desk.get_by_test_id("invoice-status")).to_have_text("выставлен")
    expect(desk.locator("#summary")).to_contain_text("скидка по письму клиента")

    # an invoice issued in error: cancelled by a credit note with a reason
    desk.goto(f"/billing/invoices/{invoice_b['id']}")
    desk.fill("#cancel input[name=reason]", "договор аренды: платим мы, счёт ошибочный")
    desk.click("#cancel button[type=submit]")
    expect(desk.get_by_test_id("flash")).to_have_text("Счёт аннулирован кредит-нотой.")
    expect(desk.get_by_test_id("invoice-status")).to_have_text("сторнирован")
    expect(desk.locator("#cancel")).to_have_count(0)
    desk.goto(f"/billing/invoices?client_id={b['client_id']}")
    expect(desk.locator("table[data-testid=invoices]")).to_contain_text("кредит-нота")
