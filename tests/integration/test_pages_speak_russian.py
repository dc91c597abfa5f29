"""Issue 13 §5: every page, as every role, speaks Russian to people — no raw status or role
codes, no event types, no English error text, no ``None``, no logins instead of names.

Every service runs in this process (the web reaches them through ASGI transports) on
databases of its own with some data in it (a client with a site, a signed contract, its
invoice, payments, a rent contract); each role logs in and follows every link it is shown
(same site, GET, no downloads), and each page's visible text is checked."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from clientops_shared.jobs import business_today
from clientops_shared.testing import Servers, eventually_async, random_inn, running_app

pytestmark = pytest.mark.integration
SERVICES = ("contracts", "billing", "field_ops", "logistics", "notifications")

ROLES = ("admin", "head", "manager1", "billing", "accountant", "lawyer", "dispatcher",
         "tech1", "logistics")
PAGES_PER_ROLE = 45

# Latin words a Russian page may show: formats, brands, abbreviations people use as they are
ALLOWED_LATIN = {"pdf", "xlsx", "docx", "csv", "xml", "qr", "id", "e-mail", "email", "ok",
                 "clientops", "htmx", "sms", "utc", "url", "ip",
                 "cclientbankexchange"}  # the 1C bank statement's format, as files name it
RAW_CODES = {
    "finished", "failed", "interrupted", "running", "matched", "unmatched", "issued", "paid",
    "partially_paid", "credited", "pending_install", "active", "suspended", "ended", "draft",
    "signed", "pending_approval", "approved", "rejected", "terminated", "expired", "open",
    "done", "snoozed", "cancelled", "scheduled", "applied", "received", "answered", "court",
    "resolved", "planned", "requested", "permitted", "closed", "sent", "reconciled",
    "disputed", "cash", "cashless", "payment_requested", "synced", "pending", "credit_note",
    "subscription", "rent", "pilot", "supply", "maintenance", "manager", "head", "billing",
    "dispatcher", "technician", "logistics", "lawyer", "accountant", "admin", "sales", "none",
    "null", "true", "false", "call", "letter", "escalation", "payment_reminder",
}
EVENT_TYPE = re.compile(r"\b[a-z_]+\.[a-z_]+\.[a-z_]+\b")
NOISE = re.compile(r"\S+@\S+|https?://\S+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                   r"[0-9a-f]{12}"
                   # other tests' data in the shared system: names with a random hex tag
                   r"|\b(?=[0-9a-f]*[0-9])[0-9a-f]{3,12}\b|\b[a-f]{4}\b", re.IGNORECASE)
LATIN = re.compile(r"[A-Za-z][A-Za-z_\-]*[A-Za-z0-9]|[A-Za-z]")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "code"):  # <code>: a login, an id
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def problems(text: str) -> list[str]:
    found = [f"event type {m}" for m in EVENT_TYPE.findall(text)]
    for word in LATIN.findall(NOISE.sub(" ", text)):
        low = word.lower().rstrip("0123456789")
        if low in ALLOWED_LATIN or len(low) < 2:
            continue
        found.append(f"raw code {word!r}" if low in RAW_CODES else f"Latin {word!r}")
    return found


def _worth_following(href: str) -> bool:
    return (href.startswith("/") and not href.startswith(("/api/", "/static/", "/logout"))
            and not re.search(r"\.(xlsx|pdf|docx|xml|csv)(\?|$)|/pdf$|/document", href))


@contextlib.asynccontextmanager
async def _system(servers: Servers) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with contextlib.AsyncExitStack() as stack:
        apps, clients = {}, {}
        for name in SERVICES:
            apps[name], clients[name] = await stack.enter_async_context(
                running_app(servers, name))
        web_app, web = await stack.enter_async_context(running_app(
            servers, "web", seed_demo_users=True,
            upstreams={name: f"http://{name}" for name in SERVICES}))
        web_app.state.http = httpx.AsyncClient(mounts={
            f"http://{name}": httpx.ASGITransport(app=apps[name]) for name in SERVICES})
        stack.push_async_callback(web_app.state.http.aclose)
        yield web, clients


async def _login(web: httpx.AsyncClient, username: str) -> None:
    web.cookies.clear()

    def plain_http() -> None:  # the cookies are Secure; a browser sends them to 127.0.0.1
        for cookie in web.cookies.jar:
            cookie.secure = False
    page = await web.get("/login")
    plain_http()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = await web.post("/login", data={"username": username, "password": f"{username}-demo",
                                       "next": "/", "csrf_token": token.group(1)})
    assert r.status_code == 303, r.text[:300]
    plain_http()


async def _contract_life(contracts: httpx.AsyncClient, manager: dict[str, str],
                         client_id: str, contract_id: str) -> None:
    """An amendment, a pending change request, a deal, feedback and a contact: the contract
    page, the head's queue, the deals and feedback lists and the card's contact log."""
    today = business_today().isoformat()
    for path, body in (
            (f"/api/contracts/{contract_id}/fee-change", {"new_fee": "10500.00"}),
            (f"/api/contracts/{contract_id}/change-requests", {
                "kind": "fee_change", "summary": "Просят скидку", "received_on": today,
                "new_fee": "9000.00"}),
            ("/api/deals", {"client_id": client_id, "title": "Второй терминал",
                            "amount": "150000.00"}),
            (f"/api/clients/{client_id}/feedback", {"kind": "wish", "text": "Хотят отчёт"}),
            (f"/api/clients/{client_id}/interactions", {
                "channel": "call", "on": today, "summary": "Обсудили продление"})):
        r = await contracts.post(path, headers=manager, json=body)
        assert r.status_code == 201, (path, r.text)


async def _some_data(servers: Servers, clients: dict[str, Any]) -> None:
    manager, desk = servers.auth("manager1", "manager"), servers.auth("billing", "billing")
    contracts, billing = clients["contracts"], clients["billing"]
    r = await contracts.post("/api/clients", headers=manager, json={
        "name": f"ООО «Проверка языка {uuid.uuid4().hex[:4]}»", "inn": random_inn(),
        "email": "lang@example.ru", "phone": "+7 495 123-45-67", "manager": "manager1"})
    assert r.status_code in (201, 409), r.text
    if r.status_code == 409:
        return
    client_id = r.json()["id"]
    site = (await contracts.post(f"/api/clients/{client_id}/sites", headers=manager, json={
        "name": "Офис", "address": "Москва, ул. Тверская, 1"})).json()
    start = business_today().replace(day=1)
    for kind, fee in (("subscription", "9900.00"), ("rent", "3000.00")):
        contract = (await contracts.post("/api/contracts", headers=manager, json={
            "client_id": client_id, "kind": kind, "starts_on": start.isoformat(),
            "monthly_fee": fee, "auto_renew": True, "standard": True, "site_id": site["id"],
            "payment_form": "cash" if kind == "rent" else "cashless"})).json()
        r = await contracts.post(f"/api/contracts/{contract['id']}/sign", headers=manager,
                                 json={"signed_on": business_today().isoformat()})
        assert r.status_code == 200, r.text
        if kind == "subscription":
            await _contract_life(contracts, manager, client_id, contract["id"])

    async def subscribed() -> Any:
        return (await billing.get("/api/subscriptions", headers=desk,
                                  params={"client_id": client_id})).json()
    await eventually_async(subscribed)
    await billing.post("/api/invoice-runs", headers=desk,
                       json={"period": start.strftime("%Y-%m")})
    invoices = (await billing.get("/api/invoices", headers=desk,
                                  params={"client_id": client_id})).json()
    await billing.post("/api/payments", headers=desk, json={
        "invoice_id": invoices[0]["id"], "amount": "1000.00",
        "paid_on": business_today().isoformat(), "reference": "п/п 12"})
    await billing.post("/api/payments", headers=desk, json={
        "amount": "500.00", "paid_on": business_today().isoformat(), "reference": "неизвестно"})
    # a client's request, answered: the journal, its record and the card's list
    notifications = clients["notifications"]

    async def known() -> bool:
        r = await notifications.get(f"/api/clients/{client_id}/timeline", headers=manager)
        return r.status_code == 200
    await eventually_async(known)
    request = (await notifications.post("/api/requests", headers=manager, json={
        "client_id": client_id, "kind": "payment", "channel": "letter",
        "subject": "Просят акт сверки за год"})).json()
    await notifications.post(f"/api/requests/{request['id']}/answer", headers=desk,
                             json={"answer": "Акт сверки отправлен на почту."})
    await notifications.post("/api/requests", headers=manager, json={
        "client_id": client_id, "kind": "terminal", "channel": "call",
        "subject": "Терминал не принимает купюры"})


async def test_every_page_speaks_russian_to_every_role(servers_of_its_own: Servers) -> None:
    # databases of its own: the walk follows every link, so what other tests left there
    # (a technician whose name carries a login, ...) would decide what it reads
    servers = servers_of_its_own
    found: dict[str, list[str]] = {}
    walked = 0
    async with _system(servers) as (web, clients):
        await _some_data(servers, clients)
        for username in ROLES:
            await _login(web, username)
            seen: set[str] = set()
            queue = deque(["/"])
            while queue and len(seen) < PAGES_PER_ROLE:
                path = queue.popleft()
                key = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", path.split("#")[0])
                if key in seen:
                    continue
                seen.add(key)
                r = await web.get(path, follow_redirects=True)
                if "text/html" not in r.headers.get("content-type", ""):
                    continue
                page = _Page()
                page.feed(r.text)
                bad = problems(" ".join(page.text))
                if "Нет доступа" in r.text and r.status_code == 200:
                    bad.append("a «Нет доступа» panel instead of no panel")
                if bad:
                    found[f"{username} {path}"] = sorted(set(bad))
                queue.extend(h for h in page.links if _worth_following(h))
            walked += len(seen)
    assert walked > 60, walked
    assert not found, "\n".join(f"{p}: {', '.join(b)}" for p, b in found.items())
