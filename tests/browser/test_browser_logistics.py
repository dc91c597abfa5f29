"""The logistics desk in the browser against the whole system: the logistics user receives
goods, ships them to a client's site (client → site → lines → carrier), dispatches them,
is refused a delivery dated before shipping (at the date field, in Russian), marks them
delivered; the UPD it expects goes out for signature (the client card shows both) and comes
back signed. The document-courier journal shows overdue originals first, and a returned
original drops out of the overdue ones.

``CLIENTOPS_SHOTS=1`` also saves a full-page screenshot of each page to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import ARTIFACTS, PHONE, Browsing, api_token
from .helpers import inn10

pytestmark = pytest.mark.browser


def shot(page: Page, name: str) -> None:
    if os.environ.get("CLIENTOPS_SHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"logistics-{name}.png"), full_page=True)


def ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def pick_client(page: Page, search: str, client_id: str) -> None:
    """The forms' client picker: search by name, choose from what was found."""
    page.locator("input[name=q]").fill(search)
    page.locator("form[role=search] button").click()
    page.locator("#client-pick select[name=client_id]").select_option(client_id)
    page.locator("#client-pick button").click()


def client_with_site(system: System, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A client and its site in contracts, once logistics has heard of the client."""
    auth = api_token(system, "manager1")
    r = httpx.post(f"{system.urls['contracts']}/api/clients", headers=auth, json={
        "name": f"ООО «Склад-Тест {suffix}»", "inn": inn10(), "email": f"{suffix}@example.ru",
        "manager": "manager1"})
    assert r.status_code == 201, r.text
    client = dict(r.json())
    r = httpx.post(f"{system.urls['contracts']}/api/clients/{client['id']}/sites", headers=auth,
                   json={"name": f"Парковка {suffix}", "address": "Москва, Тверская, 7",
                         "access_points": 1})
    assert r.status_code == 201, r.text
    logistics = api_token(system, "logistics")
    eventually(lambda: any(c["client_id"] == client["id"] for c in httpx.get(
        f"{system.urls['logistics']}/api/clients", headers=logistics,
        params={"limit": 500}).json()), timeout=30)
    return client, dict(r.json())


def test_logistics_receives_goods_ships_them_and_marks_them_delivered(
        browsing: Browsing, system: System) -> None:
    suffix = uuid.uuid4().hex[:6]
    client, site = client_with_site(system, suffix)
    sku, name = f"CTL-{suffix}", f"Контроллер доступа {suffix}"
    r = httpx.post(f"{system.urls['logistics']}/api/items",
                   headers=api_token(system, "logistics"),
                   json={"sku": sku, "name": name, "kind": "controller", "tracking": "count"})
    assert r.status_code == 201, r.text

    desk = browsing.logged_in("logistics")
    desk.click("header nav >> text=Логистика")
    expect(desk.locator("main h1")).to_have_text("Склад")
    desk.click("text=Приход товара")
    form = desk.locator("#stock-form")
    form.locator("select[name=item]").select_option(sku)
    form.locator("input[name=quantity]").fill("-2")
    form.locator("select[name=location]").select_option("warehouse")
    form.locator("button[type=submit]").click()
    # the API's 422 at the quantity, in Russian; what was chosen stays chosen
    expect(desk.locator(".field-error[data-field=quantity]")).to_have_text(
        "Количество должно быть больше нуля.")
    expect(form.locator("select[name=item]")).to_have_value(sku)
    form.locator("input[name=quantity]").fill("3")
    form.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Поступление записано.")
    row = desk.locator(f"#stock tbody[data-location=warehouse] tr[data-item='{sku}']")
    expect(row).to_contain_text(name)
    expect(row.get_by_test_id("available")).to_have_text("3")
    shot(desk, "stock")

    # a shipment: client → site → lines → carrier
    desk.click("nav.tabs >> text=Отгрузки")
    desk.click("text=Новая отгрузка")
    pick_client(desk, f"Склад-Тест {suffix}", client["id"])
    form = desk.locator("#shipment-form")
    expect(desk.get_by_test_id("client")).to_have_text(client["name"])
    form.locator("select[name=site_id]").select_option(site["id"])
    form.locator("select[name='lines.0.item']").select_option(sku)
    form.locator("input[name='lines.0.quantity']").fill("2")
    form.locator("select[name=carrier]").select_option("dostavista")
    form.locator("input[name=ships_on]").fill(business_today().isoformat())
    form.locator("input[name=contact_name]").fill("Петров Пётр")
    shot(desk, "shipment-form")
    form.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Отгрузка создана, товар зарезервирован.")
    card = desk.locator("#board article.shipment", has_text=client["name"])
    expect(card).to_have_count(1)
    expect(desk.locator("section[data-column=planned] article.shipment",
                        has_text=client["name"])).to_have_count(1)
    expect(card).to_contain_text(f"{name} × 2")
    expect(card.get_by_test_id("shipment-status")).to_have_text("Запланирована")

    # the reservation shows on the stock page: 3 on hand, 2 reserved, 1 available
    stock = browsing.tab(desk)
    stock.goto("/logistics")
    reserved = stock.locator(f"#stock tbody[data-location=warehouse] tr[data-item='{sku}']")
    expect(reserved.get_by_test_id("reserved")).to_have_text("2")
    expect(reserved.get_by_test_id("available")).to_have_text("1")

    # the dates agreed with the client, the carrier's price
    card.locator("details.dates summary").click()
    card.locator("input[name=arrival_on]").fill((business_today() - timedelta(days=2)).isoformat())
    card.locator("button", has_text="Записать даты").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Даты отгрузки записаны.")
    expect(card).to_contain_text(ru(business_today() - timedelta(days=2)))
    card.locator("details.dates summary").click()
    card.locator("button", has_text="Узнать цену у перевозчика").click()
    expect(desk.get_by_test_id("notice")).to_contain_text("Цена у перевозчика:")
    shot(desk, "shipments-planned")

    shipped_on = business_today() - timedelta(days=1)
    card.locator("input[name=shipped_on]").fill(shipped_on.isoformat())
    card.locator("button", has_text="Отгрузить").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Отгрузка передана перевозчику.")
    moving = desk.locator("section[data-column=in_transit] article.shipment",
                          has_text=client["name"])
    expect(moving.get_by_test_id("shipment-status")).to_have_text("В пути")
    expect(moving.get_by_test_id("tracking")).not_to_be_empty()
    expect(moving).to_contain_text("Достависта")
    shot(desk, "shipments-in-transit")

    # delivered before it was shipped: refused at the card's date field
    moving.locator("input[name=delivered_on]").fill(
        (shipped_on - timedelta(days=1)).isoformat())
    moving.locator("input[name=received_by]").fill("Петров П. П.")
    moving.locator("button", has_text="Доставлено").click()
    expect(moving.locator(".field-error[data-field=delivered_on]")).to_have_text(
        f"Доставка не может быть раньше отгрузки ({ru(shipped_on)}).")
    expect(moving.locator("input[name=received_by]")).to_have_value("Петров П. П.")
    moving.locator("input[name=delivered_on]").fill(business_today().isoformat())
    moving.locator("button", has_text="Доставлено").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Доставка отмечена.")
    done = desk.locator("section[data-column=delivered] article.shipment",
                        has_text=client["name"])
    expect(done.get_by_test_id("shipment-status")).to_have_text("Доставлена")
    expect(done.get_by_test_id("delivered-on")).to_have_text(
        f"{ru(business_today())}, принял Петров П. П.")
    shot(desk, "shipments")

    # the goods left the warehouse: 1 there, 2 at the client's site
    stock.reload()
    expect(reserved.get_by_test_id("on-hand")).to_have_text("1")
    expect(reserved.get_by_test_id("reserved")).to_have_text("0")
    expect(stock.locator(f"#stock tbody[data-location=client_site] tr[data-item='{sku}'] "
                         "[data-testid=on-hand]")).to_have_text("2")

    # the delivered shipment expects its UPD: sent to the client, out for signature
    desk.click("nav.tabs >> text=Закрывающие документы")
    upd = desk.locator("#closing tr", has_text=client["name"])
    expect(upd).to_contain_text("УПД")
    expect(upd.get_by_test_id("closing-status")).to_have_text("Ожидается")
    upd.locator("input[name=number]").fill(f"УПД-{suffix}")
    upd.locator("input[name=amount]").fill("двенадцать")
    upd.locator("button", has_text="Отправлен").click()
    expect(upd.locator(".field-error[data-field=amount]")).to_have_text(
        "Введите сумму, например 12 500,00.")
    upd.locator("input[name=amount]").fill("24 000,00")
    upd.locator("button", has_text="Отправлен").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Документ отмечен отправленным клиенту.")
    expect(upd.get_by_test_id("closing-status")).to_have_text("Отправлен клиенту")
    expect(upd).to_contain_text(f"УПД № УПД-{suffix}")
    shot(desk, "closing")

    # the client card shows the shipment and the UPD out for signature (its manager reads)
    manager = browsing.logged_in("manager1")
    manager.goto(f"/clients/{client['id']}")
    panel = manager.locator("#logistics")
    expect(panel.get_by_test_id("client-shipment-status")).to_contain_text("Доставлена")
    expect(panel).to_contain_text(f"{name} × 2")
    expect(panel.locator("#client-documents")).to_contain_text(f"УПД № УПД-{suffix}")
    shot(manager, "client-card")

    # signed: no longer awaiting signature, and off the client card's list
    upd.locator("button", has_text="Подписан").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Документ подписан клиентом.")
    expect(upd).to_have_count(0)
    desk.goto("/logistics/closing-documents?show=all")
    expect(upd.get_by_test_id("closing-status")).to_have_text("Подписан клиентом")
    manager.reload()
    expect(panel.get_by_test_id("client-shipment-status")).to_contain_text("Доставлена")
    expect(panel.locator("#client-documents")).to_have_count(0)

    # the board fits a phone: the columns stack, nothing wider than the screen
    phone = browsing.logged_in("logistics", PHONE)
    phone.goto("/logistics/shipments")
    expect(phone.locator("section[data-column=delivered] article.shipment",
                         has_text=client["name"])).to_be_visible()
    for url in ("/logistics/shipments", "/logistics", "/logistics/courier"):
        phone.goto(url)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (url, width)


def delivery(system: System, client_id: str, title: str, delivered: date | None
             ) -> dict[str, Any]:
    """A request registered, handed to a courier and (if ``delivered``) delivered then: with
    no due date of its own, its originals are due ten days after delivery."""
    auth = api_token(system, "logistics")
    base = f"{system.urls['logistics']}/api/document-deliveries"
    r = httpx.post(base, headers=auth, json={"client_id": client_id, "documents": [title]})
    assert r.status_code == 201, r.text
    created = dict(r.json())
    if delivered:
        handed = httpx.post(f"{base}/{created['id']}/handed", headers=auth, json={
            "courier": "Сидоров", "courier_kind": "courier",
            "handed_on": (delivered - timedelta(days=1)).isoformat()})
        assert handed.status_code == 200, handed.text
        done = httpx.post(f"{base}/{created['id']}/delivered", headers=auth,
                          json={"delivered_on": delivered.isoformat()})
        assert done.status_code == 200, done.text
    return created


def test_the_courier_journal_shows_overdue_originals_first(browsing: Browsing,
                                                           system: System) -> None:
    suffix = uuid.uuid4().hex[:6]
    client, _ = client_with_site(system, suffix)
    today = business_today()
    # the late one in the middle of the journal: neither journal order puts it first
    first = delivery(system, client["id"], f"Договор № 1-{suffix}", today - timedelta(days=2))
    late = delivery(system, client["id"], f"Договор № 2-{suffix}", today - timedelta(days=20))
    last = delivery(system, client["id"], f"Договор № 3-{suffix}", None)

    desk = browsing.logged_in("logistics")
    desk.goto("/logistics/courier")
    rows = desk.locator("#journal tbody tr")
    numbers = rows.evaluate_all("rs => rs.map(r => r.dataset.journal)")
    ours = [n for n in numbers if n in (first["journal_number"], late["journal_number"],
                                        last["journal_number"])]
    assert ours[0] == late["journal_number"], ours
    late_row = desk.locator(f"#journal tr[data-journal='{late['journal_number']}']")
    expect(late_row.get_by_test_id("overdue")).to_contain_text(
        ru(today - timedelta(days=10)))
    expect(late_row.get_by_test_id("overdue")).to_contain_text("просрочено")
    expect(desk.locator(f"#journal tr[data-journal='{first['journal_number']}'] "
                        "[data-testid=overdue]")).to_have_count(0)
    shot(desk, "courier")

    # a new request through the form: client picker, documents one per line
    desk.click("text=Новая заявка")
    pick_client(desk, f"Склад-Тест {suffix}", client["id"])
    form = desk.locator("#request-form")
    # nothing to deliver and a date past the bounds: both said at their fields
    form.locator("input[name=originals_due_on]").fill("2099-01-01")
    form.locator("button[type=submit]").click()
    expect(desk.locator(".field-error[data-field=documents]")).to_have_text(
        "Добавьте хотя бы одну строку.")
    expect(desk.locator(".field-error[data-field=originals_due_on]")).to_contain_text(
        "Дата вне допустимого диапазона (01.01.2000 — ")
    form.locator("textarea[name=documents]").fill(f"Акт за ноябрь {suffix}\nУПД {suffix}")
    form.locator("input[name=originals_due_on]").fill((today + timedelta(days=14)).isoformat())
    shot(desk, "courier-form")
    form.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("flash")).to_contain_text(
        "Заявка на доставку документов зарегистрирована. Номер в журнале: ДД-")
    expect(desk.locator("#journal tr", has_text=f"Акт за ноябрь {suffix}")).to_contain_text(
        "Зарегистрирована")

    # the late originals come back: no longer overdue
    late_row.locator("input[name=returned_on]").fill(today.isoformat())
    late_row.locator("button", has_text="Оригиналы вернулись").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Возврат оригиналов отмечен.")
    expect(late_row.get_by_test_id("delivery-status")).to_have_text("Оригиналы возвращены")
    expect(late_row.get_by_test_id("overdue")).to_have_count(0)

    # the client card lists what is still out, and not what came back
    card = browsing.logged_in("manager1")
    card.goto(f"/clients/{client['id']}")
    docs = card.locator("#client-documents")
    expect(docs.locator(f"li[data-journal='{first['journal_number']}']")).to_have_count(1)
    expect(docs.locator(f"li[data-journal='{late['journal_number']}']")).to_have_count(0)
