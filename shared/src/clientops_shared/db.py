"""Per-service database plumbing and the tables every service database carries.

Each service has its own MetaData (built by ``make_metadata``) and registers the shared
messaging tables on it, so its own Alembic history creates outbox, inbox, audit and job tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.ext.asyncio as sa_async
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_

NAMING_CONVENTION = {
    "ix": "%(column_0_label)s_idx",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def make_metadata() -> sa.MetaData:
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


def text_enum(cls: type) -> sa.Enum:
    """A StrEnum column stored as text with a CHECK and loaded back as the enum member."""
    return sa.Enum(cls, native_enum=False, length=32, name=cls.__name__.lower(),
                   values_callable=lambda e: [m.value for m in e])


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    # looked up on the module at call time so OpenTelemetry's wrapper (installed at start-up)
    # traces every engine
    engine = sa_async.create_async_engine(url, pool_size=pool_size, max_overflow=5, echo=echo)
    sa.event.listen(engine.sync_engine.pool, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pessimistic disconnect handling, one round trip per checkout.

    ``pool_pre_ping`` on asyncpg wraps its ``;`` in BEGIN … ROLLBACK (for pgbouncer in
    transaction mode, which we do not use): three round trips before every request's first
    statement, more than a one-row read itself (issue 14's profile). A connection the server
    dropped (a restart) fails here and the pool replaces it before the caller sees it."""
    driver = record.driver_connection
    if driver is None:
        return
    try:
        await_(driver.fetchrow(";"))
    except Exception as exc:  # the pool invalidates it and connects afresh (up to 3 times)
        raise sa.exc.DisconnectionError(f"ping failed: {type(exc).__name__}") from exc


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool for the read side, in autocommit: a read sends no BEGIN and no ROLLBACK
    (two of a one-row read's round trips). Each statement reads its own snapshot, as under the
    READ COMMITTED every service runs in: a count and its page were never one snapshot anyway.
    Nothing may be written through it."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def make_read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """ORM-free reads can take ``read_engine(engine).connect()`` (a Core connection, no
    session bookkeeping); views written against a session take these."""
    return async_sessionmaker(read_engine(engine), expire_on_commit=False)


Reader = AsyncSession | AsyncConnection
"""What a read-side view runs its statements on: a session or a Core connection."""


_now = sa.text("now()")


@dataclass(frozen=True)
class SharedTables:
    outbox: sa.Table
    inbox: sa.Table
    audit: sa.Table
    idempotency: sa.Table
    job_run: sa.Table
    aggregate_version: sa.Table
    aggregate_applied: sa.Table
    consumer_failure: sa.Table


def shared_tables(metadata: sa.MetaData) -> SharedTables:
    """Define (once per metadata) the tables the shared library reads and writes."""
    if "outbox_message" in metadata.tables:
        t = metadata.tables
        return SharedTables(t["outbox_message"], t["inbox_message"], t["audit_log"],
                            t["idempotency_key"], t["job_run"], t["aggregate_version"],
                            t["aggregate_applied"], t["consumer_failure"])
    outbox = sa.Table(
        "outbox_message", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("routing_key", sa.Text, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=_now),
        sa.Column("last_error", sa.Text),
    )
    sa.Index("outbox_message_pending_idx", outbox.c.id, postgresql_where=outbox.c.sent_at.is_(None))
    inbox = sa.Table(
        "inbox_message", metadata,
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    )
    audit = sa.Table(
        "audit_log", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Column("correlation_id", sa.Text),
    )
    sa.Index("audit_log_entity_idx", audit.c.entity, audit.c.entity_id)
    idempotency = sa.Table(
        "idempotency_key", metadata,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("actor", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    )
    job_run = sa.Table(
        "job_run", metadata,
        sa.Column("job", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("result", JSONB),
    )
    # v2: per-aggregate event versions (producer side), the last version each consumer applied,
    # and the consumer failures an operator must see
    aggregate_version = sa.Table(
        "aggregate_version", metadata,
        sa.Column("aggregate", sa.Text, primary_key=True),
        sa.Column("aggregate_id", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    aggregate_applied = sa.Table(
        "aggregate_applied", metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("aggregate", sa.Text, primary_key=True),
        sa.Column("aggregate_id", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    )
    consumer_failure = sa.Table(
        "consumer_failure", metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("message_id", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("error_class", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="1"),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=_now),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=_now),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    )
    sa.Index("consumer_failure_open_idx", consumer_failure.c.last_failed_at,
             postgresql_where=consumer_failure.c.resolved_at.is_(None))
    from clientops_shared.revocation import revocation_table

    revocation_table(metadata)  # token versions revoked by web.user.* events (every service)
    return SharedTables(outbox, inbox, audit, idempotency, job_run, aggregate_version,
                        aggregate_applied, consumer_failure)
