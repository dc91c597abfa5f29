"""Log-in: one message for every refusal, the same work for unknown users (a dummy argon2
check), and back-off per account and per client address instead of a lock an attacker could
put on someone else's account."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx
import pytest

from clientops_shared.testing import Servers, running_app

pytestmark = pytest.mark.integration
PASSWORD = "Длинный-пароль-1"


async def new_user(app: Any, role: str = "manager") -> str:
    from web.service_layer import handlers

    username = f"u{uuid.uuid4().hex[:8]}"
    async with app.state.runtime.uow() as uow:
        await handlers.create_user(uow, username, role, "Проверка", PASSWORD)
    return username


def client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://web")


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", data={"username": username,
                                                      "password": password})


async def test_unknown_and_known_users_get_the_same_answer_in_the_same_time(
        servers: Servers) -> None:
    async with running_app(servers, "web", login_account_free_failures=1000,
                           login_address_free_failures=1000) as (app, _):
        known = await new_user(app)
        disabled = await new_user(app)
        from web.service_layer import handlers

        async with app.state.runtime.uow() as uow:
            await handlers.update_user(uow, disabled, role="manager", full_name="x",
                                       active=False)
        async with client_from(app, "10.0.0.1") as client:
            answers = [await attempt(client, known, "wrong-password"),
                       await attempt(client, f"nobody-{uuid.uuid4().hex[:6]}", "x"),
                       await attempt(client, disabled, PASSWORD)]
            assert {r.status_code for r in answers} == {401}
            assert len({r.json()["detail"] for r in answers}) == 1
            assert answers[0].json()["detail"] == "wrong username or password"

            async def timed(username: str) -> float:
                started = time.perf_counter()
                r = await attempt(client, username, "wrong-password")
                assert r.status_code == 401
                return time.perf_counter() - started

            await timed(known)  # warm up (the dummy hash is made once per process)
            await timed("warm-up-unknown")
            existing, missing = [], []
            for i in range(7):  # interleaved, so load on the machine hits both alike
                existing.append(await timed(known))
                missing.append(await timed(f"nobody-{i}-{uuid.uuid4().hex[:6]}"))
        ratio = statistics.median(missing) / statistics.median(existing)
        print(f"wrong password: existing user median {statistics.median(existing) * 1000:.0f} "
              f"ms, unknown user {statistics.median(missing) * 1000:.0f} ms, ratio {ratio:.2f}")
        # before: 8 ms vs 250-320 ms (ratio ~0.03); an argon2 check on both paths makes it ~1
        assert 0.5 < ratio < 2.0, (ratio, existing, missing)
        assert statistics.median(existing) > 0.005  # the check really hashes


async def test_failures_slow_an_account_down_but_never_lock_its_owner_out(
        servers: Servers) -> None:
    async with running_app(servers, "web", login_account_free_failures=3,
                           login_account_max_wait_seconds=3, login_backoff_base_seconds=3,
                           login_address_free_failures=1000) as (app, _):
        victim = await new_user(app)
        async with client_from(app, "10.0.0.66") as attacker:
            for _ in range(3):
                assert (await attempt(attacker, victim, "guess")).status_code == 401
            r = await attempt(attacker, victim, "guess")
            assert r.status_code == 429, r.text
            assert 1 <= int(r.headers["Retry-After"]) <= 3
            assert r.headers["content-type"].startswith("application/problem+json")
            # even the right password waits out the back-off (else guessing goes on) …
            assert (await attempt(attacker, victim, PASSWORD)).status_code == 429
            # … and an account nobody has is throttled alike: 429 does not tell who exists
            ghost = f"ghost-{uuid.uuid4().hex[:6]}"
            for _ in range(3):
                assert (await attempt(attacker, ghost, "guess")).status_code == 401
            assert (await attempt(attacker, ghost, "guess")).status_code == 429
        await asyncio.sleep(3.1)
        # the wait ends by itself (capped at 3 s here, a minute by default): no admin needed
        async with client_from(app, "10.0.0.7") as owner:
            r = await attempt(owner, victim, PASSWORD)
            assert r.status_code == 200, r.text
            # success clears the account's count: one slip later is not throttled
            assert (await attempt(owner, victim, "slip")).status_code == 401
            assert (await attempt(owner, victim, PASSWORD)).status_code == 200


async def test_one_address_guessing_many_accounts_is_slowed_down(servers: Servers) -> None:
    async with running_app(servers, "web", login_address_free_failures=4,
                           login_address_max_wait_seconds=60, login_backoff_base_seconds=20,
                           login_account_free_failures=1000) as (app, _):
        someone = await new_user(app)
        async with client_from(app, "10.0.0.99") as sprayer:
            for i in range(4):
                r = await attempt(sprayer, f"user{i}-{uuid.uuid4().hex[:4]}", "Winter2026!")
                assert r.status_code == 401
            r = await attempt(sprayer, someone, PASSWORD)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        async with client_from(app, "10.0.0.100") as elsewhere:
            # another address is not affected, and the account itself is not locked
            assert (await attempt(elsewhere, someone, PASSWORD)).status_code == 200


async def test_the_login_page_answers_429_in_russian(servers: Servers) -> None:
    async with running_app(servers, "web", login_account_free_failures=1,
                           login_account_max_wait_seconds=30,
                           login_address_free_failures=1000, cookie_secure=False) as (app, _):
        victim = await new_user(app)
        async with client_from(app, "10.0.0.5") as browser:
            for expected in (401, 429):
                page = await browser.get("/login")
                csrf = page.cookies.get("clientops_login_csrf") or next(
                    c.value for c in browser.cookies.jar if "csrf" in c.name)
                r = await browser.post("/login", data={"username": victim,
                                                       "password": "wrong",
                                                       "csrf_token": csrf, "next": "/"})
                assert r.status_code == expected, r.text[:300]
            assert "Слишком много неудачных попыток входа" in r.text
            assert r.headers["Retry-After"]


async def test_a_page_session_outlives_its_short_token_by_re_minting_it(servers: Servers
                                                                        ) -> None:
    from datetime import UTC, datetime, timedelta

    from clientops_shared.auth import decode_token, expires_at
    from web.service_layer import handlers

    async with running_app(servers, "web") as (app, _):
        username = await new_user(app)
        runtime = app.state.runtime
        secret = runtime.settings.jwt_secret
        async with runtime.uow() as uow:
            started = await handlers.start_session(
                uow, username, PASSWORD, secret=secret, ttl=timedelta(hours=12),
                token_ttl=timedelta(seconds=30))
        assert started.session.expires_at - datetime.now(UTC) > timedelta(hours=11)
        async with runtime.uow() as uow:
            session = await handlers.current_session(uow, started.cookie_value)
            user = await uow.user(username)
            assert session is not None and user is not None
            old = session.access_token
            token = await handlers.session_token(uow, session, user, secret=secret,
                                                 ttl=timedelta(minutes=15))
        assert token != old
        assert expires_at(token) - datetime.now(UTC) > timedelta(minutes=14)
        assert decode_token(secret, token).username == username
        async with runtime.uow() as uow:  # stored: the next page uses it as it is
            session = await handlers.current_session(uow, started.cookie_value)
            user = await uow.user(username)
            assert session is not None and user is not None
            assert session.access_token == token
            assert await handlers.session_token(uow, session, user, secret=secret,
                                                ttl=timedelta(minutes=15)) == token
