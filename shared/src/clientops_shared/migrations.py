"""Alembic glue shared by every service's ``migrations/env.py`` and by the dev/test tooling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
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
