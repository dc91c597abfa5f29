"""Log-in, page sessions and user administration."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clientops_shared.auth import ROLES, Principal, Unauthorized, issue_token
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from web.domain.model import User, WebSession
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


class AccountLocked(Unauthorized):
    """Too many wrong passwords in a row: the account waits until ``locked_until``."""


def demo_password(username: str) -> str:
    return f"{username}-demo"


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def authenticate(uow: WebUnitOfWork, username: str, password: str, *, secret: str,
                       ttl: timedelta, lockout_after: int, lockout: timedelta
                       ) -> tuple[str, Principal]:
    now = datetime.now(UTC)
    user = await uow.user(username, for_update=True)
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    if user.is_locked(now):
        raise AccountLocked("account locked after repeated failures; try again later",
                            locked_until=user.locked_until.isoformat()
                            if user.locked_until else None)
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.login_failed(now, lockout_after, lockout)
        await uow.commit()  # the failure counter must survive the refusal
        if user.is_locked(now):
            raise AccountLocked("account locked after repeated failures; try again later"
                                ) from None
        raise Unauthorized("wrong username or password") from None
    user.login_succeeded()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    await uow.commit()
    principal = Principal(username=user.username, role=user.role)
    return issue_token(secret, user.username, user.role, ttl), principal


@dataclass(frozen=True)
class StartedSession:
    cookie_value: str  # goes to the browser; the database keeps only its hash
    session: WebSession


async def start_session(uow: WebUnitOfWork, username: str, password: str, *, secret: str,
                        ttl: timedelta, lockout_after: int, lockout: timedelta
                        ) -> StartedSession:
    token, principal = await authenticate(uow, username, password, secret=secret, ttl=ttl,
                                          lockout_after=lockout_after, lockout=lockout)
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
        # a changed role, a disabled account or a new password ends every open session
        await uow.end_sessions(username)
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
