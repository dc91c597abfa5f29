"""Bearer JWTs issued by ``web`` (or minted for a service) and checked by every service.

Every token names its issuer (``iss``: web for people, ``clientops-<service>`` for a service
calling another) and audience (``aud``), carries the user's token version (``ver``) and lives
at most 15 minutes; each service also refuses a token whose version a ``web.user.*`` event has
since revoked (``clientops_shared.revocation``). The ``service`` role passes only routes that
name it (service-to-service routes); 401 bodies never echo the JWT library's text.
"""

from __future__ import annotations

import time
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
SERVICE = "service"
AUDIENCE = "clientops"
USER_ISSUER = "clientops-web"
SERVICE_ISSUER_PREFIX = "clientops-"
ACCESS_TTL = timedelta(minutes=15)


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    version: int = 0  # the user's token version when the token was issued

    @property
    def sees_all_clients(self) -> bool:
        return self.role in SEES_ALL_CLIENTS

    def may_see_client_of(self, manager: str | None) -> bool:
        """A manager sees only their own clients; head/admin and back-office roles see all."""
        return self.sees_all_clients or (manager is not None and manager == self.username)


def issue_token(secret: str, username: str, role: str, ttl: timedelta = ACCESS_TTL, *,
                version: int = 0, issuer: str = USER_ISSUER) -> str:
    """A user's access token (web) or, with ``role="service"`` and the calling service's issuer
    (``service_issuer(name)``), a service's token for a service-to-service route."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if (role == SERVICE) != (issuer != USER_ISSUER):
        raise ValueError("service tokens come from a service issuer, user tokens from web")
    now = datetime.now(UTC)
    return jwt.encode({"sub": username, "role": role, "ver": version, "iat": now,
                       "exp": now + ttl, "iss": issuer, "aud": AUDIENCE}, secret,
                      algorithm=ALGORITHM)


def expires_at(token: str) -> datetime:
    """When a token this process holds (e.g. web's session token) expires; not a check."""
    claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    return datetime.fromtimestamp(int(claims.get("exp", 0)), UTC)


def service_issuer(service: str) -> str:
    return f"{SERVICE_ISSUER_PREFIX}{service}"


# tokens already verified in this process: (secret, token) → (principal, exp). A token is
# refused from here the second its ``exp`` passes, and revocation is checked on every request
# anyway (``Revocations``, reloaded every few seconds), so the cache saves only the HMAC and
# the claim checks, which a one-row read spent a tenth of its time on (issue 14)
VERIFIED_CACHE_SIZE = 2048
_verified: dict[tuple[str, str], tuple[Principal, float]] = {}


def decode_token(secret: str, token: str) -> Principal:
    key = (secret, token)
    hit = _verified.get(key)
    if hit is not None:
        principal, exp = hit
        if time.time() < exp:
            return principal
        del _verified[key]
        raise Unauthorized("token expired")
    principal, exp = _verify(secret, token)
    if len(_verified) >= VERIFIED_CACHE_SIZE:  # the oldest entry goes (dicts keep order)
        _verified.pop(next(iter(_verified)), None)
    _verified[key] = (principal, exp)
    return principal


def _verify(secret: str, token: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["sub", "role", "exp", "iat", "iss", "aud"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError:
        # never the library's text: it tells a prober which check failed
        raise Unauthorized("invalid token") from None
    role, issuer, version = claims["role"], claims["iss"], claims.get("ver", 0)
    if role not in ROLES or not isinstance(claims["sub"], str) or not isinstance(version, int):
        raise Unauthorized("invalid token")
    if role == SERVICE:
        if issuer == USER_ISSUER or not str(issuer).startswith(SERVICE_ISSUER_PREFIX):
            raise Unauthorized("invalid token")
    elif issuer != USER_ISSUER:
        raise Unauthorized("invalid token")
    return Principal(username=claims["sub"], role=role, version=version), float(claims["exp"])


_bearer = HTTPBearer(auto_error=False)


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Any valid, unrevoked token, the ``service`` role included (service-to-service routes)."""
    if credentials is None:
        raise Unauthorized("missing bearer token")
    principal = decode_token(request.app.state.jwt_secret, credentials.credentials)
    revocations = getattr(request.app.state, "revocations", None)
    if revocations is not None and principal.role != SERVICE:
        await revocations.check(principal)
    context.actor.set(principal.username)
    return principal


async def current_principal(principal: Annotated[Principal, Depends(authenticated)]
                            ) -> Principal:
    """A person's token: a service token is refused here (it passes only routes naming it)."""
    if principal.role == SERVICE:
        raise Forbidden("a service token is accepted only on service-to-service routes")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


AnyPrincipal = Annotated[Principal, Depends(authenticated)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Admin may do everything; ``service`` only where a route names it."""
    allowed = frozenset(roles) | {"admin"}

    def refuse(principal: Principal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of "
                            f"{', '.join(sorted(roles))}")
        return principal

    if SERVICE in roles:
        async def check_service_route(principal: AnyPrincipal) -> Principal:
            return refuse(principal)

        return check_service_route

    async def check(principal: CurrentUser) -> Principal:
        return refuse(principal)

    return check
