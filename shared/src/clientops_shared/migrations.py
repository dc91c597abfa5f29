"""Alembic glue shared by every service's ``migrations/env.py`` and by the dev/test tooling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine


def run_env(metadata: sa.MetaData, url: str) -> None:
    """Body of a service's env.py: online migrations over asyncpg (offline emits SQL)."""
    url = context.config.attributes.get("database_url") or url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=sa.pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(migrate)
        await engine.dispose()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
    else:
        asyncio.run(run())


def alembic_config(service_dir: Path, database_url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(service_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(service_dir, database_url), "head")


# --- the shared tables every service database carries (outbox, inbox, audit, idempotency,
# job runs), as first created. Frozen DDL called from each service's initial migration; a
# later change to these tables is a new helper and a new revision in every service.


def create_shared_tables_v1() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_log_pkey")),
    )
    op.create_index("audit_log_entity_idx", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "idempotency_key",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", "actor", name=op.f("idempotency_key_pkey")),
    )
    op.create_table(
        "inbox_message",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("inbox_message_pkey")),
    )
    op.create_table(
        "job_run",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("job", "key", name=op.f("job_run_pkey")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("routing_key", sa.Text(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("outbox_message_pkey")),
        sa.UniqueConstraint("event_id", name=op.f("outbox_message_event_id_key")),
    )
    op.create_index(
        "outbox_message_pending_idx",
        "outbox_message",
        ["id"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )


def drop_shared_tables_v1() -> None:
    op.drop_index(
        "outbox_message_pending_idx",
        table_name="outbox_message",
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.drop_table("outbox_message")
    op.drop_table("job_run")
    op.drop_table("inbox_message")
    op.drop_table("idempotency_key")
    op.drop_index("audit_log_entity_idx", table_name="audit_log")
    op.drop_table("audit_log")


# --- v2 (2026-11-27): event ordering per aggregate and the consumer failure record. Frozen
# like v1; each service's revision "shared tables v2" calls these.


def create_shared_tables_v2() -> None:
    op.create_table(
        "aggregate_version",
        sa.Column("aggregate", sa.Text(), nullable=False),
        sa.Column("aggregate_id", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("aggregate", "aggregate_id", name=op.f("aggregate_version_pkey")),
    )
    op.create_table(
        "aggregate_applied",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("aggregate", sa.Text(), nullable=False),
        sa.Column("aggregate_id", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "aggregate", "aggregate_id",
                                name=op.f("aggregate_applied_pkey")),
    )
    op.create_table(
        "consumer_failure",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("error_class", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "first_failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("consumer_failure_pkey")),
    )
    op.create_index(
        "consumer_failure_open_idx",
        "consumer_failure",
        ["last_failed_at"],
        unique=False,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def drop_shared_tables_v2() -> None:
    op.drop_index(
        "consumer_failure_open_idx",
        table_name="consumer_failure",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.drop_table("consumer_failure")
    op.drop_table("aggregate_applied")
    op.drop_table("aggregate_version")


# --- token revocation (clientops_shared.revocation), added 2026-11-27; frozen like v1 above.


def create_token_revocation_v1() -> None:
    op.create_table(
        "token_revocation",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("min_version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("token_revocation_pkey")),
    )


def drop_token_revocation_v1() -> None:
    op.drop_table("token_revocation")
