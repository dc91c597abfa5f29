"""Issue 13 §5: every page, as every role, speaks Russian to people — no raw status or role
codes, no event types, no English error text, no ``None``, no logins instead of names.

The whole system runs as processes with some data in it (a client with a site, a signed
contract, its invoice, a payment, a rent contract); each role logs in and follows every link
it is shown (same site, GET, no downloads), and each page's visible text is checked."""

from __future__ import annotations

import re
import uuid
from collections import deque
from datetime import date, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from clientops_shared.testing import System, eventually

pytestmark = pytest.mark.e2e

ROLES = ("admin", "head", "manager1", "billing", "accountant", "lawyer", "dispatcher",
         "tech1", "logistics")
PAGES_PER_ROLE = 45

# Latin words a Russian page may show: formats, brands, abbreviations people use as they are
ALLOWED_LATIN = {"pdf", "xlsx", "docx", "csv", "xml", "qr", "id", "e-mail", "email", "ok",
                 "clientops", "htmx", "sms", "utc", "url", "ip"}
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
                   r"[0-9a-f]{12}", re.IGNORECASE)
LATIN = re.compile(r"[A-Za-z][A-Za-z_\-]*[A-Za-z0-9]|[A-Za-z]")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
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


def _login(web: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=web, timeout=30)

    def plain_http() -> None:  # the cookies are Secure; a browser sends them to 127.0.0.1
        for cookie in client.cookies.jar:
            cookie.secure = False
    page = client.get("/login")
    plain_http()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post("/login", data={"username": username, "password": f"{username}-demo",
                                    "next": "/", "csrf_token": token.group(1)})
    assert r.status_code == 303, r.text[:300]
    plain_http()
    return client


def _token(system: System, username: str) -> dict[str, str]:
    r = httpx.post(f"{system.urls['web']}/api/auth/token",
                   data={"username": username, "password": f"{username}-demo"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _some_data(system: System) -> None:
    manager, desk = _token(system, "manager1"), _token(system, "billing")
    contracts, billing = system.urls["contracts"], system.urls["billing"]
    inn = "7702070139"
    r = httpx.post(f"{contracts}/api/clients", headers=manager, json={
        "name": f"ООО «Проверка языка {uuid.uuid4().hex[:4]}»", "inn": inn,
        "email": "lang@example.ru", "phone": "+7 495 123-45-67", "manager": "manager1"})
    if r.status_code == 409:  # the session's system already has it
        return
    client_id = r.json()["id"]
    site = httpx.post(f"{contracts}/api/clients/{client_id}/sites", headers=manager, json={
        "name": "Офис", "address": "Москва, ул. Тверская, 1"}).json()
    start = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    contract = httpx.post(f"{contracts}/api/contracts", headers=manager, json={
        "client_id": client_id, "kind": "subscription", "starts_on": start.isoformat(),
        "monthly_fee": "9900.00", "auto_renew": True, "standard": True,
        "site_id": site["id"]}).json()
    httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=manager,
               json={"signed_on": date.today().isoformat()})
    eventually(lambda: httpx.get(f"{billing}/api/subscriptions", headers=desk,
                                 params={"contract_id": contract["id"]}).json())
    httpx.post(f"{billing}/api/invoice-runs", headers=desk, timeout=60,
               json={"period": start.strftime("%Y-%m")})
    invoices = eventually(lambda: httpx.get(f"{billing}/api/invoices", headers=desk,
                                            params={"client_id": client_id}).json())
    httpx.post(f"{billing}/api/payments", headers=desk, json={
        "invoice_id": invoices[0]["id"], "amount": "1000.00",
        "paid_on": date.today().isoformat(), "reference": "п/п 12"})
    httpx.post(f"{billing}/api/payments", headers=desk, json={
        "amount": "500.00", "paid_on": date.today().isoformat(), "reference": "неизвестно"})


@pytest.mark.parametrize("username", ROLES)
def test_every_page_speaks_russian(system: System, username: str) -> None:
    _some_data(system)
    client = _login(system.urls["web"], username)
    seen: set[str] = set()
    queue = deque(["/"])
    found: dict[str, list[str]] = {}
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.popleft()
        key = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", path.split("#")[0])
        if key in seen:
            continue
        seen.add(key)
        r = client.get(path, follow_redirects=True)
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        page = _Page()
        page.feed(r.text)
        bad = problems(" ".join(page.text))
        if "Нет доступа" in r.text and r.status_code == 200:
            bad.append("a «Нет доступа» panel instead of no panel")
        if bad:
            found[path] = sorted(set(bad))
        queue.extend(h for h in page.links if _worth_following(h))
    assert len(seen) > 3, seen
    assert not found, "\n".join(f"{p}: {', '.join(b)}" for p, b in found.items())
