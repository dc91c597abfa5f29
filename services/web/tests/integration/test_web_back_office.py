"""The web frontend in-process against stand-in services (httpx MockTransport): what the
pages send the services and what they make of the answers, checked by hand — the head's
chart of tasks done per week, the client's details form (its PATCH and the 422 shown at the
fields in Russian), payables with a PlanFact sync that failed, the staff addresses."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from clientops_shared.testing import Servers, running_app

from .test_web_pages import csrf, log_in

pytestmark = pytest.mark.integration

Handler = Callable[[httpx.Request], httpx.Response]
MISSING = httpx.Response(404, json={"title": "Not found", "detail": "Not Found"})


class StandIns:
    """Every service the pages call, answered by the test's handlers; the rest say 404."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[httpx.Request] = []

    def on(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.routes.get((request.method, request.url.path))
        return handler(request) if handler else MISSING

    def sent(self, method: str, path: str) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.seen
                if (r.method, r.url.path) == (method, path)]


@pytest.fixture
async def web(servers: Servers) -> AsyncIterator[tuple[httpx.AsyncClient, StandIns]]:
    stand_ins = StandIns()
    async with running_app(servers, "web", seed_demo_users=True, cookie_secure=False
                           ) as (app, client):
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(stand_ins))
        try:
            yield client, stand_ins
        finally:
            await app.state.http.aclose()


