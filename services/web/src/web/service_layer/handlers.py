"""Log-in and user administration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from clientops_shared.auth import Principal, Unauthorized, issue_token
from web.domain.model import User
from web.service_layer.unit_of_work import WebUnitOfWork

hasher = PasswordHasher()

# Demo accounts for the demo data only (README lists them); never for a real installation.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "Администратор"),
    ("head", "head", "Руководитель отдела"),
    ("manager1", "manager", "Менеджер 1"),
    ("manager2", "manager", "Менеджер 2"),
    ("billing", "billing", "Биллинг"),
    ("dispatcher", "dispatcher", "Диспетчер"),
    ("tech1", "technician", "Техник 1"),
    ("logistics", "logistics", "Логист"),
    ("lawyer", "lawyer", "Юрист"),
    ("accountant", "accountant", "Бухгалтер"),
)


def demo_password(username: str) -> str:
    return f"{username}-demo"


async def authenticate(uow: WebUnitOfWork, username: str, password: str, *, secret: str,
                       ttl: timedelta, lockout_after: int, lockout: timedelta
                       ) -> tuple[str, Principal]:
    now = datetime.now(UTC)
    user = await uow.user(username, for_update=True)
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    if user.is_locked(now):
        raise Unauthorized("account locked after repeated failures; try again later")
    try:
        hasher.verify(user.password_hash, password)
    except VerificationError:
        user.login_failed(now, lockout_after, lockout)
        await uow.commit()  # the failure counter must survive the refusal
        raise Unauthorized("wrong username or password") from None
    user.login_succeeded()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    await uow.commit()
    principal = Principal(username=user.username, role=user.role)
    return issue_token(secret, user.username, user.role, ttl), principal


async def seed_demo_users(uow: WebUnitOfWork) -> int:
    created = 0
    for username, role, full_name in DEMO_USERS:
        if await uow.user(username) is None:
            uow.add(User(username=username, role=role, full_name=full_name,
                         password_hash=hasher.hash(demo_password(username))))
            created += 1
    await uow.commit()
    return created
