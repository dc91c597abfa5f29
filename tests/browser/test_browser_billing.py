"""The month in the browser: billing runs the invoices (progress bar), the invoice shows on
the client card, the manager's reminder call appears, billing records the payment and the
call disappears; a promised payment parks the call until its date."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import inn10, reload_until, rub

pytestmark = pytest.mark.browser


def previous_period(today: date) -> date:
    """The first day of last month: its invoices are already due (the 20th has passed)."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def signed_client(system: System, name: str, starts_on: date, fee: str) -> dict[str, Any]:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "pay@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client.json()["id"], "kind": "subscription",
        "starts_on": starts_on.isoformat(), "monthly_fee": fee, "auto_renew": True,
        "standard": True})
    assert contract.status_code == 201, contract.text
    signed = httpx.post(f"{contracts}/api/contracts/{contract.json()['id']}/sign",
                        headers=auth, json={"signed_on": business_today().isoformat()})
    assert signed.status_code == 200, signed.text
    billing = system.urls["billing"]
    eventually(lambda: httpx.get(f"{billing}/api/subscriptions", headers=auth,
                                 params={"contract_id": contract.json()["id"]}).json())
    return {"client_id": client.json()["id"], "contract_id": contract.json()["id"]}


def invoice_of(system: System, client_id: str, period: date) -> dict[str, Any] | None:
    auth = api_token(system, "billing")
    rows = httpx.get(f"{system.urls['billing']}/api/invoices", headers=auth, params={
        "client_id": client_id, "period": period.strftime("%Y-%m"), "kind": "invoice"}).json()
    assert len(rows) <= 1, rows  # one invoice per contract and period, however it was run
    return dict(rows[0]) if rows else None


def run_invoices(page: Page, period: date) -> int:
    page.goto("/billing/runs/new")
    page.fill("input[name=period]", period.strftime("%Y-%m"))
    page.click("main form[action='/billing/runs'] button[type=submit]")
    page.wait_for_url(re.compile(r"/billing/runs/[0-9a-f-]{36}"))
    # the progress bar polls the run until it is finished
    expect(page.locator("#run-progress")).to_have_attribute("data-finished", "yes",
                                                            timeout=60_000)
    expect(page.locator("#run-progress progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("run-status")).to_contain_text("Готово.")
    total = re.search(r"Обработано (\d+) из (\d+)", page.get_by_test_id("run-status").inner_text())
    assert total is not None and total.group(1) == total.group(2)
    return int(total.group(2))


def remind(page: Page, due_on: date) -> date:
    """Billing's reminder run on the first working day from the due date on (an invoice
    issued today has some days to be paid, so that day may lie ahead)."""
    day = max(due_on, business_today())
    for _ in range(15):
        page.goto("/billing")
        page.fill("input[name=on]", day.isoformat())
        page.click("form[action='/billing/dunning-runs'] button[type=submit]")
        # the run covers every open invoice in the shared system (other tests' too): on a busy
        # machine it takes a while; wait for its answer (a notice, or a refusal) and say which
        page.wait_for_url(re.compile(r"/billing\?(notice|error)="), timeout=60_000)
        notice = page.get_by_test_id("notice")
        assert notice.count() == 1, f"the reminder run on {day} was refused: {unquote(page.url)}"
        if not re.search(r"напоминаний 0\b", notice.inner_text()):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"no reminder day in the fortnight after {due_on}")


def test_invoices_payment_and_reminder_calls(browsing: Browsing, system: System) -> None:
    period = previous_period(business_today())
    paying = f"ООО «Платит {uuid.uuid4().hex[:6]}»"
    promising = f"ООО «Обещает {uuid.uuid4().hex[:6]}»"
    a = signed_client(system, paying, period, "12500.00")
    b = signed_client(system, promising, period, "7000.00")

    desk = browsing.logged_in("billing")
    # the run covers both contracts (a contract signed after its month was run may have
    # been billed at once: the run then skips it, never bills it twice)
    assert run_invoices(desk, period) >= 2
    invoice_a = eventually(lambda: invoice_of(system, a["client_id"], period))
    invoice_b = eventually(lambda: invoice_of(system, b["client_id"], period))

    manager = browsing.logged_in("manager1")
    manager.goto(f"/clients/{a['client_id']}")
    row = manager.locator(f"#invoices tr[data-invoice='{invoice_a['number']}']")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("invoice-status")).to_have_text("выставлен")
    balance = httpx.get(f"{system.urls['billing']}/api/clients/{a['client_id']}/balance",
                        headers=api_token(system, "billing")).json()
    expect(manager.get_by_test_id("owed")).to_have_text(rub(balance["outstanding"]))

    call_day = remind(desk, date.fromisoformat(invoice_a["due_on"]))
    calls = f"/?on={call_day.isoformat()}"  # the manager's call list for that day
    call_a = manager.locator(f"#calls li[data-invoice='{invoice_a['number']}']")
    call_b = manager.locator(f"#calls li[data-invoice='{invoice_b['number']}']")
    manager.goto(calls)
    reload_until(manager, lambda: call_a.count() == 1 and call_b.count() == 1)
    expect(call_a).to_contain_text(paying)
    expect(call_a).to_contain_text(rub(invoice_a["outstanding"]))

    # B promises to pay three days later: the call is parked until then, billing notes it
    promised = call_day + timedelta(days=3)
    call_b.locator("input[name=promised_on]").fill(promised.isoformat())
    call_b.locator("button[value=promised]").click()
    expect(manager.get_by_test_id("flash")).to_have_text("Звонок записан.")
    expect(call_b).to_have_count(0)
    expect(call_a).to_have_count(1)
    history = httpx.get(f"{system.urls['billing']}/api/invoices/{invoice_b['id']}/dunning",
                        headers=api_token(system, "billing")).json()
    assert promised.isoformat() in str(history), history

    # billing records A's payment from the period's unpaid list
    desk.goto(f"/billing?period={period.strftime('%Y-%m')}")
    unpaid = desk.locator(f"#unpaid tr[data-invoice='{invoice_a['number']}']")
    expect(unpaid).to_be_visible()
    unpaid.locator("a", has_text="Оплата").click()
    expect(desk.locator("input[name=amount]")).to_have_value(invoice_a["outstanding"])
    desk.fill("input[name=reference]", "п/п 4711")
    desk.click("form[action='/billing/payments'] button[type=submit]")
    expect(desk.get_by_test_id("flash")).to_have_text("Оплата записана.")
    desk.goto(f"/billing?period={period.strftime('%Y-%m')}")
    expect(desk.locator(f"#paid tr[data-invoice='{invoice_a['number']}']")).to_be_visible()

    # the paid invoice's reminder closes by itself; the card shows it paid
    manager.goto(calls)
    reload_until(manager, lambda: call_a.count() == 0)
    manager.goto(f"/clients/{a['client_id']}")
    expect(manager.locator(f"#invoices tr[data-invoice='{invoice_a['number']}']")
           .get_by_test_id("invoice-status")).to_have_text("оплачен")


def test_a_failing_invoice_run_period_is_refused_inline(browsing: Browsing) -> None:
    desk = browsing.logged_in("billing")
    desk.goto("/billing/runs/new")
    desk.evaluate("document.querySelector('input[name=period]').type = 'text'")
    desk.fill("input[name=period]", "2026-13")
    desk.click("main form[action='/billing/runs'] button[type=submit]")
    expect(desk.locator(".field-error[data-field=period]")).to_be_visible()
