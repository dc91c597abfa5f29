"""Bearer JWTs issued by ``web`` (or minted for a service) and checked by every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clientops_shared import context
from clientops_shared.errors import DomainError, Forbidden

ROLES = frozenset({"manager", "head", "billing", "dispatcher", "technician", "logistics",
                   "lawyer", "accountant", "admin", "sales", "service"})
SEES_ALL_CLIENTS = frozenset({"head", "admin", "service", "billing", "accountant", "lawyer",
                              "dispatcher", "logistics"})
ALGORITHM = "HS256"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Principal:
    username: str
    role: str

    @property
    def sees_all_clients(self) -> bool:
        return self.role in SEES_ALL_CLIENTS

    def may_see_client_of(self, manager: str | None) -> bool:
        """A manager sees only their own clients; head/admin and back-office roles see all."""
        return self.sees_all_clients or (manager is not None and manager == self.username)


def issue_token(secret: str, username: str, role: str, ttl: timedelta = timedelta(hours=12)
                ) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    now = datetime.now(UTC)
    return jwt.encode({"sub": username, "role": role, "iat": now, "exp": now + ttl}, secret,
                      algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    if claims["role"] not in ROLES:
        raise Unauthorized("token names an unknown role")
    return Principal(username=claims["sub"], role=claims["role"])


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing bearer token")
    principal = decode_token(request.app.state.jwt_secret, credentials.credentials)
    context.actor.set(principal.username)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = frozenset(roles) | {"admin", "service"}

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of "
                            f"{', '.join(sorted(roles))}")
        return principal

    return check
