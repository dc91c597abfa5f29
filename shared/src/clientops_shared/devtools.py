"""Developer and CI tooling: create each service's database, migrate, list the services.

``python -m clientops_shared.devtools setup`` creates the databases that do not exist yet and
migrates all of them to head. Used by ``make run`` and the test fixtures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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


MIGRATION_LOCK = 7_401_202_611  # pg_advisory_lock key: one migrating replica at a time


def migrate_one(service_name: str) -> str:
    """Migrate one service's database to head (``DATABASE_URL``, else its default database on
    ``CLIENTOPS_PG_DSN``) while holding an advisory lock, so that the init containers of
    several replicas starting together never run Alembic at the same time."""
    service = next((s for s in SERVICES if s.name == service_name.replace("-", "_")), None)
    if service is None:
        raise SystemExit(f"unknown service {service_name!r}")
    url = os.environ.get("DATABASE_URL") or database_url(default_database(service))

    async def locked() -> None:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            await asyncio.to_thread(upgrade, service.directory, url)
        finally:
            await conn.close()  # the lock goes with the session

    asyncio.run(locked())
    return url.rsplit("/", 1)[-1]


def setup(suffix: str = "", recreate: bool = False) -> dict[str, str]:
    names = {s.name: default_database(s, suffix) for s in SERVICES}
    asyncio.run(create_databases(list(names.values()), recreate=recreate))
    for service in SERVICES:
        migrate(service, names[service.name])
    return names


DEMO_CLIENTS = (
    # (manager, name, INN, KPP, e-mail, site, fee, kind, standard)
    ("manager1", "ПАО Сбербанк (демо)", "7707083893", "773601001", "demo-sber@example.ru",
     "Офис на Вавилова", "12500.00", "subscription", True),
    ("manager1", "ООО «Яндекс» (демо)", "7736207543", "770401001", "demo-ya@example.ru",
     "БЦ Аврора", "15000.00", "maintenance", True),
    ("manager2", "ПАО «Мобильные ТелеСистемы» (демо)", "7740000076", "770901001",
     "demo-mts@example.ru", "Парковка на Воронцовской", "9900.00", "subscription", True),
    ("manager2", "ПАО «Ростелеком» (демо)", "7707049388", "784001001", "demo-rt@example.ru",
     "Терминал в ТЦ", "7000.00", "rent", False),
)


def seed_demo(timeout: float = 120.0) -> None:
    """Wait for the services, then create demo clients, sites and contracts through the APIs.

    Idempotent: a client whose INN is already registered is left as it is.
    """
    import time
    from datetime import date

    import httpx

    urls = {s.name: os.environ.get(f"{s.env_prefix}URL") or
            f"http://127.0.0.1:{os.environ.get(s.env_prefix + 'PORT', s.port)}" for s in SERVICES}
    deadline = time.monotonic() + timeout
    for name, url in urls.items():
        while True:
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} is not ready at {url}")
            time.sleep(0.5)

    def login(username: str) -> dict[str, str]:
        r = httpx.post(f"{urls['web']}/api/auth/token",
                       data={"username": username, "password": f"{username}-demo"})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    api = urls["contracts"] + "/api"
    today = date.today()
    for manager, name, inn, kpp, email, site, fee, kind, standard in DEMO_CLIENTS:
        auth = login(manager)
        r = httpx.post(f"{api}/clients", headers=auth, json={
            "name": name, "inn": inn, "kpp": kpp, "email": email, "manager": manager})
        if r.status_code == 409:
            print(f"demo: {name} already there")
            continue
        r.raise_for_status()
        client_id = r.json()["id"]
        site_id = httpx.post(f"{api}/clients/{client_id}/sites", headers=auth, json={
            "name": site, "address": "Москва", "access_points": 2}).raise_for_status().json()["id"]
        contract = httpx.post(f"{api}/contracts", headers=auth, json={
            "client_id": client_id, "kind": kind, "starts_on": today.replace(day=1).isoformat(),
            "monthly_fee": fee, "auto_renew": True, "standard": standard, "site_id": site_id,
        }).raise_for_status().json()
        if standard:
            httpx.post(f"{api}/contracts/{contract['id']}/sign", headers=auth,
                       json={"signed_on": today.isoformat()}).raise_for_status()
        print(f"demo: {name}, contract {contract['number']}")
    from field_ops.demo import seed as seed_field_ops  # the services' own demo data
    from logistics.demo import seed as seed_logistics

    seed_field_ops(urls["field_ops"], login)

    seed_logistics(urls, login)
    print("demo data ready; log in at", urls["web"], "(users and passwords: README)")


def rabbitmq_definitions(delivery_limit: int = 5) -> dict[str, object]:
    """The broker topology as a RabbitMQ definitions file (same as what services declare)."""
    from clientops_shared import messaging as m

    queue_args: dict[str, object] = {"x-queue-type": "quorum"}
    queues: list[dict[str, object]] = [{"name": m.UNROUTED_QUEUE, "vhost": "/", "durable": True,
                                        "auto_delete": False, "arguments": queue_args}]
    bindings: list[dict[str, object]] = [
        {"source": m.UNROUTED_EXCHANGE, "vhost": "/", "destination": m.UNROUTED_QUEUE,
         "destination_type": "queue", "routing_key": "", "arguments": {}}]
    for service, keys in m.CONSUMERS.items():
        queues.append({"name": m.dlq_name(service), "vhost": "/", "durable": True,
                       "auto_delete": False, "arguments": queue_args})
        queues.append({"name": m.queue_name(service), "vhost": "/", "durable": True,
                       "auto_delete": False, "arguments": {
                           **queue_args, "x-delivery-limit": delivery_limit,
                           "x-dead-letter-exchange": m.DLX,
                           "x-dead-letter-routing-key": m.queue_name(service)}})
        bindings.append({"source": m.DLX, "vhost": "/", "destination": m.dlq_name(service),
                         "destination_type": "queue", "routing_key": m.queue_name(service),
                         "arguments": {}})
        bindings += [{"source": m.EXCHANGE, "vhost": "/", "destination": m.queue_name(service),
                      "destination_type": "queue", "routing_key": key, "arguments": {}}
                     for key in keys]
        queues += [{"name": q.name, "vhost": "/", "durable": True, "auto_delete": False,
                    "arguments": dict(q.arguments)}  # retries with back-off: TTL, then back
                   for q in (m.delay_queue(service, d) for d in m.DEFAULT_RETRY_DELAYS)]
    exchanges = [
        {"name": m.EXCHANGE, "vhost": "/", "type": "topic", "durable": True,
         "auto_delete": False, "internal": False,
         "arguments": {"alternate-exchange": m.UNROUTED_EXCHANGE}},
        {"name": m.UNROUTED_EXCHANGE, "vhost": "/", "type": "fanout", "durable": True,
         "auto_delete": False, "internal": False, "arguments": {}},
        {"name": m.DLX, "vhost": "/", "type": "direct", "durable": True, "auto_delete": False,
         "internal": False, "arguments": {}},
    ]
    return {"exchanges": exchanges, "queues": queues, "bindings": bindings}


def _dead_letters(service_name: str) -> tuple[Any, Any]:
    """The service's dead letters as the running service sees them (its broker, its database)."""
    from clientops_shared.db import make_engine, make_metadata, shared_tables
    from clientops_shared.dead_letters import DeadLetters
    from clientops_shared.settings import DEFAULT_AMQP_URL

    service = next((s for s in SERVICES if s.name == service_name.replace("-", "_")), None)
    if service is None:
        raise SystemExit(f"unknown service {service_name!r}; one of "
                         f"{', '.join(s.name for s in SERVICES)}")
    database = os.environ.get(f"{service.env_prefix}DATABASE") or default_database(service)
    url = os.environ.get(f"{service.env_prefix}DATABASE_URL") or database_url(database)
    engine = make_engine(url, pool_size=1)
    amqp_url = os.environ.get(f"{service.env_prefix}AMQP_URL") or common("AMQP_URL",
                                                                        DEFAULT_AMQP_URL)
    tables = shared_tables(make_metadata())
    return DeadLetters(amqp_url, service.name, engine, tables.audit,
                       tables.consumer_failure), engine


