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
