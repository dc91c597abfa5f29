"""The cloud-admin port (000 §6): create a client's cloud and our support account in it.

Two adapters: ``HttpCloudAdmin`` (httpx, the admin panel's REST API) and ``FakeCloudAdmin``
(dev, tests). The first-login password exists only in memory here: it goes straight into the
credentials event and is never logged, stored or answered over HTTP.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Protocol

import httpx


class CloudAdminError(Exception):
    """The admin panel refused or is unreachable; nothing was recorded."""


@dataclass(frozen=True)
class Tenant:
    ref: str
    url: str
    login: str
    password: str = field(repr=False)
    support_account: str


class CloudAdmin(Protocol):
    async def create_tenant(self, *, subdomain: str, client_name: str) -> Tenant: ...


class HttpCloudAdmin:
    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport,
                                         headers={"Authorization": f"Bearer {token}"})

    async def create_tenant(self, *, subdomain: str, client_name: str) -> Tenant:
        try:
            r = await self._client.post("/api/tenants", json={"subdomain": subdomain,
                                                              "name": client_name})
            if r.status_code == 409:
                raise CloudAdminError(f"адрес {subdomain} уже занят в облаке")
            r.raise_for_status()
            tenant = r.json()
            s = await self._client.post(f"/api/tenants/{tenant['id']}/accounts",
                                        json={"role": "support", "login": "support"})
            s.raise_for_status()
        except httpx.HTTPError as exc:
            raise CloudAdminError(f"панель облака не ответила: {type(exc).__name__}") from None
        return Tenant(ref=str(tenant["id"]), url=str(tenant["url"]),
                      login=str(tenant["admin_login"]), password=str(tenant["admin_password"]),
                      support_account=str(s.json()["login"]))

    async def aclose(self) -> None:
        await self._client.aclose()


class FakeCloudAdmin:
    """Keeps tenants in memory; the same subdomain twice is refused like the real panel."""

    def __init__(self, domain: str = "cloud.example") -> None:
        self.domain = domain
        self.tenants: dict[str, Tenant] = {}

    async def create_tenant(self, *, subdomain: str, client_name: str) -> Tenant:
        if subdomain in self.tenants:
            raise CloudAdminError(f"адрес {subdomain} уже занят в облаке")
        tenant = Tenant(ref=f"fake-{len(self.tenants) + 1}",
                        url=f"https://{subdomain}.{self.domain}", login="admin",
                        password=secrets.token_urlsafe(12), support_account="support")
        self.tenants[subdomain] = tenant
        return tenant