async def dlq(args: argparse.Namespace) -> int:
    """``dlq list|show|replay|drop``: the operator's way through a service's dead letters."""
    import json
    from datetime import datetime

    from clientops_shared.dead_letters import BrokerUnavailable, Selection

    letters, engine = _dead_letters(args.service)
    since = datetime.fromisoformat(args.since) if args.since else None
    if since is not None and since.tzinfo is None:
        raise SystemExit("--since needs a time zone, e.g. 2026-12-01T00:00:00+03:00")
    ids = frozenset(args.id or ())
    if args.action == "show":
        if len(ids) != 1:
            raise SystemExit("show needs exactly one --id")
    selection = Selection(ids, args.type, since)
    try:
        if args.action in ("list", "show"):
            found = await letters.peek(selection, args.limit)
            if args.action == "show" or args.json:
                print(json.dumps([d.as_json() for d in found], ensure_ascii=False, indent=2))
            else:
                for d in found:
                    last = d.last_failed_at.isoformat(timespec="seconds") if d.last_failed_at \
                        else "-"
                    error = " ".join((d.error or "(no failure on record)").split())[:300]
                    print(f"{d.message_id}\t{d.event_type}\t{last}\tdeliveries={d.deliveries}"
                          f"\t{d.error_class or '-'}: {error}")
                print(f"{len(found)} dead letter(s) in {args.service}")
            return 0 if found or args.action == "list" else 1
        if not (ids or args.type or since):
            raise SystemExit(f"{args.action} needs --id, --type or --since")
        if not args.reason or len(args.reason.strip()) < 3:
            raise SystemExit(f"{args.action} needs --reason (kept in the audit log)")
        actor = args.actor or f"cli:{os.environ.get('USER', 'operator')}"
        act = letters.replay if args.action == "replay" else letters.drop
        done = await act(selection, cap=args.limit, actor=actor, reason=args.reason.strip())
        verb = "replayed to " + f"{args.service}.events" if args.action == "replay" \
            else "dropped"
        for d in done:
            print(f"{d.message_id}\t{d.event_type}\t{verb}")
        print(f"{len(done)} dead letter(s) {verb}")
        return 0
    except BrokerUnavailable as exc:
        print(f"broker unavailable: {exc.detail}", file=sys.stderr)
        return 3
    finally:
        await engine.dispose()


