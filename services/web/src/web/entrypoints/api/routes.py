from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from clientops_shared.auth import CurrentUser
from clientops_shared.errors import InvalidInput
from clientops_shared.http import problem
from clientops_shared.runtime import runtime_of
from web.service_layer import handlers

router = APIRouter(prefix="/api")


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    username: str
    expires_in: int


async def _credentials(request: Request) -> Credentials:
    """Accept the OAuth2 password form as well as JSON, so API clients use either."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            raw: Any = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            raise InvalidInput("body", "not valid JSON") from None
    else:
        raw = dict(await request.form())
    try:
        return Credentials.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(str(first["loc"][0]) if first["loc"] else "body",
                           first["msg"]) from None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/token", response_model=TokenOut,
             responses={401: {"description": "wrong username or password (one message)"},
                        429: {"description": "back-off after repeated failures; Retry-After"}})
async def token(request: Request) -> Any:
    """A bearer token (15 minutes) for the OAuth2 password form or JSON credentials."""
    creds = await _credentials(request)
    runtime = runtime_of(request)
    settings = runtime.settings
    try:
        async with runtime.uow() as uow:
            access, principal = await handlers.authenticate(
                uow, creds.username, creds.password, secret=settings.jwt_secret,
                ttl=timedelta(minutes=settings.token_ttl_minutes),
                address=client_address(request), throttle=settings.throttle())
    except handlers.TooManyAttempts as exc:
        return problem(exc.status, exc.title, exc.detail, retry_after=exc.retry_after,
                       headers={"Retry-After": str(exc.retry_after)})
    return TokenOut(access_token=access, role=principal.role, username=principal.username,
                    expires_in=settings.token_ttl_minutes * 60)


@router.get("/auth/me")
async def me(actor: CurrentUser) -> dict[str, str]:
    return {"username": actor.username, "role": actor.role}
