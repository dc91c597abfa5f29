"""Bad input against every route of all six services: a 422 naming the field, never a 500.

Generated from each service's OpenAPI, so a new route is probed without editing this file:
every query and path parameter gets a NUL character, every integer one a value beyond 64 bits,
every date one the years 0001 and 9999; every JSON body a NUL in each of its string fields.
Plus the cases the issue names one by one (contracts' client PATCH with ``null``, deeply
nested JSON on web's log-in).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clientops_shared.testing import Servers, random_inn, running_app

pytestmark = pytest.mark.integration

SERVICES = ("contracts", "billing", "field_ops", "logistics", "notifications", "web")
SKIP_PREFIXES = ("/api/admin/dead-letters",)  # talks to the broker, owned by the DLQ work


def _schema_of(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_of(spec, spec["components"]["schemas"][name])
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            resolved = _schema_of(spec, option)
            if resolved.get("type") != "null":
                return resolved
    return schema


def _good(schema: dict[str, Any]) -> str:
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "1"
    if "enum" in schema:
        return str(schema["enum"][0])
    return "x"


def _bad_values(schema: dict[str, Any]) -> list[str]:
    bad = ["a\x00b"]
    if schema.get("type") == "integer":
        bad.append(str(2**64))
    if schema.get("format") == "date":
        bad += ["0001-01-01", "9999-12-31"]
    return bad


def probes(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, request kwargs, field) for every parameter and JSON body field."""
    out: list[tuple[str, str, dict[str, Any], str]] = []
    for path, item in spec["paths"].items():
        if path.startswith(SKIP_PREFIXES):
            continue
        for method, op in item.items():
            params = op.get("parameters", [])
            path_values = {p["name"]: _good(_schema_of(spec, p.get("schema", {})))
                           for p in params if p["in"] == "path"}
            url = path.format(**path_values)
            for p in params:
                if p["in"] not in ("query", "path"):
                    continue
                schema = _schema_of(spec, p.get("schema", {}))
                for bad in _bad_values(schema):
                    if p["in"] == "query":
                        out.append((method, url, {"params": {p["name"]: bad}}, p["name"]))
                    elif "\x00" in bad:
                        out.append((method, path.format(**{**path_values, p["name"]: "a%00b"}),
                                    {}, "path"))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = _schema_of(spec, body["schema"])
                for name, prop in schema.get("properties", {}).items():
                    if _schema_of(spec, prop).get("type") == "string":
                        out.append((method, url, {"json": {name: "a\x00b"}}, name))
    return out


@pytest.mark.parametrize("service", SERVICES)
async def test_no_route_answers_500_to_bad_input(servers: Servers, service: str) -> None:
    async with running_app(servers, service) as (app, client):
        spec = app.openapi()
        cases = probes(spec)
        assert cases, f"{service}: no parameters found to probe"
        admin = servers.auth("ops", "admin")
        failures = []
        for method, url, kwargs, field in cases:
            r = await client.request(method.upper(), url, headers=admin, **kwargs)
            if r.status_code >= 500 or r.status_code != 422:
                failures.append((method, url, kwargs, r.status_code, r.text[:200]))
                continue
            fields = [e.get("field") for e in r.json().get("errors", [])]
            if field not in fields:
                failures.append((method, url, kwargs, "names", fields))
        assert not failures, f"{len(failures)} of {len(cases)} probes: {failures[:10]}"


GOOD_CLIENT = {"name": "ООО «Проверка»", "inn": "7707083893", "email": "a@example.ru"}


