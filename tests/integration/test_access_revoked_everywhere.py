"""Nobody keeps access they lost: deactivate or demote a user in web and the tokens they hold
get 401 on all six services within a minute — through web's outbox, the broker and every
service's consumer (``web.user.*`` → ``token_revocation``), not by a shared database."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import httpx
import pytest

from clientops_shared.testing import Servers, running_app

pytestmark = pytest.mark.integration

# one route per service that any logged-in manager may read
PROBES = {
    "web": "/api/auth/me",
    "contracts": "/api/clients",
    "billing": "/api/invoices",
    "field_ops": "/api/clients",
    "logistics": "/api/clients",
    "notifications": "/api/tasks",
}
PASSWORD = "Длинный-пароль-1"


async def login(web: httpx.AsyncClient, username: str) -> str:
    r = await web.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def statuses(clients: dict[str, httpx.AsyncClient], token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(*(clients[name].get(path, headers=headers)
                                     for name, path in PROBES.items()))
    return {name: r.status_code for name, r in zip(PROBES, answers, strict=True)}


async def until_refused(clients: dict[str, httpx.AsyncClient], token: str, what: str,
                        within: float = 60.0) -> float:
    started = time.monotonic()
    seen: dict[str, int] = {}
    while time.monotonic() - started < within:
        seen = await statuses(clients, token)
        if all(code == 401 for code in seen.values()):
            took = time.monotonic() - started
            print(f"{what}: token refused on all six services after {took:.1f} s")
            return took
        await asyncio.sleep(0.5)
    raise AssertionError(f"still accepted after {within} s: {seen}")


async def test_deactivated_and_demoted_users_lose_access_on_every_service(
        private_broker: Servers) -> None:
    from web.service_layer import handlers

    async with contextlib.AsyncExitStack() as stack:
        apps: dict[str, Any] = {}
        clients: dict[str, httpx.AsyncClient] = {}
        for name in PROBES:
            app, client = await stack.enter_async_context(running_app(private_broker, name))
            apps[name], clients[name] = app, client
        web_runtime = apps["web"].state.runtime
        username = f"m{uuid.uuid4().hex[:8]}"
        async with web_runtime.uow() as uow:
            await handlers.create_user(uow, username, "manager", "Менеджер", PASSWORD)

        token = await login(clients["web"], username)
        assert set((await statuses(clients, token)).values()) == {200}

        # demoted: the manager token stops working everywhere; a new log-in has the new role
        async with web_runtime.uow() as uow:
            await handlers.update_user(uow, username, role="technician", full_name="Техник",
                                       active=True)
        assert await until_refused(clients, token, "demoted") < 60
        fresh = await login(clients["web"], username)
        me = await clients["web"].get("/api/auth/me",
                                      headers={"Authorization": f"Bearer {fresh}"})
        assert me.json() == {"username": username, "role": "technician"}
        assert (await statuses(clients, fresh))["field_ops"] == 200

        # deactivated: every token, the fresh one too, is refused everywhere; no new log-in
        async with web_runtime.uow() as uow:
            await handlers.update_user(uow, username, role="technician", full_name="Техник",
                                       active=False)
        assert await until_refused(clients, fresh, "deactivated") < 60
        r = await clients["web"].post("/api/auth/token",
                                      data={"username": username, "password": PASSWORD})
        assert r.status_code == 401

        # it went through the broker: each consuming service stored the version itself
        for name in ("contracts", "billing", "field_ops", "logistics", "notifications"):
            runtime = apps[name].state.runtime
            table = runtime.revocations.table
            async with runtime.engine.connect() as conn:
                row = (await conn.execute(table.select().where(
                    table.c.username == username))).one()
            assert (row.min_version, row.active) == (2, False), name
        # an unrelated user's token is untouched
        other = f"m{uuid.uuid4().hex[:8]}"
        async with web_runtime.uow() as uow:
            await handlers.create_user(uow, other, "manager", "Другой", PASSWORD)
        assert set((await statuses(clients, await login(clients["web"], other))).values()) \
            == {200}
