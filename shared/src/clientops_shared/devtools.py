"""Developer and CI tooling: create each service's database, migrate, list the services.

``python -m clientops_shared.devtools setup`` creates the databases that do not exist yet and
migrates all of them to head. Used by ``make run`` and the test fixtures.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from clientops_shared.migrations import upgrade
from clientops_shared.settings import DEFAULT_PG_DSN, common, database_url

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Service:
    name: str  # service_name, database suffix, queue prefix
    package: str
    directory: Path
    port: int
    env_prefix: str


SERVICES: tuple[Service, ...] = (
    Service("contracts", "contracts", ROOT / "services/contracts", 8001, "CONTRACTS_"),
    Service("billing", "billing", ROOT / "services/billing", 8002, "BILLING_"),
    Service("field_ops", "field_ops", ROOT / "services/field-ops", 8003, "FIELD_OPS_"),
    Service("logistics", "logistics", ROOT / "services/logistics", 8004, "LOGISTICS_"),
    Service("notifications", "notifications", ROOT / "services/notifications", 8005,
            "NOTIFICATIONS_"),
    Service("web", "web", ROOT / "services/web", 8000, "WEB_"),
)


def server_dsn() -> str:
    return common("PG_DSN", DEFAULT_PG_DSN)


def _admin_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit((scheme, parts.netloc, "/postgres", parts.query, ""))


async def create_databases(names: list[str], dsn: str | None = None, *,
                           recreate: bool = False) -> None:
    conn = await asyncpg.connect(_admin_dsn(dsn or server_dsn()))
    try:
        for name in names:
            if recreate:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_databases(names: list[str], dsn: str | None = None) -> None:
    conn = await asyncpg.connect(_admin_dsn(dsn or server_dsn()))
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def default_database(service: Service, suffix: str = "") -> str:
    return f"clientops_{service.name}{suffix}"


def migrate(service: Service, database: str, dsn: str | None = None) -> None:
    upgrade(service.directory, database_url(database, dsn))


def setup(suffix: str = "", recreate: bool = False) -> dict[str, str]:
    names = {s.name: default_database(s, suffix) for s in SERVICES}
    asyncio.run(create_databases(list(names.values()), recreate=recreate))
    for service in SERVICES:
        migrate(service, names[service.name])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(prog="clientops-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help="create missing databases and migrate them to head")
    s.add_argument("--recreate", action="store_true", help="drop and recreate the databases")
    args = parser.parse_args()
    if args.command == "setup":
        for service, db in setup(recreate=args.recreate).items():
            print(f"{service}: {db} migrated")


if __name__ == "__main__":
    main()
