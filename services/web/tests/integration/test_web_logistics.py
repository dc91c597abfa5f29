"""The logistics desk in-process against a stand-in logistics (and contracts) API: what the
pages send and what they make of the answers — stock grouped by location with names, not
codes; receipts with serial numbers and the API's 422/409 shown at the field in Russian; the
shipment form's pickers (client → site → lines → carrier) and a line's error on the row the
person typed; the board's columns with the carrier's status and tracking number; delivery
before shipping refused at the card's date; the document-courier journal with overdue
originals first; the client card's logistics part; the desk when logistics is down."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from clientops_shared.jobs import business_today

from . import test_web_back_office as back_office
from .test_web_back_office import StandIns, ok
from .test_web_pages import csrf, log_in

pytestmark = pytest.mark.integration
web = back_office.web  # the same stand-in services fixture

Web = tuple[httpx.AsyncClient, StandIns]

ITEMS = [
    {"sku": "BAR-DH", "name": "Шлагбаум DOORHAN Barrier PRO", "kind": "barrier",
     "kind_label": "Шлагбаум", "tracking": "serial", "tracking_label": "по серийным номерам",
     "min_stock": 1},
    {"sku": "CTL-2", "name": "Контроллер доступа", "kind": "controller",
     "kind_label": "Контроллер", "tracking": "count", "tracking_label": "по количеству",
     "min_stock": 5},
]
LOCATIONS = [{"code": "warehouse", "name": "Склад (БП Румянцево)", "kind": "warehouse"},
             {"code": "office", "name": "Офис", "kind": "office"},
             {"code": "in_transit", "name": "В пути", "kind": "in_transit"},
             {"code": "client_site", "name": "На объекте клиента", "kind": "client_site"}]
CARRIERS = [{"code": "dostavista", "label": "Достависта (курьер по Москве)", "large": False},
            {"code": "truck", "label": "Грузовой транспорт (шлагбаумы, стрелы, турникеты)",
             "large": True}]


def reference(services: StandIns) -> None:
    services.on("GET", "/api/items", ok(ITEMS))
    services.on("GET", "/api/locations", ok(LOCATIONS))
    services.on("GET", "/api/carriers", ok(CARRIERS))


def errors_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" data-field="([^"]+)">([^<]+)</small>',
                           html))


async def test_stock_by_location_and_a_receipt_refused_then_recorded(web: Web) -> None:
    client, services = web
    reference(services)
    services.on("GET", "/api/stock", ok([
        {"item": "CTL-2", "item_name": "Контроллер доступа", "kind": "controller",
         "kind_label": "Контроллер", "location": "office", "location_name": "Офис",
         "on_hand": 2, "reserved": 0, "available": 2, "min_stock": 5, "low": True},
        {"item": "BAR-DH", "item_name": "Шлагбаум DOORHAN Barrier PRO", "kind": "barrier",
         "kind_label": "Шлагбаум", "location": "warehouse",
         "location_name": "Склад (БП Румянцево)", "on_hand": 3, "reserved": 1,
         "available": 2, "min_stock": 1, "low": False}]))
    services.on("GET", "/api/stock/reservations", ok([
        {"id": str(uuid.uuid4()), "item": "BAR-DH", "item_name": "Шлагбаум DOORHAN Barrier PRO",
         "location": "warehouse", "quantity": 1, "serials": ["DH-0001"], "work_order_id": None,
         "shipment_id": str(uuid.uuid4()), "status": "active", "status_label": "Активен",
         "created_at": "2026-12-14T09:00:00Z"}]))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "serials", "message": "серийный номер DH-0001 уже на складе"},
            {"field": "location", "type": "enum",
             "message": "Input should be 'warehouse', 'office', 'in_transit' or 'client_site'"}
        ]}),
        httpx.Response(201, json={"move_id": str(uuid.uuid4()), "item": "BAR-DH",
                                  "location": "warehouse", "quantity": 2})])
    services.on("POST", "/api/stock/receipts", lambda request: next(answers))
    await log_in(client, "logistics")

    page = await client.get("/logistics")
    assert page.status_code == 200
    html = page.text
    # the warehouse first (the locations' own order), each under its name, never its code
    assert re.findall(r'<tbody data-location="([^"]+)">', html) == ["warehouse", "office"]
    assert '<tr class="group-head"><th colspan="6">Склад (БП Румянцево)</th></tr>' in html
    row = re.search(r'<tr data-item="BAR-DH">(.*?)</tr>', html, re.S)
    assert row is not None
    assert re.findall(r'data-testid="(on-hand|reserved|available)">(?:<strong>)?(\d+)',
                      row.group(1)) == [("on-hand", "3"), ("reserved", "1"), ("available", "2")]
    assert "Ниже минимального остатка: Контроллер доступа." in html
    assert "DH-0001" in html and "отгрузка" in html  # the reservation and what it is for
    assert [r.url.params.get("status") for r in services.seen
            if r.url.path == "/api/stock/reservations"] == ["active"]

    form = await client.get("/logistics/stock/receive")
    assert '<option value="BAR-DH">Шлагбаум DOORHAN Barrier PRO · Шлагбаум · по серийным №' \
           '</option>' in form.text
    assert '<option value="warehouse" selected>Склад (БП Румянцево)</option>' in form.text
    values = {"csrf_token": csrf(form.text), "item": "BAR-DH", "quantity": "",
              "serials": "DH-0001\nDH-0002", "location": "warehouse", "note": ""}
    refused = await client.post("/logistics/stock/receive", data=values)
    assert refused.status_code == 422
    assert services.sent("POST", "/api/stock/receipts") == [
        {"item": "BAR-DH", "serials": ["DH-0001", "DH-0002"], "location": "warehouse"}]
    assert errors_of(refused.text) == {"serials": "Серийный номер DH-0001 уже на складе.",
                                       "location": "Выберите значение из списка."}
    assert "DH-0001\nDH-0002</textarea>" in refused.text  # what was typed stays

    values["serials"] = "DH-0002, DH-0003"
    done = await client.post("/logistics/stock/receive", data=values)
    assert done.status_code == 303 and done.headers["location"] == "/logistics?flash=received"
    assert services.sent("POST", "/api/stock/receipts")[-1]["serials"] == ["DH-0002", "DH-0003"]


async def test_a_move_that_would_go_negative_is_said_at_the_quantity(web: Web) -> None:
    client, services = web
    reference(services)
    services.on("POST", "/api/stock/moves", ok({
        "type": "about:blank", "title": "Conflict", "status": 409,
        "detail": "недостаточно товара «Контроллер доступа» (CTL-2) на месте «Офис»: "
                  "доступно 2, нужно 3", "item": "CTL-2"}, status=409))
    await log_in(client, "logistics")
    form = await client.get("/logistics/stock/move", params={"item": "CTL-2",
                                                            "location": "office"})
    assert '<option value="CTL-2" selected>' in form.text
    assert '<select name="from_location">' in form.text
    refused = await client.post("/logistics/stock/move", data={
        "csrf_token": csrf(form.text), "item": "CTL-2", "quantity": "3", "serials": "",
        "from_location": "office", "to_location": "warehouse", "reason": "transfer"})
    assert refused.status_code == 409
    assert services.sent("POST", "/api/stock/moves") == [
        {"item": "CTL-2", "quantity": 3, "from_location": "office",
         "to_location": "warehouse", "reason": "transfer"}]
    assert errors_of(refused.text) == {"quantity": (
        "Недостаточно товара «Контроллер доступа» (CTL-2) на месте «Офис»: доступно 2, "
        "нужно 3.")}


async def test_a_serial_tracked_item_is_reserved_by_ticking_its_serials(web: Web) -> None:
    client, services = web
    reference(services)
    services.on("GET", "/api/stock/serials", ok([
        {"item": "BAR-DH", "serial": sn, "location": "warehouse",
         "location_name": "Склад (БП Румянцево)", "state": "in_stock",
         "state_label": "На складе"} for sn in ("DH-0001", "DH-0002")]))
    services.on("POST", "/api/stock/reservations", ok(
        {"id": str(uuid.uuid4()), "status": "active"}, status=201))
    await log_in(client, "logistics")
    form = await client.get("/logistics/stock/reserve", params={"item": "BAR-DH",
                                                               "location": "warehouse"})
    assert [(r.url.params.get("item"), r.url.params.get("location"), r.url.params.get("state"))
            for r in services.seen if r.url.path == "/api/stock/serials"] == [
        ("BAR-DH", "warehouse", "in_stock")]
    assert re.findall(r'name="picked" value="([^"]+)"', form.text) == ["DH-0001", "DH-0002"]
    done = await client.post("/logistics/stock/reserve", data={
        "csrf_token": csrf(form.text), "item": "BAR-DH", "quantity": "", "serials": "",
        "picked": ["DH-0002"], "location": "warehouse", "note": "под монтаж"})
    assert done.headers["location"] == "/logistics?flash=reserved"
    assert services.sent("POST", "/api/stock/reservations") == [
        {"item": "BAR-DH", "serials": ["DH-0002"], "location": "warehouse",
         "note": "под монтаж"}]
    # a counted item has no serials to tick: nothing is asked
    await client.get("/logistics/stock/reserve", params={"item": "CTL-2"})
    assert len([r for r in services.seen if r.url.path == "/api/stock/serials"]) == 1


CLIENT_ID = str(uuid.uuid4())
SITE_ID = str(uuid.uuid4())


def shipment(status: str, number: str, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "number": number, "client_id": CLIENT_ID,
            "client_name": "ООО «Ромашка»", "site_id": SITE_ID, "work_order_id": None,
            "carrier": "dostavista", "carrier_label": "Достависта (курьер по Москве)",
            "status": status, "status_label": {"planned": "Запланирована",
                                               "in_transit": "В пути",
                                               "delivered": "Доставлена"}[status],
            "carrier_status": None, "carrier_status_label": None, "tracking_number": None,
            "tracking_url": None, "price": None, "arrival_on": None, "ships_on": None,
            "shipped_on": None, "delivered_on": None, "received_by": None,
            "lines": [{"item": "CTL-2", "item_name": "Контроллер доступа", "quantity": 2,
                       "serials": []}], **extra}


async def test_the_shipment_form_picks_client_site_items_and_carrier(web: Web) -> None:
    client, services = web
    reference(services)
    services.on("GET", "/api/clients", ok([{"id": CLIENT_ID, "name": "ООО «Ромашка»",
                                            "inn": "7707083893"}]))
    services.on("GET", f"/api/clients/{CLIENT_ID}", ok({"id": CLIENT_ID,
                                                        "name": "ООО «Ромашка»",
                                                        "inn": "7707083893"}))
    services.on("GET", f"/api/clients/{CLIENT_ID}/sites", ok([
        {"id": SITE_ID, "client_id": CLIENT_ID, "name": "Офис на Тверской",
         "address": "Москва, Тверская, 1", "access_points": 1, "server_format": "cloud"}]))
    services.on("GET", "/api/stock", ok([
        {"item": "CTL-2", "item_name": "Контроллер доступа", "location": "warehouse",
         "on_hand": 4, "reserved": 0, "available": 4, "low": False}]))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "lines.0.quantity", "type": "greater_than",
             "message": "Input should be greater than 0"}]}),
        httpx.Response(201, json={"id": str(uuid.uuid4()), "number": "ОТГ-2026/0007",
                                  "status": "planned"})])
    services.on("POST", "/api/shipments", lambda request: next(answers))
    await log_in(client, "logistics")

    step1 = await client.get("/logistics/shipments/new", params={"q": "Ромаш"})
    assert [r.url.params.get("q") for r in services.seen
            if r.url.path == "/api/clients"] == ["Ромаш"]
    assert f'<option value="{CLIENT_ID}">ООО «Ромашка» · ИНН 7707083893</option>' in step1.text
    step2 = await client.get("/logistics/shipments/new", params={"client_id": CLIENT_ID})
    html = step2.text
    assert f'<option value="{SITE_ID}">Офис на Тверской, Москва, Тверская, 1</option>' in html
    assert '<option value="CTL-2">Контроллер доступа · Контроллер · доступно 4</option>' in html
    assert '<option value="truck">Грузовой транспорт (шлагбаумы, стрелы, турникеты)' \
           '</option>' in html
    values = {"csrf_token": csrf(html), "client_id": CLIENT_ID, "site_id": SITE_ID,
              "carrier": "dostavista", "ships_on": "2026-12-20", "arrival_on": "",
              "contact_name": "Иванов", "contact_phone": "", "address": "",
              "lines.0.item": "", "lines.0.quantity": "",  # a blank row is skipped
              "lines.1.item": "CTL-2", "lines.1.quantity": "0"}
    refused = await client.post("/logistics/shipments/new", data=values)
    assert refused.status_code == 422
    assert services.sent("POST", "/api/shipments") == [{
        "client_id": CLIENT_ID, "site_id": SITE_ID, "carrier": "dostavista",
        "ships_on": "2026-12-20", "contact_name": "Иванов",
        "lines": [{"item": "CTL-2", "quantity": 0}]}]
    # the API's first line is the form's second row: the error is shown there
    assert errors_of(refused.text) == {"lines.1.quantity": "Количество должно быть больше нуля."}
    assert 'name="lines.1.quantity" value="0"' in refused.text
    values["lines.1.quantity"] = "2"
    created = await client.post("/logistics/shipments/new", data=values)
    assert created.headers["location"] == "/logistics/shipments?flash=shipment"


async def test_the_board_and_delivery_before_shipping_at_the_cards_date(web: Web) -> None:
    client, services = web
    planned = shipment("planned", "ОТГ-2026/0010", ships_on="2026-12-20")
    moving = shipment("in_transit", "ОТГ-2026/0009", shipped_on="2026-12-15",
                      carrier="cdek", carrier_label="СДЭК", carrier_status="ACCEPTED",
                      carrier_status_label="Принят на склад СДЭК",
                      tracking_number="1106348756")
    done = shipment("delivered", "ОТГ-2026/0003", shipped_on="2026-12-01",
                    delivered_on="2026-12-03", received_by="Петров П. П.")
    services.on("GET", "/api/shipments", ok([done, moving, planned]))
    services.on("GET", "/api/courier-accounts", ok([
        {"carrier": "dostavista", "carrier_label": "Достависта (курьер по Москве)",
         "balance": "350.00", "threshold": "1000.00", "low": True,
         "checked_at": "2026-12-15T09:00:00Z"}]))
    services.on("POST", f"/api/shipments/{moving['id']}/delivered", ok({
        "type": "about:blank", "title": "Validation failed", "status": 422,
        "errors": [{"field": "delivered_on",
                    "message": "доставка не может быть раньше отгрузки (15.12.2026)"}]},
        status=422))
    await log_in(client, "logistics")
    board = await client.get("/logistics/shipments")
    html = board.text
    columns = {c: re.findall(r'data-shipment="([^"]+)"', body) for c, body in re.findall(
        r'<section data-column="(\w+)">(.*?)</section>', html, re.S)}
    assert columns == {"planned": ["ОТГ-2026/0010"], "in_transit": ["ОТГ-2026/0009"],
                       "delivered": ["ОТГ-2026/0003"]}
    assert '<dd data-testid="tracking">1106348756</dd>' in html
    assert '<dd data-testid="carrier-status">Принят на склад СДЭК</dd>' in html
    assert "Доставлена" in html and "03.12.2026, принял Петров П. П." in html
    assert "Мало денег на счёте «Достависта (курьер по Москве)»: 350,00\u00a0₽" in html

    # the planned one: its dates (blank ones not sent) and the carrier's price
    services.on("POST", f"/api/shipments/{planned['id']}/dates", ok({
        "type": "about:blank", "title": "Validation failed", "status": 422,
        "errors": [{"field": "ships_on", "message": "отгрузка не может быть раньше прихода "
                                                   "товара на склад (22.12.2026)"}]},
        status=422))
    services.on("POST", f"/api/shipments/{planned['id']}/quote", ok(
        {"carrier": "dostavista", "price": "1250.00", "days_min": 1, "days_max": 2}))
    dates = await client.post(f"/logistics/shipments/{planned['id']}/dates", data={
        "csrf_token": csrf(html), "arrival_on": "2026-12-22", "ships_on": ""})
    assert dates.status_code == 422
    assert services.sent("POST", f"/api/shipments/{planned['id']}/dates") == [
        {"arrival_on": "2026-12-22"}]
    planned_card = re.search(
        r'<article class="shipment" data-shipment="ОТГ-2026/0010">(.*?)</article>',
        dates.text, re.S)
    assert planned_card is not None
    assert errors_of(planned_card.group(1)) == {
        "ships_on": "Отгрузка не может быть раньше прихода товара на склад (22.12.2026)."}
    assert '<details class="dates" open>' in planned_card.group(1)
    quoted = await client.post(f"/logistics/shipments/{planned['id']}/quote",
                               data={"csrf_token": csrf(html)})
    after = await client.get(quoted.headers["location"])
    assert "Цена у перевозчика: 1\u00a0250,00\u00a0₽, в пути 1–2 дн." in after.text

    refused = await client.post(f"/logistics/shipments/{moving['id']}/delivered", data={
        "csrf_token": csrf(html), "delivered_on": "2026-12-14", "received_by": "Иванов"})
    assert refused.status_code == 422
    assert services.sent("POST", f"/api/shipments/{moving['id']}/delivered") == [
        {"delivered_on": "2026-12-14", "received_by": "Иванов"}]
    card = re.search(r'<article class="shipment" data-shipment="ОТГ-2026/0009">(.*?)</article>',
                     refused.text, re.S)
    assert card is not None
    assert errors_of(card.group(1)) == {
        "delivered_on": "Доставка не может быть раньше отгрузки (15.12.2026)."}
    assert 'value="2026-12-14" aria-invalid="true"' in card.group(1)
    assert 'value="Иванов"' in card.group(1)


def delivery(number: str, status: str, due: date | None, *, overdue: bool,
             returned: bool = False) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "journal_number": number, "client_id": CLIENT_ID,
            "client_name": "ООО «Ромашка»", "status": status,
            "status_label": {"registered": "Зарегистрирована", "handed": "Передана курьеру",
                             "delivered": "Доставлена",
                             "returned": "Оригиналы возвращены"}[status],
            "courier": "Сидоров" if status != "registered" else None,
            "courier_kind": "courier", "handed_on": "2026-12-01", "delivered_on": None,
            "originals_due_on": due.isoformat() if due else None, "overdue": overdue,
            "days_overdue": 4 if overdue else None, "reminded_on": None,
            "escalated_on": None, "accounting_on": None, "accounting_mark": None,
            "documents": [{"id": str(uuid.uuid4()), "title": f"Договор {number}",
                           "original_required": True,
                           "returned_on": "2026-12-10" if returned else None}]}


async def test_the_journal_shows_overdue_originals_first_and_marks_a_return(web: Web) -> None:
    client, services = web
    day = business_today()
    fresh = delivery("ДД-2026/0003", "delivered", day + timedelta(days=5), overdue=False)
    late = delivery("ДД-2026/0001", "delivered", day - timedelta(days=4), overdue=True)
    done = delivery("ДД-2026/0002", "returned", day - timedelta(days=9), overdue=False,
                    returned=True)
    # the order logistics gives is kept inside each part; the late ones lead regardless
    services.on("GET", "/api/document-deliveries", ok([fresh, done, late]))
    services.on("POST", f"/api/document-deliveries/{late['id']}/returned", ok(late))
    services.on("GET", f"/api/clients/{CLIENT_ID}", ok({"id": CLIENT_ID,
                                                        "name": "ООО «Ромашка»",
                                                        "inn": "7707083893"}))
    services.on("POST", "/api/document-deliveries", ok(
        {"id": str(uuid.uuid4()), "journal_number": "ДД-2026/0004"}, status=201))
    await log_in(client, "logistics")
    page = await client.get("/logistics/courier")
    html = page.text
    assert re.findall(r'<tr data-journal="([^"]+)"', html) == [
        "ДД-2026/0001", "ДД-2026/0003", "ДД-2026/0002"]
    assert "Не вернули оригиналы в срок: 1." in html
    assert f"{(day - timedelta(days=4)).strftime('%d.%m.%Y')}<br><span class=\"badge " \
           "urgent\">просрочено на 4 дн.</span>" in html
    returned = await client.post(f"/logistics/courier/{late['id']}/returned", data={
        "csrf_token": csrf(html), "returned_on": day.isoformat()})
    assert returned.headers["location"] == "/logistics/courier?flash=returned"
    assert services.sent("POST", f"/api/document-deliveries/{late['id']}/returned") == [
        {"returned_on": day.isoformat()}]

    form = await client.get("/logistics/courier/new", params={"client_id": CLIENT_ID})
    assert '<strong data-testid="client">ООО «Ромашка»</strong>' in form.text
    created = await client.post("/logistics/courier/new", data={
        "csrf_token": csrf(form.text), "client_id": CLIENT_ID,
        "documents": "Договор № 12/2026\n\nАкт за ноябрь\n", "originals_due_on": "",
        "address": "", "note": ""})
    assert services.sent("POST", "/api/document-deliveries") == [
        {"client_id": CLIENT_ID, "documents": ["Договор № 12/2026", "Акт за ноябрь"]}]
    after = await client.get(created.headers["location"])
    assert "Заявка на доставку документов зарегистрирована. Номер в журнале: ДД-2026/0004." \
           in after.text


async def test_the_client_card_loads_its_shipments_and_documents_out(web: Web) -> None:
    client, services = web
    day = business_today()
    services.on("GET", f"/api/clients/{CLIENT_ID}", ok({
        "id": CLIENT_ID, "name": "ООО «Ромашка»", "inn": "7707083893", "manager": "manager1",
        "email": "a@example.ru", "contacts": []}))
    services.on("GET", "/api/shipments", ok([shipment(
        "in_transit", "ОТГ-2026/0009", tracking_number="1106348756")]))
    services.on("GET", "/api/document-deliveries", ok([
        delivery("ДД-2026/0001", "delivered", day - timedelta(days=2), overdue=True),
        delivery("ДД-2026/0002", "returned", day, overdue=False, returned=True),
        delivery("ДД-2026/0005", "registered", None, overdue=False)]))
    await log_in(client, "manager1")
    card = await client.get(f"/clients/{CLIENT_ID}")
    assert card.status_code == 200
    assert f'hx-get="/logistics/clients/{CLIENT_ID}/panel" hx-trigger="load"' in card.text
    part = await client.get(f"/logistics/clients/{CLIENT_ID}/panel",
                            headers={"HX-Request": "true"})
    assert part.status_code == 200
    html = part.text
    assert html.lstrip().startswith('<article id="logistics"')  # the fragment, no layout
    assert [r.url.params.get("client_id") for r in services.seen
            if r.url.path in ("/api/shipments", "/api/document-deliveries")] == [CLIENT_ID] * 2
    assert 'data-shipment="ОТГ-2026/0009"' in html and "трек 1106348756" in html
    # originals still out are listed; the returned delivery and one not yet sent are not
    assert 'data-journal="ДД-2026/0001"' in html and "ДД-2026/0002" not in html
    assert "ДД-2026/0005" not in html
    assert "просрочено" in html
    assert "Новая отгрузка" not in html  # a manager reads; logistics acts


async def test_the_desk_says_logistics_is_down_and_is_only_for_its_roles(web: Web) -> None:
    client, services = web
    down = httpx.Response(503, json={"title": "Service Unavailable"})
    for path in ("/api/stock", "/api/items", "/api/locations", "/api/stock/reservations",
                 "/api/shipments", "/api/courier-accounts", "/api/document-deliveries"):
        services.on("GET", path, lambda request, r=down: r)
    await log_in(client, "logistics")
    for url in ("/logistics", "/logistics/shipments", "/logistics/courier"):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert "Сервис «Логистика» сейчас недоступен, попробуйте позже." in page.text, url
    home = await client.get("/")
    assert '<a href="/logistics">Логистика</a>' in home.text
    await client.post("/logout", data={"csrf_token": csrf(home.text)})
    await log_in(client, "billing")
    assert (await client.get("/logistics")).status_code == 403


def closing(kind: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "client_id": CLIENT_ID, "client_name": "ООО «Ромашка»",
            "kind": kind, "kind_label": {"upd": "УПД", "act": "Акт выполненных работ"}[kind],
            "status": status, "status_label": {"expected": "Ожидается",
                                               "sent": "Отправлен клиенту",
                                               "signed": "Подписан клиентом"}[status],
            "number": None, "amount": None, "shipment_id": None, "shipment_number": None,
            "work_order_id": None, "expected_on": "2026-12-10", "sent_on": None,
            "signed_on": None, "returned_on": None, "reminded_on": None,
            "escalated_on": None, "days_unsigned": None, **extra}


async def test_closing_documents_awaiting_signature_late_first_and_signed(web: Web) -> None:
    client, services = web
    calm = closing("upd", "sent", number="УПД-15", sent_on="2026-12-10", days_unsigned=2,
                   shipment_number="ОТГ-2026/0009")
    late = closing("act", "sent", number="А-7", sent_on="2026-11-20", days_unsigned=12,
                   reminded_on="2026-11-27")
    expected = closing("upd", "expected")
    signed = closing("upd", "signed", number="УПД-1", signed_on="2026-12-01")
    services.on("GET", "/api/closing-documents", ok([calm, late, expected, signed]))
    services.on("POST", f"/api/closing-documents/{expected['id']}/sent", ok({
        "type": "about:blank", "title": "Validation failed", "status": 422,
        "errors": [{"field": "amount", "type": "decimal_parsing",
                    "message": "Input should be a valid decimal"}]}, status=422))
    services.on("POST", f"/api/closing-documents/{late['id']}/signed", ok(late))
    await log_in(client, "logistics")
    page = await client.get("/logistics/closing-documents")
    html = page.text
    # awaiting signature only, the reminded one first; the signed one is under "all"
    assert re.findall(r'<tr data-document="([^"]+)"', html) == [
        late["id"], calm["id"], expected["id"]]
    assert "Ждут подписи (3)" in html
    assert "напомнили клиенту 27.11.2026" in html and "отгрузка ОТГ-2026/0009" in html
    every = await client.get("/logistics/closing-documents", params={"show": "all"})
    assert signed["id"] in every.text

    refused = await client.post(f"/logistics/closing-documents/{expected['id']}/sent", data={
        "csrf_token": csrf(html), "number": "УПД-16", "amount": "двенадцать",
        "sent_on": "2026-12-15", "show": "awaiting"})
    assert refused.status_code == 422
    assert services.sent("POST", f"/api/closing-documents/{expected['id']}/sent") == [
        {"number": "УПД-16", "amount": "двенадцать", "sent_on": "2026-12-15"}]
    row = re.search(rf'<tr data-document="{expected["id"]}">(.*?)</tr>', refused.text, re.S)
    assert row is not None and errors_of(row.group(1)) == {"amount": "Введите число."}
    assert 'value="двенадцать"' in row.group(1)

    done = await client.post(f"/logistics/closing-documents/{late['id']}/signed", data={
        "csrf_token": csrf(html), "signed_on": "2026-12-15", "show": "awaiting"})
    assert done.headers["location"] == "/logistics/closing-documents?flash=closing-signed"


async def test_documents_from_clients_are_logged_and_handed_to_accounting(web: Web) -> None:
    client, services = web
    pending = {"id": str(uuid.uuid4()), "client_id": CLIENT_ID, "client_name": "ООО «Ромашка»",
               "kind": "vat_invoice", "kind_label": "Счёт-фактура", "number": "СФ-301",
               "issued_on": "2026-12-01", "amount": "12000.00", "received_on": "2026-12-05",
               "accounting_on": None, "accounting_by": None}
    services.on("GET", "/api/received-documents", ok([pending]))
    services.on("GET", "/api/clients", ok([{"id": CLIENT_ID, "name": "ООО «Ромашка»",
                                            "inn": "7707083893"}]))
    services.on("POST", "/api/received-documents", ok({
        "type": "about:blank", "title": "Conflict", "status": 409,
        "detail": "документ уже записан"}, status=409))
    services.on("POST", "/api/received-documents/to-accounting", ok({"handed": 1}))
    await log_in(client, "logistics")
    page = await client.get("/logistics/closing-documents/received")
    html = page.text
    assert [r.url.params.get("pending") for r in services.seen
            if r.url.path == "/api/received-documents"] == ["true", "false"]
    assert "Счёт-фактура № СФ-301 от 01.12.2026" in html
    assert f'<option value="{CLIENT_ID}">ООО «Ромашка» · ИНН 7707083893</option>' in html
    refused = await client.post("/logistics/closing-documents/received", data={
        "csrf_token": csrf(html), "q": "", "client_id": CLIENT_ID, "kind": "vat_invoice",
        "number": "СФ-301", "issued_on": "2026-12-01", "amount": "12 000,00",
        "received_on": "2026-12-05"})
    assert refused.status_code == 409
    assert services.sent("POST", "/api/received-documents")[0]["amount"] == "12000.00"
    assert errors_of(refused.text) == {"number": "Этот документ уже записан в реестр."}
    handed = await client.post("/logistics/closing-documents/received/to-accounting", data={
        "csrf_token": csrf(html), "documents": [pending["id"]], "handed_on": "2026-12-15"})
    assert services.sent("POST", "/api/received-documents/to-accounting") == [
        {"documents": [pending["id"]], "handed_on": "2026-12-15"}]
    after = await client.get(handed.headers["location"])
    assert "Передано в бухгалтерию: 1." in after.text


SUPPLIER_ID = str(uuid.uuid4())


def order(number: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "number": number, "supplier_id": SUPPLIER_ID,
            "supplier_name": "ООО «Шлагбаумы Оптом»", "status": status,
            "status_label": {"ordered": "Заказан", "invoiced": "Счёт получен",
                             "received": "Товар получен"}[status],
            "expected_ship_on": "2026-12-20", "overdue": False, "invoice_number": None,
            "invoice_issued_on": None, "invoice_amount": None, "invoice_vat": None,
            "invoice_due_on": None, "received_on": None, "remote_acceptance": False,
            "acceptance_note": None, "attachments": [], "total": "112000.00",
            "lines": [{"item": "BAR-DH", "item_name": "Шлагбаум DOORHAN Barrier PRO",
                       "quantity": 2, "price": "56000.00"}], **extra}


async def test_purchase_orders_overdue_first_invoice_and_remote_acceptance(web: Web) -> None:
    client, services = web
    reference(services)
    calm = order("ЗП-2026/0002", "invoiced", invoice_number="1187",
                 invoice_issued_on="2026-12-10", invoice_amount="112000.00")
    late = order("ЗП-2026/0001", "ordered", expected_ship_on="2026-12-01", overdue=True)
    services.on("GET", "/api/purchase-orders", ok([calm, late]))
    services.on("GET", "/api/suppliers", ok([{"id": SUPPLIER_ID,
                                              "name": "ООО «Шлагбаумы Оптом»",
                                              "inn": "7702070139", "notes": None,
                                              "contacts": [{"name": "Ольга",
                                                            "phone": "+74951112233"}]}]))
    services.on("GET", "/api/prices", ok([
        {"supplier_id": SUPPLIER_ID, "supplier_name": "ООО «Шлагбаумы Оптом»",
         "item": "BAR-DH", "item_name": "Шлагбаум DOORHAN Barrier PRO", "price": "56000.00",
         "previous_price": "50000.00", "change_percent": "12.0", "valid_from": "2026-06-01",
         "availability": "в наличии"}]))
    services.on("GET", "/api/goods-searches", ok([]))
    services.on("GET", f"/api/purchase-orders/{late['id']}", ok(late))
    services.on("POST", f"/api/purchase-orders/{late['id']}/invoice", ok({
        "type": "about:blank", "title": "Validation failed", "status": 422,
        "errors": [{"field": "vat", "message": "НДС больше суммы счёта"}]}, status=422))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "remote",
             "message": "для дистанционной приёмки приложите фото или документы"}]}),
        httpx.Response(200, json=late)])
    services.on("POST", f"/api/purchase-orders/{late['id']}/received",
                lambda request: next(answers))
    services.on("POST", f"/api/purchase-orders/{late['id']}/attachments", ok(
        {"id": str(uuid.uuid4())}, status=201))
    await log_in(client, "logistics")

    page = await client.get("/logistics/purchasing")
    html = page.text
    assert re.findall(r'<tr data-order="([^"]+)"', html) == ["ЗП-2026/0001", "ЗП-2026/0002"]
    assert re.findall(r'data-testid="po-overdue">([^<]+)<', html) == ["01.12.2026 "]
    assert "№ 1187 от 10.12.2026" in html
    assert "+12,0&nbsp;%" in html and "в наличии" in html

    form = await client.get(f"/logistics/purchasing/{late['id']}")
    assert "просрочено" in form.text
    refused = await client.post(f"/logistics/purchasing/{late['id']}/invoice", data={
        "csrf_token": csrf(form.text), "number": "1190", "issued_on": "2026-12-12",
        "amount": "1 000,00", "vat": "2 000,00", "due_on": ""})
    assert refused.status_code == 422
    assert services.sent("POST", f"/api/purchase-orders/{late['id']}/invoice") == [
        {"number": "1190", "issued_on": "2026-12-12", "amount": "1000.00", "vat": "2000.00"}]
    assert errors_of(refused.text) == {"vat": "НДС больше суммы счёта."}

    values = {"csrf_token": csrf(form.text), "received_on": "2026-12-15",
              "location": "warehouse", "remote": "on", "note": "по фото от поставщика",
              "serials.BAR-DH": "DH-0101\nDH-0102"}
    no_photo = await client.post(f"/logistics/purchasing/{late['id']}/receive", data=values)
    assert no_photo.status_code == 422
    assert errors_of(no_photo.text) == {
        "file": "Для дистанционной приёмки приложите фото или документы."}
    assert "DH-0101\nDH-0102</textarea>" in no_photo.text
    done = await client.post(f"/logistics/purchasing/{late['id']}/receive", data=values,
                             files={"file": ("накладная.pdf", b"%PDF-1.4 test",
                                             "application/pdf")})
    assert done.headers["location"] == f"/logistics/purchasing/{late['id']}?flash=goods"
    uploads = [r for r in services.seen
               if r.url.path == f"/api/purchase-orders/{late['id']}/attachments"]
    assert len(uploads) == 1 and b"%PDF-1.4 test" in uploads[0].content
    assert services.sent("POST", f"/api/purchase-orders/{late['id']}/received")[-1] == {
        "received_on": "2026-12-15", "remote": True, "location": "warehouse",
        "note": "по фото от поставщика", "serials": {"BAR-DH": ["DH-0101", "DH-0102"]}}

    history = await client.get(f"/logistics/suppliers/{SUPPLIER_ID}")
    assert history.status_code == 200
    assert [(r.url.params.get("supplier_id"), r.url.params.get("history"))
            for r in services.seen if r.url.path == "/api/prices"][-1] == (SUPPLIER_ID, "true")
    assert '<td class="num overdue" data-testid="change">+12,0&nbsp;%</td>' in history.text
    assert "Ольга" in history.text


async def test_a_purchase_order_and_a_suppliers_price_from_the_forms(web: Web) -> None:
    client, services = web
    reference(services)
    services.on("GET", "/api/suppliers", ok([{"id": SUPPLIER_ID,
                                              "name": "ООО «Шлагбаумы Оптом»",
                                              "inn": "7702070139", "contacts": [],
                                              "notes": None}]))
    services.on("GET", "/api/prices", ok([]))
    created = str(uuid.uuid4())
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "lines.0.price", "type": "value_error",
             "message": "Value error, not a decimal amount: 'много'"}]}),
        httpx.Response(201, json={"id": created, "number": "ЗП-2026/0003",
                                  "status": "ordered"})])
    services.on("POST", "/api/purchase-orders", lambda request: next(answers))
    services.on("POST", f"/api/suppliers/{SUPPLIER_ID}/prices", ok({
        "type": "about:blank", "title": "Validation failed", "status": 422,
        "errors": [{"field": "valid_from", "message": "дата вне допустимого диапазона "
                                                      "(01.01.2000 — 27.11.2031)"}]},
        status=422))
    await log_in(client, "logistics")
    form = await client.get("/logistics/purchasing/new", params={"supplier_id": SUPPLIER_ID})
    assert f'<option value="{SUPPLIER_ID}" selected>ООО «Шлагбаумы Оптом» · ИНН 7702070139' \
           in form.text
    values = {"csrf_token": csrf(form.text), "supplier_id": SUPPLIER_ID,
              "expected_ship_on": "2026-12-20", "note": "",
              "lines.0.item": "", "lines.0.quantity": "", "lines.0.price": "",
              "lines.2.item": "BAR-DH", "lines.2.quantity": "2", "lines.2.price": "много"}
    refused = await client.post("/logistics/purchasing/new", data=values)
    assert refused.status_code == 422
    assert services.sent("POST", "/api/purchase-orders") == [{
        "supplier_id": SUPPLIER_ID, "expected_ship_on": "2026-12-20",
        "lines": [{"item": "BAR-DH", "quantity": 2, "price": "много"}]}]
    assert errors_of(refused.text) == {"lines.2.price": "Введите сумму, например 12 500,00."}
    values["lines.2.price"] = "56 000,00"
    done = await client.post("/logistics/purchasing/new", data=values)
    assert done.headers["location"] == f"/logistics/purchasing/{created}?flash=ordered"
    assert services.sent("POST", "/api/purchase-orders")[-1]["lines"][0]["price"] == "56000.00"

    page = await client.get(f"/logistics/suppliers/{SUPPLIER_ID}")
    price = await client.post(f"/logistics/suppliers/{SUPPLIER_ID}/prices", data={
        "csrf_token": csrf(page.text), "item": "BAR-DH", "price": "58 000,00",
        "valid_from": "2099-01-01", "availability": ""})
    assert price.status_code == 422
    assert services.sent("POST", f"/api/suppliers/{SUPPLIER_ID}/prices") == [
        {"item": "BAR-DH", "price": "58000.00", "valid_from": "2099-01-01"}]
    assert errors_of(price.text) == {
        "valid_from": "Дата вне допустимого диапазона (01.01.2000 — 27.11.2031)."}
    assert (await client.get(f"/logistics/suppliers/{uuid.uuid4()}")).status_code == 404


async def test_a_new_supplier_with_its_contact_and_the_inn_refused_at_its_field(
        web: Web) -> None:
    client, services = web
    created = str(uuid.uuid4())
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "inn", "message": "ИНН не прошёл проверку: The number's checksum or "
                                        "check digit is invalid."},
            {"field": "contacts.0.phone", "type": "string_pattern_mismatch",
             "message": "String should match pattern '^\\\\+?[0-9 ()\\\\-]+$'"}]}),
        httpx.Response(201, json={"id": created})])
    services.on("POST", "/api/suppliers", lambda request: next(answers))
    await log_in(client, "logistics")
    form = await client.get("/logistics/suppliers/new")
    values = {"csrf_token": csrf(form.text), "name": "ООО «Турникеты»", "inn": "7702070130",
              "notes": "", "contact.name": "Ольга", "contact.role": "",
              "contact.phone": "звонить", "contact.email": ""}
    refused = await client.post("/logistics/suppliers/new", data=values)
    assert refused.status_code == 422
    assert services.sent("POST", "/api/suppliers") == [{
        "name": "ООО «Турникеты»", "inn": "7702070130",
        "contacts": [{"name": "Ольга", "phone": "звонить"}]}]
    errors = errors_of(refused.text)
    assert errors["inn"].startswith("ИНН не прошёл проверку")
    assert errors["contact.phone"] == "Неверный номер телефона."
    values.update({"inn": "7702070139", "contact.phone": "+7 495 111-22-33"})
    done = await client.post("/logistics/suppliers/new", data=values)
    assert done.headers["location"] == f"/logistics/suppliers/{created}?flash=supplier"
