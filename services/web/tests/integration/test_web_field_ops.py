"""The field desks in-process against stand-in services (httpx MockTransport): the
dispatcher's desk, week board, journal and forms (what they send field-ops, the 422 and 409 at
the fields in Russian), the technician's phone desk and report, the head's panels, the client
card's field panel — and a technician opening the card of a client they have an order for."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from web.entrypoints.pages.framework import today
from web.formatting import MOSCOW

from .test_web_back_office import (
    StandIns,
    ok,
    web,  # noqa: F401 (the stand-ins fixture)
)
from .test_web_pages import csrf, log_in

pytestmark = pytest.mark.integration
Web = tuple[httpx.AsyncClient, StandIns]


@pytest.fixture
def field_web(web: Web) -> Web:  # noqa: F811 (the imported fixture, asked for)
    return web

CLIENT_ID, SITE_ID, OTHER_SITE = (str(uuid.uuid4()) for _ in range(3))
CLIENT = {"id": CLIENT_ID, "name": "ООО «Парковка»", "inn": "7707083893", "phone": None,
          "manager": "manager1"}
SITES = [{"id": SITE_ID, "client_id": CLIENT_ID, "name": "ТЦ Север",
          "address": "Москва, ул. Лесная, 5", "access_points": 2, "server_format": "cloud",
          "contact_name": "Охрана", "contact_phone": "+74951112233"},
         {"id": OTHER_SITE, "client_id": CLIENT_ID, "name": "Склад",
          "address": "Химки, ш. Ленинградское, 1", "access_points": 1,
          "server_format": "cloud"}]


TECHNICIANS = [{"username": "tech1", "full_name": "Техник 1", "phone": None, "active": True},
               {"username": "tech2", "full_name": "Техник 2", "phone": None, "active": True}]


def order(status: str, **values: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "journal_number": None, "kind": "install",
            "status": status, "client_id": CLIENT_ID, "site_id": SITE_ID, "visit_on": None,
            "technician": None, "due_by": None, "description": "Поставить терминал",
            **values}


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" data-field="([^"]+)">([^<]+)</small>',
                           html))


def contracts_know_the_client(services: StandIns) -> None:
    services.on("GET", f"/api/clients/{CLIENT_ID}", ok(CLIENT))
    services.on("GET", f"/api/clients/{CLIENT_ID}/sites", ok(SITES))


async def test_the_dispatchers_desk_lists_each_queue_with_names_and_the_sla_clock(
        field_web: Web) -> None:
    client, services = field_web
    now = datetime.now(UTC)
    draft = order("draft", description="Снять старый терминал")
    approved = order("approved", journal_number="2026-0007", kind="repair")
    not_done = order("not_done", journal_number="2026-0003", visit_on=today().isoformat(),
                     technician="tech1", not_done_reason="Клиент не пустил на объект",
                     reschedule_count=1)
    late = order("scheduled", kind="emergency", journal_number="2026-0004",
                 due_at=(now - timedelta(hours=3, minutes=5)).isoformat())
    soon = order("approved", kind="emergency", journal_number="2026-0005",
                 due_at=(now + timedelta(days=1, hours=2, minutes=30)).isoformat())
    services.on("GET", "/api/work-orders", lambda r: httpx.Response(200, json=(
        [soon, late] if r.url.params.get("kind") == "emergency"
        and r.url.params.get_list("status") == ["approved", "draft", "not_done", "scheduled"]
        else
        {"draft": [draft], "approved": [approved], "not_done": [not_done]}.get(
            r.url.params.get("status", ""), []))))
    services.on("GET", "/api/downtime", ok([
        {"id": "inc-long", "client_id": CLIENT_ID, "site_id": SITE_ID, "serial": "T-1",
         "source": "monitoring", "state": "open",
         "started_at": (now - timedelta(hours=30)).isoformat()},
        {"id": "inc-new", "client_id": CLIENT_ID, "site_id": SITE_ID, "serial": "T-2",
         "source": "client", "state": "cause_found", "cause": "Нет питания",
         "started_at": (now - timedelta(hours=2)).isoformat()},
        {"id": "inc-done", "client_id": CLIENT_ID, "site_id": SITE_ID, "state": "resolved",
         "source": "manual", "started_at": (now - timedelta(days=3)).isoformat()}]))
    contracts_know_the_client(services)
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch")
    assert page.status_code == 200
    html = page.text
    # each queue in its table, with the client's name and the site's address from contracts
    for table, row in (("drafts-table", draft), ("approved-table", approved),
                       ("not-done-table", not_done)):
        part = html.split(f'id="{table}"')[1].split("</table>")[0]
        assert f'data-order="{row["id"]}"' in part
        assert "ООО «Парковка»" in part and "Москва, ул. Лесная, 5" in part
    assert "Клиент не пустил на объект" in html and "переносов: 1" in html
    assert f'href="/dispatch/orders/{approved["id"]}">Назначить выезд' in html
    assert f'href="/dispatch/orders/{not_done["id"]}">Пересогласовать' in html
    # SLA clocks: the overdue one first, the time left in Russian
    sla = html.split('id="sla"')[1].split("</article>")[0]
    assert sla.index(late["id"]) < sla.index(soon["id"])
    assert re.findall(r'data-testid="sla-left"><strong>([^<]+)</strong>', sla) == [
        "просрочено на 3 ч 5 мин", "осталось 1 д 2 ч"]
    assert 'class="sla-breached"' in sla
    # open incidents only; the one over a day is marked
    downtime = html.split('id="downtime"')[1]
    assert 'data-incident="inc-long" class="sla-breached"' in downtime
    assert "больше суток" in downtime and "Нет питания" in downtime
    assert "inc-done" not in downtime
    assert "Выезды" in html.split("</nav>")[0]  # the desk is in the dispatcher's nav


async def test_a_new_work_order_picks_client_then_site_and_shows_the_422_at_the_fields(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    services.on("GET", "/api/clients", ok([CLIENT]))
    services.on("GET", "/api/contracts", ok([{"id": "c-1", "number": "А-17",
                                              "kind": "subscription", "status": "active"}]))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "description", "type": "string_too_long",
             "message": "String should have at most 4000 characters"},
            {"field": "site_id", "type": "value_error", "message": "unknown site"}]}),
        httpx.Response(201, json={"id": "wo-1", "status": "draft"})])
    services.on("POST", "/api/work-orders", lambda r: next(answers))
    await log_in(client, "dispatcher")
    form = await client.get("/dispatch/orders/new")
    assert form.status_code == 200
    assert f'<option value="{CLIENT_ID}">ООО «Парковка» · ИНН 7707083893</option>' in form.text
    assert 'name="site_id" required disabled' in form.text  # no client yet, no sites
    # picking the client swaps in its sites and contracts (an HTMX fragment, not a page)
    sites = await client.get("/dispatch/orders/new/sites", params={"client_id": CLIENT_ID},
                             headers={"HX-Request": "true"})
    assert sites.status_code == 200
    assert sites.text.lstrip().startswith('<div id="site-fields"')
    assert "<html" not in sites.text
    assert f'<option value="{SITE_ID}">ТЦ Север · Москва, ул. Лесная, 5</option>' in sites.text
    assert "А-17 · абонентский · действует" in sites.text

    # no client picked: said at the field, nothing sent
    missing = await client.post("/dispatch/orders/new", data={
        "csrf_token": csrf(form.text), "kind": "install", "description": "x"})
    assert missing.status_code == 422
    assert field_errors(missing.text) == {"client_id": "Выберите клиента."}
    assert services.sent("POST", "/api/work-orders") == []

    values = {"csrf_token": csrf(form.text), "client_id": CLIENT_ID, "site_id": SITE_ID,
              "kind": "repair", "description": "д" * 5000, "contract_id": ""}
    refused = await client.post("/dispatch/orders/new", data=values)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {"description": "Не длиннее 4000 символов.",
                                          "site_id": "unknown site"}
    assert f'<option value="{SITE_ID}" selected>' in refused.text  # the picks stay
    assert '<option value="repair" selected>' in refused.text
    created = await client.post("/dispatch/orders/new", data={
        **values, "description": "Заменить стрелу шлагбаума", "contract_id": "c-1"})
    assert created.status_code == 303
    assert created.headers["location"] == "/dispatch/orders/wo-1?flash=created"
    assert services.sent("POST", "/api/work-orders")[-1] == {
        "client_id": CLIENT_ID, "site_id": SITE_ID, "kind": "repair",
        "description": "Заменить стрелу шлагбаума", "contract_id": "c-1"}


async def test_scheduling_sends_the_contact_as_one_object_and_shows_refusals(field_web: Web
                                                                          ) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    wo = order("approved", journal_number="2026-0011", client_name="ООО «Парковка»",
               site_name="ТЦ Север", site_address="Москва, ул. Лесная, 5")
    services.on("GET", f"/api/work-orders/{wo['id']}", ok(wo))
    services.on("GET", "/api/technicians", ok(TECHNICIANS))
    services.on("GET", "/api/sites", ok([{**site, "site_id": site["id"]} for site in SITES]))
    path = f"/api/work-orders/{wo['id']}/schedule"
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "visit_on", "type": "value_error", "message": "дата выезда уже прошла"},
            {"field": "technician", "type": "value_error",
             "message": "manager1 is not a technician"}]}),
        httpx.Response(409, json={"title": "Conflict",
                                  "detail": "Нельзя назначить выезд: оборудование ещё не "
                                            "доставлено", "current_state": "approved",
                                  "awaiting_goods": True}),
        httpx.Response(200, json={"status": "scheduled"})])
    services.on("POST", path, lambda r: next(answers))
    await log_in(client, "dispatcher")
    page = await client.get(f"/dispatch/orders/{wo['id']}")
    assert page.status_code == 200
    # field-ops named the client and site: contracts is not asked
    assert not [r for r in services.seen if r.url.path.startswith("/api/clients/")]
    # the site's contact (field-ops' site list) is offered; the technician is a picker
    assert 'name="site_contact.name" value="Охрана"' in page.text
    assert 'name="site_contact.phone" value="+74951112233"' in page.text
    assert '<option value="tech1">Техник 1</option>' in page.text
    assert 'action="/dispatch/orders/' + wo["id"] + '/schedule"' in page.text
    values = {"csrf_token": csrf(page.text), "visit_on": "2020-01-01",
              "window": "09:00–12:00", "site_contact.name": "Иван",
              "site_contact.phone": "+79001234567", "technician": "tech1"}
    refused = await client.post(f"/dispatch/orders/{wo['id']}/schedule", data=values)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {"visit_on": "дата выезда уже прошла",
                                          "technician": "manager1 is not a technician"}
    assert services.sent("POST", path) == [{
        "visit_on": "2020-01-01", "window": "09:00–12:00", "technician": "tech1",
        "site_contact": {"name": "Иван", "phone": "+79001234567"}}]
    conflict = await client.post(f"/dispatch/orders/{wo['id']}/schedule", data=values)
    assert conflict.status_code == 409
    assert "Нельзя назначить выезд: оборудование ещё не доставлено" in conflict.text
    done = await client.post(f"/dispatch/orders/{wo['id']}/schedule", data=values)
    assert done.headers["location"] == f"/dispatch/orders/{wo['id']}?flash=scheduled"
    # no technician picked: the page says so and field-ops is not asked
    blank = await client.post(f"/dispatch/orders/{wo['id']}/reschedule",
                              data={**values, "technician": ""})
    assert blank.status_code == 422
    assert field_errors(blank.text) == {"technician": "Выберите техника."}
    assert len(services.sent("POST", path)) == 3


async def test_the_week_board_puts_each_visit_under_its_technician_and_day(field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    monday = today() - timedelta(days=today().weekday())
    tue = order("scheduled", technician="tech1", visit_on=(monday + timedelta(days=1))
                .isoformat(), window="12:00–15:00")
    next_week = order("scheduled", technician="tech1",
                      visit_on=(monday + timedelta(days=8)).isoformat())
    stranger = order("scheduled", technician="contractor7",
                     visit_on=(monday + timedelta(days=4)).isoformat(), kind="emergency")
    services.on("GET", "/api/work-orders", ok([tue, next_week, stranger]))
    services.on("GET", "/api/technicians", ok(TECHNICIANS))
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch/week")
    assert page.status_code == 200
    asked = [r.url.params for r in services.seen if r.url.path == "/api/work-orders"]
    assert (asked[0]["visit_from"], asked[0]["visit_to"]) == (
        monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    # the week's plan with what became of it
    assert asked[0].get_list("status") == ["scheduled", "done", "not_done"]
    rows = dict(re.findall(r'<tr data-technician="([^"]*)">(.*?)</tr>', page.text, re.S))
    # every technician, busy or not, then anyone else an order names
    assert list(rows) == ["tech1", "tech2", "contractor7"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows["tech1"], re.S)
    assert [bool(re.search(r'data-order="', c)) for c in cells] == [
        False, True, False, False, False, False, False]
    assert next_week["id"] not in page.text
    assert "12:00–15:00" in cells[1] and "Москва, ул. Лесная, 5" in cells[1]
    assert stranger["id"] in re.findall(r"<td[^>]*>(.*?)</td>", rows["contractor7"],
                                        re.S)[4]
    later = await client.get("/dispatch/week",
                             params={"start": (monday + timedelta(days=7)).isoformat()})
    assert next_week["id"] in later.text and tue["id"] not in later.text
    far = await client.get("/dispatch/week", params={"start": "9999-12-31"})
    assert far.status_code == 422


async def test_the_journal_picks_a_year_and_hands_over_field_ops_xlsx(field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    row = order("done", journal_number="2025-0001", approved_at="2025-03-02T10:00:00Z",
                visit_on="2025-03-05", technician="tech1")
    services.on("GET", "/api/journal", lambda r: (
        httpx.Response(200, content=b"PK-xlsx", headers={
            "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "content-disposition": 'attachment; filename="journal-2025.xlsx"'})
        if r.url.params.get("format") == "xlsx" else
        httpx.Response(200, json=[row] if r.url.params.get("year") == "2025" else [])))
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch/journal", params={"year": 2025})
    assert page.status_code == 200
    assert '<option value="2025" selected>' in page.text
    assert "2025-0001" in page.text and "02.03.2025" in page.text and "05.03.2025" in page.text
    assert 'href="/dispatch/journal.xlsx?year=2025"' in page.text
    empty = await client.get("/dispatch/journal", params={"year": 2024})
    assert "В 2024 году заявок в журнале нет." in empty.text
    xlsx = await client.get("/dispatch/journal.xlsx", params={"year": 2025})
    assert xlsx.status_code == 200 and xlsx.content == b"PK-xlsx"
    assert xlsx.headers["content-disposition"] == 'attachment; filename="journal-2025.xlsx"'
    bad = await client.get("/dispatch/journal", params={"year": 1900})
    assert bad.status_code == 422


async def test_the_technician_sees_today_and_tomorrow_and_reports_with_serials(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    day = today()
    mine_today = order("scheduled", technician="tech1", visit_on=day.isoformat(),
                       window="09:00–12:00", contact_name="Пётр",
                       contact_phone="+7 (900) 111-22-33", journal_number="2026-0020")
    mine_tomorrow = order("scheduled", technician="tech1", kind="remove",
                          visit_on=(day + timedelta(days=1)).isoformat(), site_id=OTHER_SITE)
    later = order("scheduled", technician="tech1",
                  visit_on=(day + timedelta(days=5)).isoformat())
    services.on("GET", "/api/work-orders", ok([later, mine_tomorrow, mine_today]))
    services.on("GET", f"/api/work-orders/{mine_today['id']}", ok(mine_today))
    report_path = f"/api/work-orders/{mine_today['id']}/report"
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "equipment.1.serial", "type": "value_error",
             "message": "serial T-9 is already installed at another site"}]}),
        httpx.Response(200, json={"status": "done"})])
    services.on("POST", report_path, lambda r: next(answers))
    await log_in(client, "tech1")
    desk = await client.get("/tech")
    assert desk.status_code == 200
    html = desk.text
    assert [r.url.params.get("technician") for r in services.seen
            if r.url.path == "/api/work-orders"] == ["tech1"]
    today_part, tomorrow_part = html.split('id="day-0"')[1].split('id="day-1"')
    assert mine_today["id"] in today_part and mine_tomorrow["id"] in tomorrow_part
    assert later["id"] not in html and "Дальше по плану: 1" in html
    assert 'href="tel:+79001112233"' in today_part and "Пётр" in today_part
    assert "Москва, ул. Лесная, 5" in today_part
    assert "Химки, ш. Ленинградское, 1" in tomorrow_part
    assert f'href="/dispatch/orders/{mine_today["id"]}/act.pdf"' in today_part
    # contracts is read for the technician under a service token in their name
    directory = [r for r in services.seen if r.url.path == f"/api/clients/{CLIENT_ID}"]
    claims = jwt.decode(directory[0].headers["authorization"].split()[1],
                        options={"verify_signature": False})
    assert (claims["sub"], claims["role"]) == ("tech1", "service")

    page = await client.get(f"/tech/orders/{mine_today['id']}")
    assert page.status_code == 200
    # an install's lines are put on the site unless the technician says taken off
    assert page.text.count('<option value="install" selected>установлен</option>') == 4
    form = {"csrf_token": csrf(page.text), "outcome": "not_done", "reason": "",
            "equipment.0.type": "terminal", "equipment.0.serial": ""}
    no_reason = await client.post(f"/tech/orders/{mine_today['id']}/report", data=form)
    assert no_reason.status_code == 422
    assert field_errors(no_reason.text) == {"reason": "Напишите, почему работы не выполнены."}
    assert services.sent("POST", report_path) == []
    form.update({"outcome": "done", "equipment.0.serial": "T-8",
                 "equipment.0.action": "install", "equipment.2.type": "barrier",
                 "equipment.2.serial": "T-9", "equipment.2.action": "remove"})
    refused = await client.post(f"/tech/orders/{mine_today['id']}/report", data=form)
    assert refused.status_code == 422
    # the API's second line is the form's third row
    assert field_errors(refused.text) == {
        "equipment.2.serial": "serial T-9 is already installed at another site"}
    assert services.sent("POST", report_path) == [{"outcome": "done", "equipment": [
        {"type": "terminal", "serial": "T-8", "action": "install"},
        {"type": "barrier", "serial": "T-9", "action": "remove"}]}]
    done = await client.post(f"/tech/orders/{mine_today['id']}/report", data=form)
    assert done.headers["location"] == "/tech?flash=done"


async def test_a_technician_reports_a_problem_and_cannot_open_another_technicians_order(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    mine = order("scheduled", technician="tech1", visit_on=today().isoformat())
    theirs = order("scheduled", technician="tech2", visit_on=today().isoformat())
    services.on("GET", f"/api/work-orders/{mine['id']}", ok(mine))
    services.on("GET", f"/api/work-orders/{theirs['id']}", ok(theirs))
    services.on("POST", f"/api/work-orders/{mine['id']}/problems",
                ok({"id": "p-1"}, status=201))
    await log_in(client, "tech1")
    page = await client.get(f"/tech/orders/{mine['id']}")
    empty = await client.post(f"/tech/orders/{mine['id']}/problem",
                              data={"csrf_token": csrf(page.text), "description": " "})
    assert empty.status_code == 422
    assert field_errors(empty.text) == {"description": "Опишите, что случилось на объекте."}
    sent = await client.post(f"/tech/orders/{mine['id']}/problem", data={
        "csrf_token": csrf(page.text), "description": "Нет питания на стойке"})
    assert sent.headers["location"] == f"/tech/orders/{mine['id']}?flash=problem"
    assert services.sent("POST", f"/api/work-orders/{mine['id']}/problems") == [
        {"description": "Нет питания на стойке"}]
    other = await client.get(f"/tech/orders/{theirs['id']}")
    assert other.status_code == 403
    desk = await client.get("/dispatch")
    assert desk.status_code == 403  # the dispatcher's desk is not theirs


async def test_a_technician_opens_the_card_only_of_a_client_they_have_orders_for(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    other_client = str(uuid.uuid4())
    mine = order("scheduled", technician="tech1", visit_on=today().isoformat())

    def orders(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("client_id")
        return httpx.Response(200, json=[mine] if wanted == CLIENT_ID else [])
    services.on("GET", "/api/work-orders", orders)
    services.on("GET", "/api/equipment", ok([
        {"type": "terminal", "serial": "T-77", "site_id": SITE_ID,
         "installed_on": "2026-10-01", "removed_on": None}]))
    services.on("GET", "/api/downtime", ok([]))
    await log_in(client, "tech1")
    card = await client.get(f"/clients/{CLIENT_ID}")
    assert card.status_code == 200
    assert "ООО «Парковка»" in card.text
    assert f'hx-get="/dispatch/panels/client/{CLIENT_ID}"' in card.text
    asked = [r for r in services.seen if r.url.path == "/api/work-orders"]
    assert asked[0].url.params["technician"] == "tech1"
    part = await client.get(f"/dispatch/panels/client/{CLIENT_ID}",
                            headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "ТЦ Север" in part.text and "терминал № T-77" in part.text
    assert f'href="/tech/orders/{mine["id"]}"' in part.text
    before = len([r for r in services.seen if r.url.path.startswith("/api/clients/")])
    refused = await client.get(f"/clients/{other_client}")
    assert refused.status_code == 403
    assert "есть его заявки" in refused.text
    # contracts was not asked for a client the technician has no order for
    assert len([r for r in services.seen if r.url.path.startswith("/api/clients/")]) == before


async def test_the_head_approves_on_the_queue_and_sees_breaches_and_long_downtimes(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    now = datetime.now(UTC)
    draft = order("draft", kind="emergency", due_by=today().isoformat())
    breached = order("scheduled", kind="emergency", journal_number="2026-0030",
                     due_at=(now - timedelta(hours=1)).isoformat(), technician="tech1")
    fine = order("scheduled", kind="emergency", journal_number="2026-0031",
                 due_at=(now + timedelta(hours=20)).isoformat())
    finished = order("done", kind="emergency", journal_number="2026-0032",
                     due_at=(now - timedelta(days=2)).isoformat())
    # field-ops' clock recorded a breach (run for a later moment): it stays on the list done
    recorded = order("done", kind="emergency", journal_number="2026-0034",
                     due_at=(now + timedelta(days=1)).isoformat(),
                     sla_breached_at=(now + timedelta(days=1, minutes=1)).isoformat())
    services.on("GET", "/api/work-orders", lambda r: httpx.Response(
        200, json=[draft] if r.url.params.get("status") == "draft"
        else [breached, fine, finished, recorded]))
    services.on("GET", "/api/sla/compliance", ok([
        {"client_id": CLIENT_ID, "client_name": "ООО «Парковка»", "total": 4, "on_time": 2,
         "breached": 1, "open": 1, "compliance_percent": 66.7},
        {"client_id": str(uuid.uuid4()), "client_name": "ИП Иванов", "total": 1,
         "on_time": 1, "breached": 0, "open": 0, "compliance_percent": 100.0}]))
    services.on("GET", "/api/downtime", ok([
        {"id": "inc-1", "client_id": CLIENT_ID, "site_id": SITE_ID, "serial": "T-5",
         "source": "monitoring", "state": "open",
         "started_at": (now - timedelta(hours=26)).isoformat()},
        {"id": "inc-2", "client_id": CLIENT_ID, "site_id": SITE_ID, "state": "open",
         "source": "monitoring", "started_at": (now - timedelta(hours=5)).isoformat()}]))
    services.on("POST", f"/api/work-orders/{draft['id']}/approve",
                ok({"status": "approved", "journal_number": "2026-0033"}))
    await log_in(client, "head")
    dashboard = await client.get("/head")
    assert 'hx-get="/dispatch/panels/head"' in dashboard.text
    panel = await client.get("/dispatch/panels/head", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    breaches = panel.text.split('id="sla-breaches"')[1].split("</article>")[0]
    assert breached["id"] in breaches and fine["id"] not in breaches
    assert finished["id"] not in breaches  # done with no breach recorded
    assert recorded["id"] in breaches and "срок нарушен (зафиксировано" in breaches
    assert breaches.index(recorded["id"]) < breaches.index(breached["id"])  # latest first
    assert "просрочено на 1 ч" in breaches and "ООО «Парковка»" in breaches
    assert [r.url.params.get("sla") for r in services.seen
            if r.url.path == "/api/work-orders" and r.url.params.get("kind")] == ["breached"]
    assert [r.url.params.get("month") for r in services.seen
            if r.url.path == "/api/sla/compliance"] == [now.astimezone(MOSCOW)
                                                        .strftime("%Y-%m")]
    assert re.search(r"вовремя 3 из 5 \(75%\), нарушено 1, в работе 1\.", breaches)
    long = panel.text.split('id="long-downtimes"')[1]
    assert "inc-1" in long and "стоит 1 д 2 ч" in long and "inc-2" not in long

    approvals = await client.get("/contracts/approvals")
    assert 'hx-get="/dispatch/panels/approvals"' in approvals.text
    queue = await client.get("/dispatch/panels/approvals")
    assert f'formaction="/dispatch/orders/{draft["id"]}/approve"' in queue.text
    assert "Снять" not in queue.text and "аварийный выезд" in queue.text
    decided = await client.post(f"/dispatch/orders/{draft['id']}/approve", data={
        "csrf_token": csrf(approvals.text), "back": "/contracts/approvals", "reason": ""})
    assert decided.headers["location"] == "/contracts/approvals?flash=wo_approved"
    assert services.sent("POST", f"/api/work-orders/{draft['id']}/approve") == [{}]
    back = await client.get("/contracts/approvals", params={"flash": "wo_approved"})
    assert 'hx-get="/dispatch/panels/approvals?flash=wo_approved"' in back.text
    flashed = await client.get("/dispatch/panels/approvals", params={"flash": "wo_approved"})
    assert "Заявка на выезд утверждена" in flashed.text

    await client.post("/logout", data={"csrf_token": csrf(approvals.text)})
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch/panels/approvals")
    assert page.status_code == 403
    refused = await client.post(f"/dispatch/orders/{draft['id']}/approve", data={
        "csrf_token": csrf((await client.get("/dispatch")).text)})
    assert refused.status_code == 403
    assert len(services.sent("POST", f"/api/work-orders/{draft['id']}/approve")) == 1


async def test_field_pages_say_when_field_ops_is_down(field_web: Web) -> None:
    client, services = field_web
    services.on("GET", "/api/work-orders", lambda r: httpx.Response(503, json={}))
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch")
    assert page.status_code == 200
    assert "Сервис «Выезды» сейчас недоступен" in page.text
    week = await client.get("/dispatch/week")
    assert week.status_code == 200 and "Сервис «Выезды» сейчас недоступен" in week.text


async def test_the_act_is_field_ops_pdf_and_the_head_decides_a_problem_on_site(
        field_web: Web) -> None:
    client, services = field_web
    contracts_know_the_client(services)
    problem_id = str(uuid.uuid4())
    wo = order("scheduled", technician="tech1", visit_on=today().isoformat(),
               journal_number="2026-0040", problems=[
                   {"id": problem_id, "description": "Нет питания на стойке",
                    "reported_by": "tech1", "reported_at": "2026-11-27T09:00:00Z",
                    "decision": None, "decided_by": None, "decided_at": None}])
    services.on("GET", f"/api/work-orders/{wo['id']}", ok(wo))
    services.on("GET", "/api/technicians", ok(TECHNICIANS))
    services.on("GET", f"/api/work-orders/{wo['id']}/act.pdf", lambda r: httpx.Response(
        200, content=b"%PDF-1.7 act", headers={"content-type": "application/pdf"}))
    services.on("POST", f"/api/problems/{problem_id}/decision", ok({"id": problem_id}))
    await log_in(client, "head")
    page = await client.get(f"/dispatch/orders/{wo['id']}")
    assert f'action="/dispatch/problems/{problem_id}/decision"' in page.text
    empty = await client.post(f"/dispatch/problems/{problem_id}/decision", data={
        "csrf_token": csrf(page.text), "back": f"/dispatch/orders/{wo['id']}",
        "decision": ""})
    assert empty.status_code == 422 and "Напишите решение." in empty.text
    decided = await client.post(f"/dispatch/problems/{problem_id}/decision", data={
        "csrf_token": csrf(page.text), "back": f"/dispatch/orders/{wo['id']}",
        "decision": "Перенести выезд, вызвать электрика"})
    assert decided.headers["location"] == f"/dispatch/orders/{wo['id']}?flash=decided"
    assert services.sent("POST", f"/api/problems/{problem_id}/decision") == [
        {"decision": "Перенести выезд, вызвать электрика"}]
    # rejecting needs a reason: said, nothing sent
    draft = order("draft")
    services.on("POST", f"/api/work-orders/{draft['id']}/reject", ok({"status": "rejected"}))
    no_reason = await client.post(f"/dispatch/orders/{draft['id']}/reject", data={
        "csrf_token": csrf(page.text), "back": "/contracts/approvals", "reason": ""})
    assert no_reason.status_code == 422 and "Напишите причину отклонения" in no_reason.text
    assert services.sent("POST", f"/api/work-orders/{draft['id']}/reject") == []

    await client.post("/logout", data={"csrf_token": csrf(page.text)})
    await log_in(client, "tech1")
    act = await client.get(f"/dispatch/orders/{wo['id']}/act.pdf")
    assert act.status_code == 200 and act.content == b"%PDF-1.7 act"
    assert act.headers["content-type"] == "application/pdf"
    refused = await client.post(f"/dispatch/problems/{problem_id}/decision", data={
        "csrf_token": csrf((await client.get("/tech")).text), "decision": "сам решу"})
    assert refused.status_code == 403
    assert len(services.sent("POST", f"/api/problems/{problem_id}/decision")) == 1


async def test_the_dispatcher_puts_a_technician_user_on_field_ops_list(field_web: Web
                                                                       ) -> None:
    client, services = field_web
    listed: list[dict[str, Any]] = []
    gone = {"username": "tech0", "full_name": "Бывший техник", "phone": None, "active": False}
    services.on("GET", "/api/technicians", lambda r: httpx.Response(
        200, json=[gone] if r.url.params.get("active") == "false" else listed))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "phone", "type": "string_pattern_mismatch",
             "message": "String should match pattern '^\\\\+?[0-9][0-9()\\\\- ]{4,30}$'"}]}),
        httpx.Response(200, json={"username": "tech1"})])
    services.on("PUT", "/api/technicians/tech1", lambda r: next(answers))
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch/technicians")
    assert page.status_code == 200
    assert '<option value="tech1">Соколов Павел</option>' in page.text  # by full name
    assert 'data-technician="tech0"' in page.text  # taken off, still listed
    bad = await client.post("/dispatch/technicians", data={
        "csrf_token": csrf(page.text), "username": "tech1", "phone": "позвонить"})
    assert bad.status_code == 422
    assert field_errors(bad.text) == {"phone": "Неверный формат."}
    saved = await client.post("/dispatch/technicians", data={
        "csrf_token": csrf(page.text), "username": "tech1", "phone": "+79001234567"})
    assert saved.headers["location"] == "/dispatch/technicians?flash=technician"
    # the name their user account has goes with them
    assert services.sent("PUT", "/api/technicians/tech1")[-1] == {
        "username": "tech1", "full_name": "Соколов Павел", "phone": "+79001234567", "active": True}
    listed.append({"username": "tech1", "full_name": "Техник 1", "phone": "+79001234567",
                   "active": True})
    after = await client.get("/dispatch/technicians")
    assert 'data-technician="tech1"' in after.text
    assert "Все пользователи с ролью «Техник» уже в списке." in after.text


async def test_downtime_is_reported_on_a_site_picker_and_worked_to_a_repair_order(
        field_web: Web) -> None:
    client, services = field_web
    now = datetime.now(UTC)
    incident = {"id": str(uuid.uuid4()), "client_id": CLIENT_ID, "client_name": "ООО «Парковка»",
                "site_id": SITE_ID, "site_name": "ТЦ Север", "serial": "T-1",
                "source": "monitoring", "state": "open", "escalated_at": now.isoformat(),
                "started_at": (now - timedelta(hours=25)).isoformat()}
    services.on("GET", "/api/downtime", ok([incident]))
    services.on("GET", "/api/sites", ok([
        {"site_id": SITE_ID, "client_id": CLIENT_ID, "client_name": "ООО «Парковка»",
         "name": "ТЦ Север", "address": "Москва, ул. Лесная, 5"}]))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "serial", "type": "value_error",
             "message": "терминал T-404 не стоит на этом объекте"}]}),
        httpx.Response(201, json={"id": "inc-2", "state": "open"})])
    services.on("POST", "/api/downtime", lambda r: next(answers))
    base = f"/api/downtime/{incident['id']}"
    services.on("POST", f"{base}/cause", ok({"id": incident["id"], "state": "cause_found"}))
    services.on("POST", f"{base}/resolve", lambda r: httpx.Response(409, json={
        "title": "Conflict", "detail": "Нельзя закрыть: простой в состоянии «Устранён»",
        "current_state": "resolved"}))
    services.on("POST", f"{base}/work-order", ok({"id": "wo-9", "status": "draft"}, 201))
    await log_in(client, "dispatcher")
    page = await client.get("/dispatch/downtime")
    assert page.status_code == 200
    assert '<optgroup label="ООО «Парковка»"><option value="' + SITE_ID in page.text
    assert "больше суток, руководитель извещён" in page.text
    token = csrf(page.text)
    refused = await client.post("/dispatch/downtime", data={
        "csrf_token": token, "site_id": SITE_ID, "serial": "T-404",
        "started_at": "2026-11-27T08:30", "source": "client", "description": ""})
    assert refused.status_code == 422
    assert field_errors(refused.text) == {"serial": "терминал T-404 не стоит на этом объекте"}
    saved = await client.post("/dispatch/downtime", data={
        "csrf_token": token, "site_id": SITE_ID, "serial": "T-1",
        "started_at": "2026-11-27T08:30", "source": "client", "description": "Не печатает"})
    assert saved.headers["location"] == "/dispatch/downtime?flash=downtime"
    # the time typed is Moscow's
    assert services.sent("POST", "/api/downtime")[-1] == {
        "site_id": SITE_ID, "serial": "T-1", "started_at": "2026-11-27T08:30:00+03:00",
        "source": "client", "description": "Не печатает"}
    cause = await client.post(f"/dispatch/downtime/{incident['id']}/cause", data={
        "csrf_token": token, "cause": "Отключили электричество"})
    assert cause.headers["location"] == "/dispatch/downtime?flash=cause"
    assert services.sent("POST", f"{base}/cause") == [{"cause": "Отключили электричество"}]
    twice = await client.post(f"/dispatch/downtime/{incident['id']}/resolve",
                              data={"csrf_token": token})
    assert twice.status_code == 409 and "Нельзя закрыть" in twice.text
    repair = await client.post(f"/dispatch/downtime/{incident['id']}/work-order", data={
        "csrf_token": token, "kind": "repair", "description": "Заменить блок питания"})
    assert repair.headers["location"] == "/dispatch/orders/wo-9?flash=created"
    assert services.sent("POST", f"{base}/work-order") == [
        {"kind": "repair", "description": "Заменить блок питания"}]


async def test_a_not_done_order_is_agreed_again_and_an_order_is_cancelled_with_a_reason(
        field_web: Web) -> None:
    client, services = field_web
    wo = order("not_done", journal_number="2026-0050", client_name="ООО «Парковка»",
               site_name="ТЦ Север", site_address="Москва, ул. Лесная, 5", technician="tech1",
               visit_on=today().isoformat(), contact_name="Пётр", contact_phone="+79001112233",
               not_done_reason="Клиент не пустил на объект", reschedule_count=0)
    services.on("GET", f"/api/work-orders/{wo['id']}", ok(wo))
    services.on("GET", "/api/technicians", ok(TECHNICIANS))
    services.on("POST", f"/api/work-orders/{wo['id']}/schedule",
                ok({"status": "scheduled", "reschedule_count": 1}))
    services.on("POST", f"/api/work-orders/{wo['id']}/cancel", ok({"status": "cancelled"}))
    await log_in(client, "dispatcher")
    page = await client.get(f"/dispatch/orders/{wo['id']}")
    assert "Пересогласовать дату" in page.text and "Клиент не пустил на объект" in page.text
    assert f'action="/dispatch/orders/{wo["id"]}/reschedule"' in page.text
    # the agreed contact and technician are offered again
    assert 'name="site_contact.name" value="Пётр"' in page.text
    assert '<option value="tech1" selected>Техник 1</option>' in page.text
    moved = await client.post(f"/dispatch/orders/{wo['id']}/reschedule", data={
        "csrf_token": csrf(page.text), "visit_on": (today() + timedelta(days=2)).isoformat(),
        "window": "12:00–15:00", "site_contact.name": "Пётр",
        "site_contact.phone": "+79001112233", "technician": "tech2"})
    assert moved.headers["location"] == f"/dispatch/orders/{wo['id']}?flash=rescheduled"
    # field-ops moves it with the same call (and counts the move)
    assert services.sent("POST", f"/api/work-orders/{wo['id']}/schedule") == [{
        "visit_on": (today() + timedelta(days=2)).isoformat(), "window": "12:00–15:00",
        "technician": "tech2", "site_contact": {"name": "Пётр", "phone": "+79001112233"}}]
    no_reason = await client.post(f"/dispatch/orders/{wo['id']}/cancel",
                                  data={"csrf_token": csrf(page.text), "reason": ""})
    assert no_reason.status_code == 422
    assert field_errors(no_reason.text) == {"reason": "Напишите, почему заявка отменяется."}
    assert services.sent("POST", f"/api/work-orders/{wo['id']}/cancel") == []
    cancelled = await client.post(f"/dispatch/orders/{wo['id']}/cancel", data={
        "csrf_token": csrf(page.text), "reason": "Клиент расторгает договор"})
    assert cancelled.headers["location"] == f"/dispatch/orders/{wo['id']}?flash=cancelled"
    assert services.sent("POST", f"/api/work-orders/{wo['id']}/cancel") == [
        {"reason": "Клиент расторгает договор"}]
