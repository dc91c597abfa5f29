"""The web frontend in-process on this run's database, with every service it calls down:
pages still answer, each panel says which service is missing, nothing is a 500."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from clientops_shared.testing import Servers, running_app

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


@pytest.fixture
async def web(servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    upstreams = {name: nowhere for name in
                 ("contracts", "billing", "field_ops", "logistics", "notifications")}
    async with running_app(servers, "web", seed_demo_users=True, cookie_secure=False,
                           upstreams=upstreams) as (_, client):
        yield client


async def log_in(client: httpx.AsyncClient, username: str, next_url: str = "/"
                 ) -> httpx.Response:
    page = await client.get("/login", params={"next": next_url})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return await client.post("/login", data={
        "username": username, "password": f"{username}-demo", "next": next_url,
        "csrf_token": token.group(1)})


async def test_pages_say_which_service_is_down(web: httpx.AsyncClient) -> None:
    r = await log_in(web, "manager1")
    assert r.status_code == 303 and r.headers["location"] == "/"
    my_day = await web.get("/")
    assert my_day.status_code == 200
    assert "Сервис «Задачи» сейчас недоступен" in my_day.text
    desk = await web.get("/contracts")
    assert desk.status_code == 200
    assert "Сервис «Договоры» сейчас недоступен" in desk.text
    card = await web.get(f"/clients/{uuid.uuid4()}")
    assert card.status_code == 503
    assert "Сервис «Договоры» сейчас недоступен" in card.text

    await web.post("/logout", data={"csrf_token": csrf(my_day.text)})
    await log_in(web, "billing")
    billing = await web.get("/billing")
    assert billing.status_code == 200
    assert "Сервис «Биллинг» сейчас недоступен" in billing.text
    await web.post("/logout", data={"csrf_token": csrf(billing.text)})
    await log_in(web, "head")
    head = await web.get("/head")
    assert head.status_code == 200
    assert "Сервис «Задачи» сейчас недоступен" in head.text
    assert "Сервис «Биллинг» сейчас недоступен" in head.text


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_forms_need_the_sessions_csrf_token(web: httpx.AsyncClient) -> None:
    await log_in(web, "manager1")
    page = await web.get("/contracts/clients/new")
    token = csrf(page.text)
    refused = await web.post("/contracts/clients/new", data={"name": "X", "inn": "1"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = await web.post("/contracts/clients/new", data={"csrf_token": token[::-1]})
    assert wrong.status_code == 403
    # HTMX sends it as a header instead
    ok = await web.post("/contracts/clients/new", data={"name": "X"},
                        headers={"X-CSRF-Token": token})
    assert ok.status_code == 503  # got past the check; contracts is down


async def test_login_never_redirects_off_site_and_htmx_is_sent_to_login(
        web: httpx.AsyncClient) -> None:
    r = await log_in(web, "manager1", next_url="//evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/"
    web.cookies.clear()
    r = await web.get("/billing", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/login?next=%2Fbilling"
    r = await web.get("/billing")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fbilling"


async def test_a_login_form_without_its_token_and_wrong_passwords_are_refused(
        web: httpx.AsyncClient) -> None:
    r = await web.post("/login", data={"username": "head", "password": "head-demo"})
    assert r.status_code == 403 and "clientops_session" not in r.cookies
    page = await web.get("/login")
    r = await web.post("/login", data={"username": "head", "password": "nope",
                                       "csrf_token": csrf(page.text)})
    assert r.status_code == 401 and "Неверное имя пользователя или пароль" in r.text
    # the public token endpoint is unchanged
    r = await web.post("/api/auth/token", data={"username": "head", "password": "head-demo"})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"


async def test_a_bug_on_a_page_is_a_page_not_json(servers: Servers) -> None:
    async with running_app(servers, "web", seed_demo_users=True, cookie_secure=False
                           ) as (app, _):
        @app.get("/boom")
        @app.get("/api/boom")
        async def boom() -> None:
            raise RuntimeError("a bug")

        # like a server: the answer goes out, the exception is only logged
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            r = await client.get("/boom")
            api = await client.get("/api/boom")
        assert r.status_code == 500
        assert r.headers["content-type"].startswith("text/html")
        assert "Что-то пошло не так" in r.text
        assert api.status_code == 500
        assert api.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_page_is_a_404_page_and_an_unknown_api_path_is_problem_json(
        web: httpx.AsyncClient) -> None:
    await log_in(web, "manager1")
    page = await web.get("/no/such/page")
    assert page.status_code == 404 and "404 · Не найдено" in page.text
    api = await web.get("/api/no/such/thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_the_run_page_polls_until_done_and_lists_failed_contracts(
        servers: Servers) -> None:
    run_id = str(uuid.uuid4())
    run: dict[str, object] = {
        "id": run_id, "period": "2026-12", "status": "running", "trigger": "api",
        "requested_by": "billing", "total": 8, "done": 2, "issued": 1, "skipped": 0,
        "failed": 1, "started_at": "2026-12-15T06:00:00Z", "finished_at": None,
        "error": None, "failures": [{"contract_id": str(uuid.uuid4()),
                                     "contract_number": "2026-0042",
                                     "reason": "у клиента нет e-mail для счёта"}]}
    seen: list[str] = []

    def billing(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.url.path == f"/api/invoice-runs/{run_id}":
            return httpx.Response(200, json=run)
        return httpx.Response(404, json={"title": "Not found", "detail": "Not Found"})

    async with running_app(servers, "web", seed_demo_users=True, cookie_secure=False
                           ) as (app, client):
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(billing))
        await log_in(client, "billing")
        page = await client.get(f"/billing/runs/{run_id}")
        assert page.status_code == 200
        assert '<progress value="25" max="100"' in page.text
        assert f'hx-get="/billing/runs/{run_id}"' in page.text and "every 1s" in page.text
        assert "2026-0042" in page.text and "у клиента нет e-mail для счёта" in page.text
        assert seen and seen[0].startswith("Bearer ")  # the user's token, kept server-side

        run.update(status="finished", done=8, issued=4, already=3,
                   finished_at="2026-12-15T06:01:00Z")
        fragment = await client.get(f"/billing/runs/{run_id}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        # a rerun says how many invoices existed already
        assert "выставлено 4, уже были выставлены раньше 3" in fragment.text
        # a failed scheduled run: said in Russian, the technical error only for support
        run.update(status="failed", trigger="schedule",
                   error="ConnectionRefusedError: [Errno 111] Connect call failed")
        fragment = await client.get(f"/billing/runs/{run_id}", headers={"HX-Request": "true"})
        assert "Выставление не завершилось из-за технической ошибки" in fragment.text
        assert "запуск по расписанию повторится и сам" in fragment.text
        assert "<code>ConnectionRefusedError: [Errno 111] Connect call failed</code>" in (
            fragment.text)
        assert fragment.text.lstrip().startswith('<section id="run-progress"')
        assert "<html" not in fragment.text
        assert 'data-finished="yes"' in fragment.text and "hx-trigger" not in fragment.text
        assert '<progress value="100"' in fragment.text
        await app.state.http.aclose()
