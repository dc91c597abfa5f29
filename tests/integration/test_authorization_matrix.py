"""The authorization matrix, generated from every service's routes.

Every operation in each service's OpenAPI must have a rule in ``authorization_rules.RULES``
(a new route without one fails here), every rule must name a route that exists, and every
rule holds: without a token → 401; with each role's token → 401/403 exactly for the roles the
rule leaves out. ``service`` passes only the service-to-service routes that name it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clientops_shared.auth import ROLES, SERVICE, issue_token, service_issuer
from clientops_shared.testing import Servers, running_app

from .authorization_rules import ANY_PERSON, PUBLIC, RULES

pytestmark = pytest.mark.integration
SERVICES = ("contracts", "billing", "field_ops", "logistics", "notifications", "web")
# routes whose handler talks to the broker's management side; covered by their rule's shape
# check only (calling them with an allowed role would act on the run's queues)
NOT_CALLED = {("POST", "/api/admin/dead-letters/replay")}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items()
            for method, op in item.items()]


def concrete(path: str, op: dict[str, Any]) -> str:
    values = {}
    for p in op.get("parameters", []):
        if p["in"] == "path":
            schema = p.get("schema", {})
            values[p["name"]] = (schema["enum"][0] if "enum" in schema
                                 else str(uuid.uuid4()))
    return path.format(**values)


def token_for(servers: Servers, role: str) -> str:
    if role == SERVICE:
        return issue_token(servers.jwt_secret, "notifications", SERVICE,
                           issuer=service_issuer("notifications"))
    return servers.token(f"probe-{role}", role)


async def observed(servers: Servers, client: httpx.AsyncClient, method: str, url: str
                   ) -> tuple[bool, frozenset[str]]:
    """(answers without a token, the roles that pass authentication and authorization)"""
    kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    anonymous = await client.request(method, url, **kwargs)
    passed = set()
    for role in sorted(ROLES):
        r = await client.request(method, url, headers={
            "Authorization": f"Bearer {token_for(servers, role)}"}, **kwargs)
        assert r.status_code < 500, (method, url, role, r.status_code, r.text[:300])
        if r.status_code not in (401, 403):
            passed.add(role)
    return anonymous.status_code != 401, frozenset(passed)


def expected(rule: Any) -> tuple[bool, frozenset[str]]:
    if rule == PUBLIC:
        return True, frozenset(ROLES)
    if rule == ANY_PERSON:
        return False, frozenset(ROLES - {SERVICE})
    return False, frozenset(rule) | {"admin"}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_has_a_rule_and_the_rule_holds(servers: Servers, service: str
                                                         ) -> None:
    rules = RULES[service]
    async with running_app(servers, service) as (app, client):
        ops = operations(app.openapi())
        routes = {(method, path) for method, path, _ in ops}
        missing = sorted(routes - set(rules))
        assert not missing, f"{service}: routes without an authorization rule: {missing}"
        stale = sorted(set(rules) - routes)
        assert not stale, f"{service}: rules for routes that do not exist: {stale}"
        wrong = []
        for method, path, op in ops:
            if (method, path) in NOT_CALLED:
                continue
            got = await observed(servers, client, method, concrete(path, op))
            want = expected(rules[(method, path)])
            if got != want:
                wrong.append((method, path, "public" if got[0] else sorted(got[1]),
                              "expected", "public" if want[0] else sorted(want[1])))
        assert not wrong, f"{service}: {len(wrong)} routes break their rule: {wrong}"


def test_the_service_role_passes_only_service_routes() -> None:
    service_routes = [(svc, route) for svc, rules in RULES.items()
                      for route, rule in rules.items()
                      if rule not in (PUBLIC, ANY_PERSON) and SERVICE in rule]
    assert sorted(service_routes) == [
        ("billing", ("GET", "/api/invoices/{invoice_id}/pdf")),
        ("contracts", ("GET", "/api/clients/{client_id}")),
        ("contracts", ("GET", "/api/clients/{client_id}/sites")),
    ]
