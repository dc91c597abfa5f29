"""A burst of ``billing.invoice.issued`` events through notifications against a raw consumer.

System: notifications started as ``make run`` starts it (its own process, database, consumer
with its settings' prefetch and pool, jobs off so no mail goes out), N events published to the
events exchange at once; timed from the first publish until every event's inbox row is
written (each one a timeline entry, a queued invoice mail and the invoice's step admitted).
Baseline: a raw aio-pika consumer (prefetch 50, an asyncpg pool of 5) on a quorum queue of
the same kind, one ``INSERT`` per message then ack. Alternating A B A B. Also printed: pool
time-outs in the service's log, dead letters, mails queued, and notifications' RSS at rest
(before the first burst), at its peak, and ``--settle`` seconds after the last burst (target:
within 20 % of rest).

    .venv/bin/python bench/notification_burst.py [N] [--pairs 3] [--settle 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    Result,
    Sample,
    bench_database,
    drop_vhost,
    load_average,
    pairs,
    pg_dsn,
    private_vhost,
    process_cpu_seconds,
)
from read_endpoints import wait_ready

from clientops_shared import messaging
from clientops_shared.devtools import SERVICES, create_databases, drop_databases, migrate
from clientops_shared.events import Envelope
from clientops_shared.events import billing as b
from clientops_shared.testing import free_port

NOTIFICATIONS = next(s for s in SERVICES if s.name == "notifications")
PUBLISH_AT_ONCE = 500


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def launch(log: Any, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """notifications as ``make run`` starts it, its log into ``log``."""
    return subprocess.Popen([sys.executable, "-m", "notifications"], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, **env})


def pool_timeouts(log: Path, keep: bool) -> int:
    """Pool time-outs the service logged; the log is kept (and named) if anything failed."""
    text = log.read_text(errors="replace")
    timeouts = text.count("QueuePool limit") + text.count("TimeoutError")
    if timeouts or keep:
        print(f"notifications log: {log}")
    else:
        log.unlink()
    return timeouts


def bodies(n: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        event = b.InvoiceIssued(
            invoice_id=uuid.uuid4(), number=f"СЧ-2026-11-{i:06d}", client_id=uuid.uuid4(),
            contract_id=uuid.uuid4(), period="2026-11", amount=Decimal("12500.00"),
            vat=Decimal("2750.00"), total=Decimal("15250.00"), due_on=date(2026, 12, 18),
            email=f"buh{i}@example.ru")
        envelope = Envelope.wrap(event, "billing")
        # the invoice's first step, as billing's run numbers it: notifications admits each
        # one in order (aggregate_applied), as it does in production
        envelope.aggregate_version = 1
        out.append((str(envelope.event_id), envelope.model_dump_json().encode()))
    return out


async def publish(exchange: aio_pika.abc.AbstractExchange, routing_key: str,
                  messages: list[tuple[str, bytes]], type_: str | None) -> None:
    for start_at in range(0, len(messages), PUBLISH_AT_ONCE):
        await asyncio.gather(*(exchange.publish(aio_pika.Message(
            body, content_type="application/json", message_id=message_id, type=type_,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=routing_key)
            for message_id, body in messages[start_at:start_at + PUBLISH_AT_ONCE]))


async def measure(n: int, n_pairs: int, settle: float) -> Result:
    db = bench_database("burst")
    vhost, amqp = private_vhost()
    log = tempfile.NamedTemporaryFile(prefix="notifications-burst-", suffix=".log", delete=False)
    proc = None
    await create_databases([db])
    try:
        await asyncio.to_thread(migrate, NOTIFICATIONS, db)
        await messaging.declare_topology(amqp, 5)
        dsn = pg_dsn(db)
        port = free_port()
        proc = launch(log, {
            "CLIENTOPS_AMQP_URL": amqp, "CLIENTOPS_LOG_LEVEL": "WARNING", "CLIENTOPS_LOG_JSON": "0",
            "NOTIFICATIONS_DATABASE": db, "NOTIFICATIONS_PORT": str(port),
            "NOTIFICATIONS_JOBS_ENABLED": "0"})
        await wait_ready(f"http://127.0.0.1:{port}/health/live", proc)
        raw = await asyncpg.create_pool(dsn, min_size=5, max_size=5)
        await raw.execute("CREATE TABLE raw_seen (event_id uuid PRIMARY KEY, body jsonb)")
        connection = await aio_pika.connect(amqp)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=50)
        queue = await consuming.declare_queue("bench.burst.raw", durable=True,
                                              arguments={"x-queue-type": "quorum"})
        seen = 0
        all_seen = asyncio.Event()
        target = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await raw.execute("INSERT INTO raw_seen VALUES ($1, $2)",
                              uuid.UUID(message.message_id), message.body.decode())
            await message.ack()
            seen += 1
            if seen >= target:
                all_seen.set()

        await queue.consume(on_message)
        await asyncio.sleep(2)
        rest = rss_mb(proc.pid)
        peak = rest
        handled = 0

        async def system() -> Sample:
            nonlocal peak, handled
            messages = bodies(n)
            cpu = process_cpu_seconds(proc.pid)
            started = time.perf_counter()
            await publish(exchange, b.InvoiceIssued.TYPE, messages, b.InvoiceIssued.TYPE)
            while True:
                peak = max(peak, rss_mb(proc.pid))
                done = await raw.fetchval("SELECT count(*) FROM inbox_message")
                if done >= handled + n:
                    break
                if proc.poll() is not None:
                    raise SystemExit(f"notifications exited with {proc.returncode}")
                await asyncio.sleep(0.1)
            seconds = time.perf_counter() - started
            handled += n
            return Sample(n, seconds, process_cpu_seconds(proc.pid) - cpu)

        async def baseline() -> Sample:
            nonlocal target
            messages = bodies(n)
            all_seen.clear()
            target = seen + n
            started = time.perf_counter()
            await publish(channel.default_exchange, queue.name, messages, None)
            await asyncio.wait_for(all_seen.wait(), 3600)
            return Sample(n, time.perf_counter() - started)

        try:
            a, b_ = await pairs(system, baseline, n_pairs)
            settle_until = time.monotonic() + settle
            while time.monotonic() < settle_until:
                peak = max(peak, rss_mb(proc.pid))
                await asyncio.sleep(1)
            after = rss_mb(proc.pid)
            dlq = await (await connection.channel()).declare_queue(
                messaging.dlq_name("notifications"), passive=True)
            dead = int(dlq.declaration_result.message_count or 0)
            mails = await raw.fetchval(
                "SELECT count(*) FROM mail_delivery WHERE template = 'invoice_issued'")
            failures = await raw.fetchval("SELECT count(*) FROM consumer_failure")
        finally:
            await connection.close()
            await raw.close()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await drop_databases([db])
        drop_vhost(vhost)
    timeouts = pool_timeouts(Path(log.name), keep=bool(dead or failures))
    return Result(f"notification_burst_{n}", a, b_, target=0.5, extra={
        "pool_timeouts": timeouts, "dead_letters": dead, "failures": failures,
        "mails_missing": handled - mails, "rss_rest_mb": rest, "rss_peak_mb": peak,
        "rss_after_mb": after, "rss_after_over_rest": after / rest})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=60.0)
    args = parser.parse_args()
    print(load_average())
    print(asyncio.run(measure(args.n, args.pairs, args.settle)).line())


if __name__ == "__main__":
    main()
