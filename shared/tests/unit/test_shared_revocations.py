"""The revocation cache: reloads on a cadence, applies what this process consumed at once,
and refuses (503) rather than trust knowledge older than ``max_stale`` when the database is
away — without a reload attempt per request while it is."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from clientops_shared.auth import Principal, Unauthorized
from clientops_shared.revocation import AuthUnavailable, Revocations, revocation_table

pytestmark = pytest.mark.unit


class FakeEngine:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int]] = []
        self.down = False
        self.reads = 0

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        self.reads += 1
        if self.down:
            raise ConnectionRefusedError("database away")
        rows = list(self.rows)

        class Result:
            def all(self) -> list[tuple[str, int]]:
                return rows

        class Conn:
            async def execute(self, _: Any) -> Result:
                return Result()

        yield Conn()


def make(**kwargs: float) -> tuple[FakeEngine, Revocations]:
    engine = FakeEngine()
    return engine, Revocations(engine, revocation_table(sa.MetaData()),  # type: ignore[arg-type]
                               **kwargs)


async def test_older_versions_are_refused_and_reloads_follow_the_cadence() -> None:
    engine, revocations = make(refresh=3600)
    engine.rows = [("manager1", 2)]
    await revocations.check(Principal("manager1", "manager", version=2))
    with pytest.raises(Unauthorized, match="revoked"):
        await revocations.check(Principal("manager1", "manager", version=1))
    await revocations.check(Principal("someone", "manager", version=0))
    engine.rows = [("manager1", 5)]  # another replica consumed an event: seen next reload
    await revocations.check(Principal("manager1", "manager", version=2))
    assert engine.reads == 1
    revocations.note("manager1", 3)  # consumed here: effective at once
    with pytest.raises(Unauthorized):
        await revocations.check(Principal("manager1", "manager", version=2))


async def test_a_database_outage_fails_closed_after_max_stale_without_a_read_storm() -> None:
    engine, revocations = make(refresh=0, max_stale=3600)
    engine.down = True
    with pytest.raises(AuthUnavailable):
        await revocations.check(Principal("manager1", "manager"))
    engine.down = False
    engine.rows = []
    await revocations.check(Principal("manager1", "manager"))

    engine, revocations = make(refresh=3600, max_stale=3600)
    engine.down = True
    with pytest.raises(AuthUnavailable):  # never loaded: nothing to trust
        await revocations.check(Principal("manager1", "manager"))
    for _ in range(20):
        with pytest.raises(AuthUnavailable):
            await revocations.check(Principal("manager1", "manager"))
    assert engine.reads == 1  # one attempt per refresh period, not one per request