def _dlq_parser(sub: Any) -> None:
    d = sub.add_parser("dlq", help="list, show, replay or drop a service's dead letters")
    d.add_argument("action", choices=["list", "show", "replay", "drop"])
    d.add_argument("--service", required=True, help="e.g. billing, notifications, field_ops")
    d.add_argument("--type", help="event type, e.g. contracts.contract.signed")
    d.add_argument("--since", help="died at or after (ISO 8601 with a time zone)")
    d.add_argument("--id", action="append", help="message (event) id; may repeat")
    d.add_argument("--limit", type=int, default=100, help="at most this many (cap 1000)")
    d.add_argument("--reason", help="why (replay, drop): kept in the service's audit log")
    d.add_argument("--actor", help="who, for the audit log (default cli:$USER)")
    d.add_argument("--json", action="store_true", help="list as JSON")


def main() -> None:
    parser = argparse.ArgumentParser(prog="clientops-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    _dlq_parser(sub)
    s = sub.add_parser("setup", help="create missing databases and migrate them to head")
    s.add_argument("--recreate", action="store_true", help="drop and recreate the databases")
    m = sub.add_parser("migrate", help="migrate one service's database to head (locked)")
    m.add_argument("--service", required=True)
    sub.add_parser("seed-demo", help="wait for the running services and add demo data")
    sub.add_parser("rabbitmq-definitions", help="print the broker topology as definitions JSON")
    args = parser.parse_args()
    if args.command == "dlq":
        if not 1 <= args.limit <= 1000:
            raise SystemExit("--limit must be 1…1000")
        raise SystemExit(asyncio.run(dlq(args)))
    if args.command == "rabbitmq-definitions":
        import json

        print(json.dumps(rabbitmq_definitions(), indent=2))
    if args.command == "migrate":
        print(f"{args.service}: {migrate_one(args.service)} at head")
    if args.command == "seed-demo":
        seed_demo()
    if args.command == "setup":
        for service, db in setup(recreate=args.recreate).items():
            print(f"{service}: {db} migrated")


if __name__ == "__main__":
    main()
