"""Users of the back office and their roles. Web owns identities, no business data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clientops_shared.auth import ROLES


@dataclass(eq=False)
class User:
    username: str
    role: str
    password_hash: str
    full_name: str = ""
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    token_version: int = 0  # tokens issued with an older version are refused everywhere

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def login_failed(self, now: datetime, lockout_after: int, lockout: timedelta) -> None:
        # repeated failures lock the account for a while instead of allowing endless guessing
        self.failed_logins += 1
        if self.failed_logins >= lockout_after:
            self.locked_until = now + lockout
            self.failed_logins = 0

    def login_succeeded(self) -> None:
        self.failed_logins = 0
        self.locked_until = None

    def change(self, *, role: str | None = None, full_name: str | None = None,
               active: bool | None = None) -> None:
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            self.role = role
        if full_name is not None:
            self.full_name = full_name
        if active is not None:
            self.active = active
            if active:
                self.login_succeeded()  # an admin re-enabling an account lifts its lockout


@dataclass(frozen=True)
class Throttle:
    """Log-in back-off per account (from any address) and per client address (any account)."""

    account_free: int = 5
    account_cap: timedelta = timedelta(minutes=1)
    address_free: int = 30
    address_cap: timedelta = timedelta(minutes=1)
    base: timedelta = timedelta(seconds=1)
    forget_after: timedelta = timedelta(hours=1)


def login_backoff(failures: int, *, free: int, base: timedelta, cap: timedelta) -> timedelta:
    """How long a key (an account or a client address) waits after ``failures`` in a row.

    The first ``free`` failures cost nothing; then the wait doubles from ``base`` up to
    ``cap``. Unlike a lock, the wait is short and ends by itself, so guessing at someone's
    account slows the guesser down without locking the owner out.
    """
    if failures < free:
        return timedelta(0)
    return min(cap, base * 2 ** min(failures - free, 30))


@dataclass(eq=False)
class WebSession:
    """A logged-in browser. The cookie holds a random id; only its hash is stored, next to
    the user's bearer token (never sent to the browser) and the session's CSRF token."""

    id_hash: str
    username: str
    role: str
    access_token: str
    csrf_token: str
    expires_at: datetime
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now
