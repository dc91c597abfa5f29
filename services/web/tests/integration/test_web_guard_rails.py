"""Issue 13 §4 at the page: the web frontend in-process on top of the real billing and
contracts (in-process too, their own databases): each bad input comes back as the form with a
Russian message next to the field, and nothing is written; amounts typed the Russian way are
read right; a payment form submitted again after Back is recorded once."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from clientops_shared.db import make_engine
from clientops_shared.jobs import business_today
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, running_app

from .test_web_pages import csrf, log_in

pytestmark = pytest.mark.integration
# a day well ahead but inside the five-year bound every date field has
SOON = (business_today() + timedelta(days=400)).isoformat()

TODAY = business_today()


class Desks:
    def __init__(self, web: httpx.AsyncClient, billing: httpx.AsyncClient,
                 contracts: httpx.AsyncClient, servers: Servers) -> None:
        self.web, self.billing, self.contracts, self.servers = web, billing, contracts, servers

    async def form(self, path: str) -> str:
        page = await self.web.get(path, follow_redirects=True)
        assert page.status_code == 200, (path, page.status_code, page.text[:500])
        return page.text

    async def post(self, form_path: str, action: str, data: dict[str, str]) -> httpx.Response:
        html = await self.form(form_path)
        extra = {}
        key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
        if key:
            extra["idempotency_key"] = key.group(1)
        return await self.web.post(action, data={"csrf_token": csrf(html), **extra, **data})

    async def count(self, table: str) -> int:
        engine = make_engine(database_url(self.servers.databases["billing"],
                                          self.servers.pg_dsn))
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))
                            ).scalar_one())
        finally:
            await engine.dispose()


@pytest.fixture
async def desks(servers: Servers) -> AsyncIterator[Desks]:
    async with (running_app(servers, "contracts") as (contracts_app, contracts),
                running_app(servers, "billing") as (billing_app, billing),
                running_app(servers, "web", seed_demo_users=True, cookie_secure=False,
                            upstreams={"contracts": "http://contracts",
                                       "billing": "http://billing"}) as (web_app, web)):
        web_app.state.http = httpx.AsyncClient(mounts={
            "http://contracts": httpx.ASGITransport(app=contracts_app),
            "http://billing": httpx.ASGITransport(app=billing_app)})
        try:
            yield Desks(web, billing, contracts, servers)
        finally:
            await web_app.state.http.aclose()


def field_error(html: str, field: str) -> str:
    found = re.search(rf'class="field-error" data-field="{re.escape(field)}">([^<]+)<', html)
    assert found is not None, f"no message at {field}: {html[html.find('<main'):][:3000]}"
    return found.group(1)


async def test_bad_input_on_the_desks_is_refused_next_to_the_field(desks: Desks) -> None:
    await log_in(desks.web, "head")
    client_id = (await desks.contracts.post("/api/clients", headers=desks.servers.auth(
        "head", "head"), json={"name": "ООО «Проверка»", "inn": "7707083893",
                               "email": "a@example.ru", "manager": "manager1"})).json()["id"]
    payment = {"amount": "100,00", "paid_on": TODAY.isoformat(), "reference": "п/п 1"}
    rent = {"number": "А-1", "owner_name": "ИП Петров", "owner_inn": "772012345670",
            "site_name": "Магазин", "address": "Москва", "starts_on": TODAY.isoformat(),
            "terminals": "1", "amount_per_terminal": "3 000,00", "payment_form": "cash"}
    contract = {"client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
                "monthly_fee": "12 500,00", "standard": "on", "auto_renew": "on"}
    cases = [
        # (case, form page, action, data, field, words in the message)
        ("payment in the future", "/billing/payments/new", "/billing/payments",
         {**payment, "paid_on": SOON}, "paid_on", "в будущем"),
        ("payment before 2000", "/billing/payments/new", "/billing/payments",
         {**payment, "paid_on": "1999-12-31"}, "paid_on", "01.01.2000"),
        ("invoice run far ahead", "/billing/runs/new", "/billing/runs",
         {"period": SOON[:7]}, "period", "подтверждением руководителя"),
        ("rent owner INN checksum", "/billing/rent/agreements/new",
         "/billing/rent/agreements/new", {**rent, "owner_inn": "772012345671"}, "owner_inn",
         "контрольная цифра"),
        ("rent without terminals", "/billing/rent/agreements/new",
         "/billing/rent/agreements/new", {**rent, "terminals": "0"}, "terminals", "не меньше 1"),
        ("subscription for free", f"/contracts/new?client_id={client_id}", "/contracts/new",
         {**contract, "monthly_fee": "0"}, "monthly_fee", "больше нуля"),
        ("fee above 100 000 000", f"/contracts/new?client_id={client_id}", "/contracts/new",
         {**contract, "monthly_fee": "100 000 000,01"}, "monthly_fee", "100 000 000,00"),
        ("fee of 14 digits", f"/contracts/new?client_id={client_id}", "/contracts/new",
         {**contract, "monthly_fee": "12345678901234"}, "monthly_fee", "Слишком большая"),
        ("client for a non-manager", "/contracts/clients/new", "/contracts/clients/new",
         {"name": "ООО «Ещё»", "inn": "7736207543", "email": "b@example.ru",
          "manager": "billing"}, "manager", "только за менеджером"),
    ]
    before = [await desks.count(t) for t in ("payment", "invoice_run", "rent_agreement")]
    for case, page, action, data, field, words in cases:
        r = await desks.post(page, action, data)
        assert r.status_code == 422, (case, r.status_code, r.text[:500])
        assert "Сервис" not in field_error(r.text, field)
        assert words in field_error(r.text, field), case
    assert [await desks.count(t) for t in ("payment", "invoice_run", "rent_agreement")] == before
    contracts = (await desks.contracts.get("/api/contracts", params={"client_id": client_id},
                                           headers=desks.servers.auth("head", "head"))).json()
    assert contracts == []

    # dunning on a future day: refused on the desk, no reminder run
    html = await desks.form("/billing")
    r = await desks.web.post("/billing/dunning-runs", data={
        "csrf_token": csrf(html), "on": SOON}, follow_redirects=True)
    assert "будущую дату" in r.text


async def test_amounts_typed_the_russian_way_and_a_resubmitted_payment_form(
        desks: Desks) -> None:
    await log_in(desks.web, "billing")
    first = await desks.web.get("/billing/payments/new")
    assert first.status_code == 303 and "form=" in first.headers["location"]
    form_url = first.headers["location"]
    html = await desks.form(form_url)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key is not None and key.group(1) in form_url
    data = {"csrf_token": csrf(html), "idempotency_key": key.group(1),
            "amount": "12 500,50 ₽", "paid_on": TODAY.isoformat(), "reference": "п/п 7"}
    before = await desks.count("payment")
    r = await desks.web.post("/billing/payments", data=data)
    assert r.status_code == 303, r.text[:500]
    # Back: the same rendered form (its key is in the URL), submitted again
    again = await desks.form(form_url)
    assert key.group(1) in again
    r = await desks.web.post("/billing/payments", data={**data, "csrf_token": csrf(again)})
    assert r.status_code == 303
    assert await desks.count("payment") == before + 1

    # a fresh form is another payment; "12.500,00" is twelve and a half thousand
    html = await desks.form("/billing/payments/new")
    key2 = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key2 is not None and key2.group(1) != key.group(1)
    reference = f"п/п {uuid.uuid4().hex[:6]}"
    r = await desks.web.post("/billing/payments", data={
        "csrf_token": csrf(html), "idempotency_key": key2.group(1), "amount": "12.500,00",
        "paid_on": TODAY.isoformat(), "reference": reference})
    assert r.status_code == 303
    listed = (await desks.billing.get("/api/payments", params={"limit": 500},
                                      headers=desks.servers.auth("buh1", "billing"))).json()
    amounts = {p["reference"]: p["amount"] for p in listed}
    assert amounts["п/п 7"] == "12500.50" and amounts[reference] == "12500.00"
