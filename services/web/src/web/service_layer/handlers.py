"""Log-in, page sessions and user administration."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clientops_shared import revocation
from clientops_shared.auth import ROLES, Principal, Unauthorized, expires_at, issue_token
from clientops_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from clientops_shared.events import web as web_events
from web.adapters import orm
from web.domain.model import Throttle, User, WebSession, login_backoff
from web.service_layer.unit_of_work import WebUnitOfWork

hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10

# Demo accounts for the demo data only (README lists them); never for a real installation.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "Орлов Дмитрий"),
    ("head", "head", "Петров Игорь"),
    ("manager1", "manager", "Иванова Мария"),
    ("manager2", "manager", "Смирнов Алексей"),
    ("billing", "billing", "Кузнецова Ольга"),
    ("dispatcher", "dispatcher", "Волков Андрей"),
    ("tech1", "technician", "Соколов Павел"),
    ("logistics", "logistics", "Морозова Анна"),
    ("lawyer", "lawyer", "Лебедев Кирилл"),
    ("accountant", "accountant", "Новикова Елена"),
)


WRONG_CREDENTIALS = "wrong username or password"


class TooManyAttempts(DomainError):
    """Log-in refused for a short back-off after repeated failures (account or address)."""

    status = 429
    title = "Too many log-in attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed log-ins; try again in {retry_after} s",
                         retry_after=retry_after)
        self.retry_after = retry_after


def demo_password(username: str) -> str:
    return f"{username}-demo"


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    # verified for unknown and disabled users, so every refusal costs one argon2 check
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()}", f"addr:{address}"


async def authenticate(uow: WebUnitOfWork, username: str, password: str, *, secret: str,
                       ttl: timedelta, address: str = "unknown",
                       throttle: Throttle = Throttle()) -> tuple[str, Principal]:
    """Check a password. The same answer, and the same work, whether the user exists or not.

    A key (the account, the client address) in back-off is refused with 429 before any check;
    a failure extends both keys' back-off; a success clears the account's.
    """
    now = datetime.now(UTC)
    account_key, address_key = _throttle_keys(username, address)
    wait = await uow.throttled_for(now, account_key, address_key)
    if wait > 0:
        raise TooManyAttempts(wait)
    user = await uow.user(username)
    usable = user is not None and user.active
    # argon2 is CPU work: off the event loop, and done for unknown users too
    ok = await asyncio.to_thread(_verify, user.password_hash if user is not None and usable
                                 else _dummy_hash(), password)
    if not (ok and usable and user is not None):
        now = datetime.now(UTC)  # the back-off runs from the refusal, not from the request
        for key, free, cap in ((account_key, throttle.account_free, throttle.account_cap),
                               (address_key, throttle.address_free, throttle.address_cap)):
            await uow.login_failed(key, now, forget_before=now - throttle.forget_after,
                                   backoff=lambda n, free=free, cap=cap: login_backoff(
                                       n, free=free, base=throttle.base, cap=cap))
        await uow.commit()  # the failure counts survive the refusal
        raise Unauthorized(WRONG_CREDENTIALS)
    await uow.login_succeeded(account_key)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hasher.hash, password)
    await uow.commit()
    principal = Principal(username=user.username, role=user.role, version=user.token_version)
    return issue_token(secret, user.username, user.role, ttl, version=user.token_version), \
        principal


@dataclass(frozen=True)
class StartedSession:
    cookie_value: str  # goes to the browser; the database keeps only its hash
    session: WebSession


async def start_session(uow: WebUnitOfWork, username: str, password: str, *, secret: str,
                        ttl: timedelta, token_ttl: timedelta, address: str = "unknown",
                        throttle: Throttle = Throttle()) -> StartedSession:
    """A browser session of ``ttl``; the bearer token it keeps lives ``token_ttl`` and is
    re-minted while the session is used (``session_token``)."""
    token, principal = await authenticate(uow, username, password, secret=secret,
                                          ttl=token_ttl, address=address, throttle=throttle)
    now = datetime.now(UTC)
    await uow.end_expired_sessions(now)
    raw = secrets.token_urlsafe(32)
    session = WebSession(id_hash=hash_session_id(raw), username=principal.username,
                         role=principal.role, access_token=token,
                         csrf_token=secrets.token_urlsafe(32), expires_at=now + ttl)
    uow.add(session)
    uow.audit("login", "user_account", principal.username)
    await uow.commit()
    return StartedSession(raw, session)


async def current_session(uow: WebUnitOfWork, cookie_value: str) -> WebSession | None:
    session = await uow.web_session(hash_session_id(cookie_value))
    if session is None:
        return None
    if session.expired(datetime.now(UTC)):
        await uow.delete(session)
        await uow.commit()
        return None
    return session


async def session_token(uow: WebUnitOfWork, session: WebSession, user: User, *, secret: str,
                        ttl: timedelta) -> str:
    """The session's bearer token, re-minted from the user's current role and token version
    when less than a third of its life is left (access tokens live minutes, sessions hours)."""
    left = expires_at(session.access_token) - datetime.now(UTC)
    if left > ttl / 3:
        return session.access_token
    session.access_token = issue_token(secret, user.username, user.role, ttl,
                                       version=user.token_version)
    await uow.commit()
    return session.access_token


async def end_session(uow: WebUnitOfWork, cookie_value: str) -> None:
    session = await uow.web_session(hash_session_id(cookie_value))
    if session is not None:
        uow.audit("logout", "user_account", session.username)
        await uow.delete(session)
        await uow.commit()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"не короче {MIN_PASSWORD_LENGTH} символов")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("role", f"неизвестная роль {role!r}")


async def create_user(uow: WebUnitOfWork, username: str, role: str, full_name: str,
                      password: str) -> User:
    username = username.strip()
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username", "латинские буквы, цифры, точка и подчёркивание")
    _check_role(role)
    _check_password(password)
    if await uow.user(username) is not None:
        raise Conflict(f"user {username} already exists", field="username")
    user = User(username=username, role=role, full_name=full_name.strip(),
                password_hash=hasher.hash(password))
    uow.add(user)
    uow.audit("create", "user_account", username,
              after={"role": role, "full_name": user.full_name})
    await uow.commit()
    return user


async def update_user(uow: WebUnitOfWork, username: str, *, role: str, full_name: str,
                      active: bool, password: str | None = None) -> User:
    user = await uow.user(username, for_update=True)
    if user is None:
        raise NotFound(f"no user {username}")
    _check_role(role)
    before = {"role": user.role, "full_name": user.full_name, "active": user.active}
    user.change(role=role, full_name=full_name.strip(), active=active)
    if password:
        _check_password(password)
        user.password_hash = hasher.hash(password)
    after = {"role": user.role, "full_name": user.full_name, "active": user.active,
             "password_changed": bool(password)}
    if before["role"] != user.role or not user.active or password:
        # a changed role, a disabled account or a new password ends every open session and
        # revokes every token issued so far, on every service (web.user.* events)
        await uow.end_sessions(username)
        user.token_version += 1
        contract = (web_events.UserDeactivated if before["active"] and not user.active
                    else web_events.UserChanged)
        event = contract(username=username, role=user.role, active=user.active,
                         token_version=user.token_version)
        await revocation.record(uow.session, orm.token_revocation, event)
        uow.emit(event)
    uow.audit("update", "user_account", username, before=before, after=after)
    await uow.commit()
    return user


async def seed_demo_users(uow: WebUnitOfWork) -> int:
    created = 0
    for username, role, full_name in DEMO_USERS:
        if await uow.user(username) is None:
            uow.add(User(username=username, role=role, full_name=full_name,
                         password_hash=hasher.hash(demo_password(username))))
            created += 1
    await uow.commit()
    return created
