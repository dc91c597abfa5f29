"""Issue 13 §5 for the payments desk: its pages (the list with every filter, a payment's
record, a client's advance, the 1C export, and their refusals) as billing, accountant and head
see them — Russian only: no raw status codes, no English, no ``None``. The every-page walk
stops at a number of pages per role; this walks these pages on purpose."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clientops_shared.jobs import business_today
from clientops_shared.testing import Servers

from .test_pages_speak_russian import _login, _Page, _some_data, _system, problems

pytestmark = pytest.mark.integration
ID = re.compile(r"/billing/(?:payments|clients)/[0-9a-f-]{36}(?:/advance)?")


def _bad(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    return problems(" ".join(page.text))


async def test_the_payments_desk_speaks_russian(servers_of_its_own: Servers) -> None:
    # databases of its own: it opens every payment and every advance there is, so other
    # tests' payments would decide what (and how much) it reads
    servers = servers_of_its_own
    found: dict[str, list[str]] = {}
    async with _system(servers) as (web, clients):
        await _some_data(servers, clients)
        desk = servers.auth("billing", "billing")
        payments = (await clients["billing"].get("/api/payments", headers=desk)).json()
        client_ids = {p["client_id"] for p in payments if p["client_id"]}
        assert client_ids and any(p["client_id"] is None for p in payments)
        for username in ("billing", "accountant", "head", "admin"):
            await _login(web, username)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                             (await web.get("/billing/onec")).text)
            assert csrf is not None
            pages: list[tuple[str, Any]] = [
                ("/billing/payments", 200), ("/billing/payments?state=partly", 200),
                ("/billing/payments?state=unmatched", 200),
                (f"/billing/payments?period={business_today():%Y-%m}&amount=1 000,00", 200),
                ("/billing/payments?amount=много&date_from=1999-01-01", 422),
                ("/billing/payments?period=2026-13", 422), ("/billing/onec", 200),
                *((f"/billing/payments/{p['id']}", 200) for p in payments),
                *((f"/billing/clients/{c}/advance", 200) for c in client_ids)]
            for path, status in pages:
                r = await web.get(path)
                assert r.status_code == status, (username, path, r.status_code)
                if bad := _bad(r.text):
                    found[f"{username} {path}"] = bad
                for link in set(ID.findall(r.text)):
                    r = await web.get(link)
                    assert r.status_code == 200, (username, link)
                    if bad := _bad(r.text):
                        found[f"{username} {link}"] = bad
            for period in ("", "1999-12", "2999-01", "2026-13"):
                r = await web.post("/billing/onec", data={"period": period,
                                                          "csrf_token": csrf.group(1)})
                assert r.status_code == 422 and "field-error" in r.text, (period, r.text[:300])
                if bad := _bad(r.text):
                    found[f"{username} POST /billing/onec {period}"] = bad
            for client in client_ids:
                r = await web.post(f"/billing/clients/{client}/advance",
                                   data={"invoice_id": "", "csrf_token": csrf.group(1)})
                assert r.status_code == 422, r.text[:300]
                if bad := _bad(r.text):
                    found[f"{username} POST advance"] = bad
    assert not found, "\n".join(f"{p}: {', '.join(b)}" for p, b in found.items())
