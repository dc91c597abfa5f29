"""Periodic jobs: once per key (e.g. a period), never concurrently across replicas.

A job run is keyed (``invoice-run``, ``2026-12``); the ``job_run`` row is the record that it
ran, and a PostgreSQL advisory lock keeps two replicas from running the same key at once. A
rerun of a finished key is a no-op; a run that crashed half-way left no ``finished_at`` and
runs again (the job itself must be resumable).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

MOSCOW = ZoneInfo("Europe/Moscow")


def business_today(now: datetime | None = None) -> date:
    """Every business rule counts days in Europe/Moscow."""
    return (now or datetime.now(MOSCOW)).astimezone(MOSCOW).date()


def _lock_id(job: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{job}:{key}".encode()).digest()[:8], "big", signed=True)


async def run_once(engine: AsyncEngine, job_run: sa.Table, job: str, key: str,
                   work: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
    """Run ``work`` for (job, key) unless it already finished or another replica is running it.

    Returns (ran, result). ``work`` commits its own transactions (it may be long and batched).
    """
    async with engine.connect() as lock_conn:
        got = (await lock_conn.execute(sa.select(sa.func.pg_try_advisory_lock(_lock_id(job, key))
                                                 ))).scalar()
        if not got:
            return False, None
        try:
            async with engine.begin() as conn:
                row = (await conn.execute(sa.select(job_run.c.finished_at, job_run.c.result).where(
                    job_run.c.job == job, job_run.c.key == key))).first()
                if row is not None and row.finished_at is not None:
                    return False, row.result
                await conn.execute(insert(job_run).values(job=job, key=key).on_conflict_do_update(
                    index_elements=[job_run.c.job, job_run.c.key],
                    set_={"started_at": sa.func.now()}))
            result = await work()
            async with engine.begin() as conn:
                await conn.execute(job_run.update().where(
                    job_run.c.job == job, job_run.c.key == key).values(
                    finished_at=sa.func.now(), result=result if isinstance(result, dict) else None))
            return True, result
        finally:
            await lock_conn.execute(sa.select(sa.func.pg_advisory_unlock(_lock_id(job, key))))
            await lock_conn.commit()
