"""Tokens: issuer and audience checked, service tokens only on service routes, 401 bodies that
do not echo the JWT library, revoked versions refused, and no start with the public secret."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from clientops_shared.auth import (
    AUDIENCE,
    USER_ISSUER,
    CurrentUser,
    Principal,
    decode_token,
    issue_token,
    require_roles,
    service_issuer,
)
from clientops_shared.http import install_problem_handlers
from clientops_shared.settings import DEV_JWT_SECRET, DEV_MODE_FLAG

pytestmark = pytest.mark.unit
SECRET = "a-test-secret-that-is-long-enough-0123456789"
LIBRARY_TEXTS = ("Signature", "segments", "audience", "issuer", "decode", "padding",
                 "Invalid", "required", "claim", "json", "header", "algorithm")


def raw(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {"sub": "manager1", "role": "manager", "iat": now, "exp": now + timedelta(minutes=5),
            "iss": USER_ISSUER, "aud": AUDIENCE, "ver": 0}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, secret,
                      algorithm=algorithm)


class StubRevocations:
    def __init__(self, versions: dict[str, int]) -> None:
        self.versions = versions

    async def check(self, principal: Principal) -> None:
        from clientops_shared.auth import Unauthorized

        if principal.version < self.versions.get(principal.username, 0):
            raise Unauthorized("token revoked; log in again")


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.jwt_secret = SECRET
    app.state.revocations = StubRevocations({"demoted": 3})

    @app.get("/people")
    async def people(actor: CurrentUser) -> dict[str, str]:
        return {"who": actor.username}

    @app.get("/desk")
    async def desk(actor: Annotated[Principal, Depends(require_roles("billing"))]
                   ) -> dict[str, str]:
        return {"who": actor.username}

    @app.get("/service-route")
    async def service_route(
            actor: Annotated[Principal, Depends(require_roles("billing", "service"))]
    ) -> dict[str, str]:
        return {"who": actor.username}

    return app


async def call(path: str, token: str | None) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app())
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


BAD_TOKENS = [
    ("no issuer", raw({"iss": None})),
    ("no audience", raw({"aud": None})),
    ("wrong audience", raw({"aud": "someone-else"})),
    ("wrong issuer", raw({"iss": "evil"})),
    ("a person's role from a service issuer", raw({"iss": service_issuer("billing")})),
    ("service role from web's issuer", raw({"role": "service"})),
    ("unknown role", raw({"role": "superuser"})),
    ("no iat", raw({"iat": None})),
    ("expired", raw({"exp": datetime.now(UTC) - timedelta(seconds=5)})),
    ("wrong key", raw({}, secret="another-secret-that-is-long-enough-000000")),
    ("alg none", jwt.encode({"sub": "a", "role": "admin"}, None, algorithm="none")),
    ("not a JWT", "not.a.jwt"),
    ("garbage", "x"),
    ("revoked version", raw({"sub": "demoted", "ver": 2})),
]


@pytest.mark.parametrize(("case", "token"), BAD_TOKENS, ids=[c[0] for c in BAD_TOKENS])
async def test_bad_tokens_get_a_plain_401(case: str, token: str) -> None:
    r = await call("/people", token)
    assert r.status_code == 401, r.text
    detail = r.json()["detail"]
    assert detail in ("invalid token", "token expired", "token revoked; log in again")
    assert not any(text.lower() in r.text.lower() for text in LIBRARY_TEXTS
                   if text.lower() not in detail), r.text


async def test_good_tokens_pass_and_versions_at_or_above_the_revoked_one() -> None:
    assert (await call("/people", issue_token(SECRET, "manager1", "manager"))).json() == {
        "who": "manager1"}
    assert (await call("/people", raw({"sub": "demoted", "ver": 3}))).status_code == 200
    claims = jwt.decode(issue_token(SECRET, "m", "manager"), SECRET, algorithms=["HS256"],
                        audience=AUDIENCE)
    assert claims["iss"] == USER_ISSUER and claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] <= 15 * 60  # short-lived by default


async def test_service_tokens_pass_only_routes_that_name_the_service_role() -> None:
    service = issue_token(SECRET, "notifications", "service",
                          issuer=service_issuer("notifications"))
    assert (await call("/service-route", service)).status_code == 200
    assert (await call("/people", service)).status_code == 403
    assert (await call("/desk", service)).status_code == 403
    # admin passes every role check; a person with another role does not pass a desk's
    assert (await call("/desk", issue_token(SECRET, "ops", "admin"))).status_code == 200
    assert (await call("/desk", issue_token(SECRET, "m", "manager"))).status_code == 403
    with pytest.raises(ValueError):
        issue_token(SECRET, "notifications", "service")  # a service token names its issuer
    assert decode_token(SECRET, service).role == "service"


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in (DEV_MODE_FLAG, "CLIENTOPS_JWT_SECRET")}
    return subprocess.run([sys.executable, "-m", "contracts"], env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_a_service_refuses_to_start_with_the_public_secret_outside_development() -> None:
    refused = start({"CONTRACTS_PORT": "1"})  # would never bind: it must stop before
    assert refused.returncode != 0
    assert "refusing to start with the public development JWT secret" in refused.stderr
    assert "CLIENTOPS_JWT_SECRET" in refused.stderr and DEV_MODE_FLAG in refused.stderr
    short = start({"CLIENTOPS_JWT_SECRET": "short"})
    assert short.returncode != 0 and "shorter than 32" in short.stderr
    explicit = start({"CLIENTOPS_JWT_SECRET": DEV_JWT_SECRET})
    assert explicit.returncode != 0 and "public development JWT secret" in explicit.stderr


def test_the_runtime_refuses_it_too_unless_the_dev_flag_is_set(monkeypatch: Any) -> None:
    from clientops_shared.settings import InsecureSettings, ServiceSettings, check_secrets

    settings = ServiceSettings(jwt_secret=DEV_JWT_SECRET)
    monkeypatch.delenv(DEV_MODE_FLAG, raising=False)
    with pytest.raises(InsecureSettings):
        check_secrets(settings)
    check_secrets(ServiceSettings(jwt_secret="x" * 40))
    monkeypatch.setenv(DEV_MODE_FLAG, "1")
    check_secrets(settings)
