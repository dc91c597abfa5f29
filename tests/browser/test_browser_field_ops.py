"""The field desks in the browser against the whole system: a dispatcher takes a work order
from draft (the head approves it on the approvals queue) to scheduled; the technician, on a
phone, reports it done with a serial and then sees it on the client's card; the head sees an
emergency visit's SLA breach on the dashboard. ``CLIENTOPS_SCREENSHOTS=1`` keeps a screenshot
of every field page in test-artifacts/ to look at."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from clientops_shared.testing import System, eventually

from .conftest import ARTIFACTS, PHONE, Browsing, api_token
from .helpers import DOCUMENT_MS, inn10

pytestmark = pytest.mark.browser
MOSCOW = ZoneInfo("Europe/Moscow")


def shot(page: Page, name: str) -> None:
    if os.environ.get("CLIENTOPS_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"field-ops-{name}.png"), full_page=True)


def client_with_a_site(system: System, label: str) -> dict[str, Any]:
    """A client of manager1 with one site, once field-ops has learnt the site from contracts'
    events (it creates orders only for sites it knows)."""
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    name = f"ООО «{label} {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "field@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]
    site = httpx.post(f"{contracts}/api/clients/{client_id}/sites", headers=auth, json={
        "name": "Парковка ТЦ", "address": "Москва, ул. Полевая, 7", "access_points": 2,
        "contact_name": "Сергей, охрана", "contact_phone": "+74951234567"})
    assert site.status_code == 201, site.text
    dispatcher = api_token(system, "dispatcher")
    eventually(lambda: httpx.get(f"{system.urls['field_ops']}/api/sites", headers=dispatcher,
                                 params={"client_id": client_id}).json())
    return {"id": client_id, "name": name, "site_id": site.json()["id"]}


def test_an_order_goes_from_draft_to_scheduled_and_the_technician_reports_it_done(
        browsing: Browsing, system: System) -> None:
    client = client_with_a_site(system, "Выезд")
    field_ops = system.urls["field_ops"]
    put = httpx.put(f"{field_ops}/api/technicians/tech1",
                    headers=api_token(system, "dispatcher"),
                    json={"username": "tech1", "full_name": "Техник 1",
                          "phone": "+79005550101"})
    assert put.status_code == 200, put.text

    # the dispatcher: client picker → the client's sites arrive → kind, what to do
    dispatcher = browsing.logged_in("dispatcher")
    dispatcher.goto("/dispatch/orders/new?q=" + client["name"])
    form = dispatcher.locator("#order-form")
    form.locator("select[name=client_id]").select_option(client["id"])
    expect(form.locator(f"select[name=site_id] option[value='{client['site_id']}']")
           ).to_have_count(1)
    form.locator("select[name=site_id]").select_option(client["site_id"])
    form.locator("select[name=kind]").select_option("install")
    form.locator("textarea[name=description]").fill("Установить терминал у въезда")
    shot(dispatcher, "new-order")
    form.locator("button[type=submit]").click()
    dispatcher.wait_for_url(re.compile(r"/dispatch/orders/[0-9a-f-]+\?flash=created"))
    order_id = dispatcher.url.split("/dispatch/orders/")[1].split("?")[0]
    expect(dispatcher.get_by_test_id("order-status")).to_have_text("ждёт согласования")
    dispatcher.goto("/dispatch")
    expect(dispatcher.locator(f"#drafts tr[data-order='{order_id}']")).to_contain_text(
        client["name"])
    shot(dispatcher, "desk")

    # the head approves it on the approvals queue: it gets its journal number
    head = browsing.logged_in("head")
    head.goto("/contracts/approvals")
    row = head.locator(f"#work-order-approvals tr[data-order='{order_id}']")
    expect(row).to_contain_text(client["name"])
    shot(head, "approvals")
    row.get_by_role("button", name="Утвердить").click()
    head.wait_for_url(re.compile(r"/contracts/approvals\?flash=wo_approved"))
    expect(head.get_by_test_id("wo-flash")).to_contain_text("утверждена")
    expect(head.locator(f"#work-order-approvals tr[data-order='{order_id}']")).to_have_count(0)

    # the dispatcher agrees the date with the site's contact and sends tech1
    dispatcher.goto(f"/dispatch/orders/{order_id}")
    expect(dispatcher.get_by_test_id("order-status")).to_have_text("утверждена")
    visit = dispatcher.locator("#visit-form")
    expect(visit.locator("input[name='site_contact.name']")).to_have_value("Сергей, охрана")
    visit.locator("input[name=visit_on]").fill(datetime.now(MOSCOW).date().isoformat())
    visit.locator("select[name=window]").select_option("09:00–12:00")
    visit.locator("select[name=technician]").select_option("tech1")
    shot(dispatcher, "schedule")
    visit.locator("button[type=submit]").click()
    dispatcher.wait_for_url(re.compile(r"flash=scheduled"))
    expect(dispatcher.get_by_test_id("order-status")).to_have_text("назначена")
    expect(dispatcher.locator("main h1")).to_contain_text(re.compile(r"№ \d{4}-\d{4}"))
    shot(dispatcher, "order")
    dispatcher.goto("/dispatch/week")
    expect(dispatcher.locator(f"#week-board tr[data-technician='tech1'] "
                              f"a[data-order='{order_id}']")).to_contain_text(client["name"])
    shot(dispatcher, "week")
    dispatcher.goto("/dispatch/journal")
    expect(dispatcher.locator(f"#journal tr[data-order='{order_id}']")).to_contain_text(
        "назначена")
    shot(dispatcher, "journal")

    # the technician, on a phone: today's visit with the address and whom to call
    tech = browsing.logged_in("tech1", PHONE)
    tech.goto("/tech")
    card = tech.locator(f"#day-0 article[data-order='{order_id}']")
    expect(card).to_contain_text("Москва, ул. Полевая, 7")
    expect(card.get_by_test_id("call")).to_have_attribute("href", "tel:+74951234567")
    act = card.get_by_test_id("act").get_attribute("href")
    assert act is not None
    pdf = tech.request.get(act, timeout=DOCUMENT_MS)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF"), pdf.status
    shot(tech, "tech-desk")
    card.get_by_role("button", name="Отчитаться").click()
    tech.wait_for_url(f"**/tech/orders/{order_id}")
    serial = f"T{uuid.uuid4().hex[:8].upper()}"
    report = tech.locator("#report form")
    report.locator("input[name=outcome][value=done]").check()
    report.locator("input[name='equipment.0.serial']").fill(serial)
    shot(tech, "tech-report")
    report.get_by_role("button", name="Отправить отчёт").click()
    tech.wait_for_url(re.compile(r"/tech\?flash=done"))
    expect(tech.get_by_test_id("flash")).to_contain_text("выполнена")
    expect(tech.locator(f"article[data-order='{order_id}']")).to_have_count(0)
    # nothing on the page is wider than the phone
    assert tech.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # the technician opens the card of the client they served: the serial stands at the site
    tech.goto(f"/clients/{client['id']}")
    expect(tech.get_by_test_id("client-name")).to_have_text(client["name"])
    expect(tech.locator(f"#equipment li[data-serial='{serial}']")).to_contain_text("терминал")
    expect(tech.locator(f"#work-orders tr[data-order='{order_id}']")).to_contain_text(
        "выполнена")
    shot(tech, "tech-card")


def test_the_head_sees_an_emergency_visits_sla_breach(browsing: Browsing,
                                                       system: System) -> None:
    client = client_with_a_site(system, "Авария")
    field_ops = system.urls["field_ops"]
    created = httpx.post(f"{field_ops}/api/work-orders", headers=api_token(system, "dispatcher"),
                         json={"client_id": client["id"], "site_id": client["site_id"],
                               "kind": "emergency", "description": "Терминал не печатает"})
    assert created.status_code == 201, created.text
    due_at = datetime.fromisoformat(created.json()["due_at"])
    # the field-ops clock, run for a moment after the window closed (a minute key of its own)
    at = due_at + timedelta(minutes=1 + uuid.uuid4().int % 500)
    clock = httpx.post(f"{field_ops}/api/jobs/clock", headers=api_token(system, "head"),
                       json={"at": at.isoformat()})
    assert clock.status_code == 200, clock.text

    head = browsing.logged_in("head")
    head.goto("/head")
    breach = head.locator(f"#sla-breaches li[data-order='{created.json()['id']}']")
    expect(breach).to_contain_text(client["name"])
    expect(breach.get_by_test_id("breach")).to_contain_text("срок нарушен")
    shot(head, "head")

    dispatcher = browsing.logged_in("dispatcher")
    dispatcher.goto("/dispatch")
    expect(dispatcher.locator(f"#sla tr[data-order='{created.json()['id']}']")).to_contain_text(
        client["name"])
    expect(dispatcher.locator(".panel-error")).to_have_count(0)
    dispatcher.goto("/dispatch/technicians")
    expect(dispatcher.locator(".panel-error")).to_have_count(0)
    httpx.put(f"{field_ops}/api/technicians/tech1", headers=api_token(system, "dispatcher"),
              json={"username": "tech1", "full_name": "Техник 1"}).raise_for_status()
    dispatcher.reload()
    expect(dispatcher.locator("#technicians tr[data-technician='tech1']")).to_contain_text(
        "Техник 1")
    shot(dispatcher, "technicians")
    dispatcher.goto("/dispatch/downtime")
    expect(dispatcher.locator(".panel-error")).to_have_count(0)
    expect(dispatcher.locator("select[name=site_id] option[value='" + client["site_id"] + "']")
           ).to_have_count(1)
    shot(dispatcher, "downtime")
    dispatcher.goto(f"/clients/{client['id']}")
    expect(dispatcher.locator(f"#work-orders tr[data-order='{created.json()['id']}']")
           ).to_contain_text("аварийный выезд")
    shot(dispatcher, "card")