async def test_contracts_client_patch_refuses_null_for_required_fields(servers: Servers
                                                                       ) -> None:
    async with running_app(servers, "contracts") as (_, client):
        manager = servers.auth("manager1", "manager")
        created = await client.post("/api/clients", json={**GOOD_CLIENT, "inn": random_inn()},
                                    headers=manager)
        assert created.status_code == 201, created.text
        url = f"/api/clients/{created.json()['id']}"
        for field in ("name", "email"):
            r = await client.patch(url, json={field: None}, headers=manager)
            assert r.status_code == 422, r.text
            assert field in [e["field"] for e in r.json()["errors"]]
        for field, value in (("inn", None), ("name", "a\x00"), ("phone", "+7999\x00")):
            r = await client.patch(url, json={field: value}, headers=manager)
            assert r.status_code == 422, (field, r.text)
        after = (await client.get(url, headers=manager)).json()
        assert (after["name"], after["email"]) == (GOOD_CLIENT["name"], GOOD_CLIENT["email"])
        # an optional field may still be cleared
        r = await client.patch(url, json={"legal_address": None}, headers=manager)
        assert r.status_code == 200, r.text


async def test_web_login_refuses_deeply_nested_json(servers: Servers) -> None:
    async with running_app(servers, "web") as (_, client):
        for body in (b"[" * 100_000 + b"]" * 100_000,
                     b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                     b'{"username": "admin\\u0000", "password": "x"}'):
            r = await client.post("/api/auth/token", content=body,
                                  headers={"content-type": "application/json"})
            assert r.status_code in (400, 422), r.text
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.post("/api/auth/token", data={"username": "a\x00", "password": "b"})
        assert r.status_code == 422, r.text


async def test_amounts_and_dates_out_of_range_on_real_routes(servers: Servers) -> None:
    async with running_app(servers, "contracts") as (_, client):
        manager = servers.auth("manager1", "manager")
        created = await client.post("/api/clients", json={**GOOD_CLIENT, "inn": random_inn()},
                                    headers=manager)
        assert created.status_code == 201, created.text
        base = {"client_id": created.json()["id"], "kind": "subscription",
                "starts_on": "2026-12-01", "ends_on": "2027-11-30",
                "monthly_fee": "12500.00", "auto_renew": False, "standard": True}
        for change, field in (({"monthly_fee": "1000000000000.00"}, "monthly_fee"),
                              ({"monthly_fee": "10000000000"}, "monthly_fee"),
                              ({"monthly_fee": "1e5"}, "monthly_fee"),
                              ({"starts_on": "0001-01-01"}, "starts_on"),
                              ({"ends_on": "9999-12-31"}, "ends_on")):
            r = await client.post("/api/contracts", json={**base, **change}, headers=manager)
            assert r.status_code == 422, (change, r.text)
            assert field in [e["field"] for e in r.json()["errors"]], r.json()
        listed = await client.get("/api/contracts", params={"client_id": base["client_id"]},
                                  headers=manager)
        assert listed.json() == []  # nothing written

    async with running_app(servers, "billing") as (_, client):
        billing = servers.auth("billing", "billing")
        for body, field in (({"on": "9999-12-31"}, "on"), ({"on": "0001-01-01"}, "on")):
            r = await client.post("/api/dunning-runs", json=body, headers=billing)
            assert r.status_code == 422, r.text
            assert field in [e["field"] for e in r.json()["errors"]]
        r = await client.get("/api/reports/aging", params={"on": "9999-12-31"},
                             headers=billing)
        assert r.status_code == 422, r.text


def test_probes_cover_every_parameter() -> None:
    spec = {"paths": {"/a/{id}": {"get": {"parameters": [
        {"in": "path", "name": "id", "schema": {"type": "string", "format": "uuid"}},
        {"in": "query", "name": "offset", "schema": {"type": "integer"}},
        {"in": "query", "name": "on", "schema": {"anyOf": [{"type": "string",
                                                            "format": "date"},
                                                           {"type": "null"}]}}]}}},
            "components": {"schemas": {}}}
    fields = [field for _, _, _, field in probes(spec)]
    assert fields.count("offset") == 2 and fields.count("on") == 3 and "path" in fields


_ = httpx  # the clients come from running_app
