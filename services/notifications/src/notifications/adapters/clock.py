"""The clock port: real time in production, a clock set by hand in tests and demos."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from notifications.domain.model import MOSCOW, require_aware


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(MOSCOW)


class ManualClock:
    """Stands still until moved: tests replay a month in seconds."""

    def __init__(self, at: datetime) -> None:
        require_aware("at", at)
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        require_aware("at", at)
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at += delta