def ok(body: Any, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def cells(html: str, person: str) -> list[tuple[int, int]]:
    """(count, bar height %) of each week in a person's chart row."""
    row = re.search(rf'<tr data-person="{person}">(.*?)</tr>', html, re.S)
    assert row is not None, person
    return [(int(n), int(h)) for n, h in re.findall(
        r'data-count="(\d+)".*?style="height: (\d+)%"', row.group(1), re.S)]


async def test_the_heads_chart_scales_each_bar_to_the_busiest_week(
        web: tuple[httpx.AsyncClient, StandIns]) -> None:
    client, services = web
    services.on("GET", "/api/workload/history", ok({
        "at": "2026-12-31T09:00:00Z",
        "weeks": [{"start": "2026-12-14", "end": "2026-12-20"},
                  {"start": "2026-12-21", "end": "2026-12-27"},
                  {"start": "2026-12-28", "end": "2027-01-03"}],
        "people": [{"person": "manager2", "done": [1, 1, 0], "total": 2},
                   {"person": "manager1", "done": [2, 0, 4], "total": 6}],
        "totals": [3, 1, 4]}))
    await log_in(client, "head")
    page = await client.get("/head", params={"weeks": 3})
    assert page.status_code == 200
    assert [r.url.params.get("weeks") for r in services.seen
            if r.url.path == "/api/workload/history"] == ["3"]
    html = page.text
    # the busiest week is manager1's 4: 2 is half of it, 1 a quarter
    assert cells(html, "manager1") == [(2, 50), (0, 0), (4, 100)]
    assert cells(html, "manager2") == [(1, 25), (1, 25), (0, 0)]
    # the busiest person first, under the name the users list gives
    assert html.index('data-person="manager1"') < html.index('data-person="manager2"')
    assert '<th scope="row">Иванова Мария</th>' in html
    assert re.findall(r'data-week="([\d-]+)">([\d.]+)</th>', html) == [
        ("2026-12-14", "14.12"), ("2026-12-21", "21.12"), ("2026-12-28", "28.12")]
    assert re.findall(r'data-total="(\d+)"', html) == ["3", "1", "4"]
    # the other panels of the stand-in notifications are missing: said so, no 500
    assert "Сервис пока не умеет это показывать." in html


CLIENT: dict[str, Any] = {"id": str(uuid.uuid4()), "name": "ООО «Ромашка»", "inn": "7707083893",
          "kpp": None, "email": "old@example.ru", "phone": "+74951234567",
          "manager": "manager1", "legal_address": None, "postal_address": None,
          "source": None, "ogrn": None, "bank": None,
          "signatory": {"position": "Директор", "full_name": "Петров Пётр",
                        "in_person_of": "Петрова Петра", "basis": "Устава",
                        "female": False},
          "contacts": [], "last_contact_on": None}


async def test_the_client_details_form_sends_only_what_changed_and_shows_the_422(
        web: tuple[httpx.AsyncClient, StandIns]) -> None:
    client, services = web
    path = f"/api/clients/{CLIENT['id']}"
    services.on("GET", path, ok(CLIENT))
    answers = iter([
        httpx.Response(422, json={"title": "Validation failed", "errors": [
            {"field": "kpp", "type": "value_error",
             "message": "Value error, KPP must be 9 characters NNNNXXNNN, got '1'"},
            {"field": "bank.account", "type": "value_error",
             "message": "Value error, bank account must be 20 digits, got '1'"},
            {"field": "signatory.full_name", "type": "string_too_short",
             "message": "String should have at least 1 character"},
            {"field": "email", "type": "value_error",
             "message": "value is not a valid email address: An email address must "
                        "have an @-sign."}]}),
        httpx.Response(200, json=CLIENT)])
    services.on("PATCH", path, lambda request: next(answers))
    await log_in(client, "manager1")
    form = await client.get(f"/clients/{CLIENT['id']}/edit")
    assert form.status_code == 200
    assert 'name="signatory.full_name" value="Петров Пётр"' in form.text
    values = {"csrf_token": csrf(form.text), "name": "ООО «Ромашка»", "email": "buh",
              "kpp": "1", "phone": "+74951234567", "ogrn": "", "legal_address": "Москва",
              "postal_address": "", "signatory.position": "Директор",
              "signatory.full_name": "", "signatory.basis": "Устава",
              "bank.bank_name": "", "bank.bik": "044525225", "bank.account": "1",
              "bank.corr_account": ""}
    refused = await client.post(f"/clients/{CLIENT['id']}/edit", data=values)
    assert refused.status_code == 422
    # unchanged fields are not sent; the signatory and the bank go whole
    assert services.sent("PATCH", path) == [{
        "email": "buh", "kpp": "1", "legal_address": "Москва",
        "signatory": {"position": "Директор", "full_name": "", "basis": "Устава",
                      "female": False, "in_person_of": None},
        "bank": {"bik": "044525225", "account": "1"}}]
    errors = dict(re.findall(r'<small class="field-error" data-field="([^"]+)">([^<]+)</small>',
                             refused.text))
    assert errors == {
        "email": "Неверный адрес e-mail.",
        "kpp": "КПП: 9 знаков (цифры, в 5–6 позиции могут быть латинские буквы).",
        "signatory.full_name": "Заполните поле.",
        "bank.account": "Нужно 20 цифр."}
    assert 'name="bank.account" value="1" aria-invalid="true"' in refused.text

    values.update({"email": "old@example.ru", "kpp": "", "legal_address": "",
                   "signatory.full_name": "Петров Пётр", "bank.bik": "", "bank.account": "",
                   "phone": ""})
    saved = await client.post(f"/clients/{CLIENT['id']}/edit", data=values)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/clients/{CLIENT['id']}?flash=details"
    assert services.sent("PATCH", path)[-1] == {"phone": None}  # a cleared field is null

    unchanged = await client.post(f"/clients/{CLIENT['id']}/edit", data={
        **values, "phone": "+74951234567"})
    assert unchanged.headers["location"] == f"/clients/{CLIENT['id']}?flash=unchanged"
    assert len(services.sent("PATCH", path)) == 2


PAYABLE = {"id": str(uuid.uuid4()), "supplier_name": "ООО Шлагбаумы Оптом",
           "supplier_inn": "7702070139", "number": "1187", "issued_on": "2026-12-10",
           "amount": "12000.00", "vat": "2163.93", "due_on": "2026-12-25",
           "category": "equipment", "description": "Шлагбаум DOORHAN, 2 шт.",
           "status": "received", "approved_by": None, "requested_by": None, "paid_on": None,
           "reason": None, "planfact_operation_id": None, "planfact_state": "failed",
           "planfact_error": "PlanFact answered 503: maintenance"}


async def test_payables_show_a_failed_planfact_sync_and_retry_it(
        web: tuple[httpx.AsyncClient, StandIns]) -> None:
    client, services = web
    paid = {**PAYABLE, "id": str(uuid.uuid4()), "number": "1188", "status": "paid",
            "amount": "500.00", "paid_on": "2026-12-20", "planfact_state": "synced",
            "planfact_error": None}
    services.on("GET", "/api/payables", ok([PAYABLE, paid]))
    services.on("POST", "/api/payables/planfact-sync", ok({"synced": 1}))
    services.on("POST", f"/api/payables/{PAYABLE['id']}/payment-request", ok(
        {"type": "about:blank", "title": "Conflict", "status": 409,
         "detail": "a supplier invoice that is received cannot become payment_requested",
         "current_state": "received"}, status=409))
    await log_in(client, "billing")
    page = await client.get("/billing/payables")
    assert page.status_code == 200
    html = page.text
    assert 'data-payable="1187"' in html and 'data-payable="1188"' not in html  # open only
    assert "PlanFact answered 503: maintenance" in html
    assert "Отправить в ПланФакт (1)" in html
    assert "К оплате (не оплачено и не отклонено): <strong data-testid=\"due\">" \
           "12\u00a0000,00\u00a0₽</strong>" in html
    assert "Согласовать" not in html  # billing does not approve

    refused = await client.post(f"/billing/payables/{PAYABLE['id']}/payment-request",
                                data={"csrf_token": csrf(html), "back_status": "open"})
    assert refused.status_code == 303
    error = await client.get(refused.headers["location"])
    assert "Сейчас это сделать нельзя: счёт в статусе «получен»." in error.text
    forbidden = await client.post(f"/billing/payables/{PAYABLE['id']}/approve",
                                  data={"csrf_token": csrf(html)})
    assert forbidden.status_code == 403
    assert services.sent("POST", f"/api/payables/{PAYABLE['id']}/approve") == []

    synced = await client.post("/billing/payables/planfact-sync",
                               data={"csrf_token": csrf(html)})
    after = await client.get(synced.headers["location"])
    assert "Отправлено в ПланФакт: 1." in after.text


async def test_staff_addresses_listed_with_the_missing_first_and_saved_by_put(
        web: tuple[httpx.AsyncClient, StandIns]) -> None:
    client, services = web
    services.on("GET", "/api/staff", ok([
        {"username": "manager1", "email": "m1@example.ru", "full_name": "Менеджер 1",
         "digest": True, "active": True, "updated_at": "2026-12-01T09:00:00Z"},
        {"username": "old-timer", "email": "old@example.ru", "full_name": "Уволен",
         "digest": False, "active": False, "updated_at": "2026-01-01T09:00:00Z"}]))
    services.on("PUT", "/api/staff/manager2", ok({"username": "manager2"}))
    await log_in(client, "admin")
    page = await client.get("/admin/staff")
    assert page.status_code == 200
    order = re.findall(r'<tr data-staff="([^"]+)">', page.text)
    # nine demo people have no address yet (admin included), listed before those who do
    assert order[-2:] == ["manager1", "old-timer"] and len(order) == 11
    assert "Без адреса: 9 сотр." in page.text
    saved = await client.post("/admin/staff/manager2", data={
        "csrf_token": csrf(page.text), "email": "m2@example.ru", "full_name": "",
        "active": "on"})
    assert saved.status_code == 303
    assert services.sent("PUT", "/api/staff/manager2") == [
        {"email": "m2@example.ru", "full_name": None, "digest": False, "active": True}]
