"""Dead letters: two poison messages in billing's DLQ, read with their error, replayed only to
billing's queue and only once, one dropped with an audit entry, listed by the CLI; 503 when the
broker is away. Real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa

from clientops_shared import messaging
from clientops_shared.db import make_engine
from clientops_shared.events import Envelope
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers, eventually_async, running_app

pytestmark = pytest.mark.integration

ADMIN = ("admin", "admin")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def _depths(servers: Servers) -> dict[str, int]:
    """Messages ready in every service queue and dead-letter queue of the topology."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        out = {}
        for service in messaging.CONSUMERS:
            for name in (messaging.queue_name(service), messaging.dlq_name(service)):
                queue = await channel.declare_queue(name, passive=True)
                out[name] = int(queue.declaration_result.message_count or 0)
        return out


async def _poison(servers: Servers, n: int) -> str:
    """A contracts.contract.signed envelope whose payload breaks the contract."""
    envelope = Envelope(event_id=uuid.uuid4(), type="contracts.contract.signed", version=1,
                        producer="contracts", payload={"contract_id": "not-a-uuid", "n": n})
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        await exchange.publish(aio_pika.Message(
            envelope.model_dump_json().encode(), content_type="application/json",
            message_id=str(envelope.event_id), type=envelope.type,
            headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}),
            routing_key=envelope.type)
    return str(envelope.event_id)


async def _audit(servers: Servers, action: str) -> list[dict[str, Any]]:
    engine = make_engine(database_url(servers.databases["billing"], servers.pg_dsn))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text(
                "SELECT actor, entity_id, after FROM audit_log WHERE action = :a ORDER BY id"),
                {"a": action})
            return [dict(r) for r in rows.mappings()]
    finally:
        await engine.dispose()


async def _failures(servers: Servers) -> dict[str, int]:
    """How often billing's consumer failed each message (its consumer_failure record)."""
    engine = make_engine(database_url(servers.databases["billing"], servers.pg_dsn))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text(
                "SELECT message_id, failures FROM consumer_failure WHERE consumer = 'billing'"))
            return {r.message_id: r.failures for r in rows}
    finally:
        await engine.dispose()


def _cli(servers: Servers, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **servers.env()}
    return subprocess.run([sys.executable, "-m", "clientops_shared.devtools", "dlq", *args],
                          env=env, capture_output=True, text=True, timeout=60)


async def test_poison_messages_replay_to_their_own_queue_once_drop_is_audited_cli_lists(
    servers: Servers,
) -> None:
    admin = servers.auth(*ADMIN)
    # 1. billing's consumer rejects two poison messages into its DLQ, failures on record
    async with running_app(servers, "billing") as (_, billing):
        first, second = await _poison(servers, 1), await _poison(servers, 2)

        async def both_dead() -> bool:
            return (await _depths(servers))["billing.events.dlq"] == 2
        await eventually_async(both_dead, timeout=30)

        r = await billing.get("/api/admin/dead-letters", headers=admin)
        assert r.status_code == 200, r.text
        letters = {d["message_id"]: d for d in r.json()}
        assert set(letters) == {first, second}
        letter = letters[first]
        assert letter["event_type"] == "contracts.contract.signed"
        assert letter["queue"] == "billing.events"
        assert letter["error_class"] == "PermanentFailure"  # the consumer_failure record
        assert "contract_id" in letter["error"]
        assert letter["first_failed_at"] and letter["last_failed_at"]
        assert letter["deliveries"] >= 1 and letter["failures"] == 1
        assert letter["trace_id"] == TRACE_ID and TRACE_ID in letter["trace_url"]
        assert letter["headers"]["traceparent"].startswith("00-")
        # x-death as JSON, not a Python repr
        assert isinstance(letter["death"], list) and letter["death"][0]["queue"] == (
            "billing.events")
        assert letter["death"][0]["reason"] == "rejected"
        one = await billing.get(f"/api/admin/dead-letters/{second}", headers=admin)
        assert one.status_code == 200 and one.json()["message_id"] == second
        assert (await billing.get(f"/api/admin/dead-letters/{uuid.uuid4()}",
                                  headers=admin)).status_code == 404
        # filters: by type, by id; a replay needs a reason and a selection
        r = await billing.get("/api/admin/dead-letters", headers=admin,
                              params={"type": "billing.invoice.issued"})
        assert r.json() == []
        r = await billing.post("/api/admin/dead-letters/replay", headers=admin,
                               json={"type": "contracts.contract.signed"})
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"reason"}
        r = await billing.post("/api/admin/dead-letters/drop", headers=admin,
                               json={"reason": "no selection"})
        assert r.status_code == 422
        assert (await billing.get("/api/admin/dead-letters", headers=servers.auth(
            "manager1", "manager"))).status_code == 403

    # 2. the CLI lists them with their error text (the service is not running)
    listed = await asyncio.to_thread(_cli, servers, "list", "--service", "billing")
    assert listed.returncode == 0, listed.stderr
    for message_id in (first, second):
        line = next(x for x in listed.stdout.splitlines() if x.startswith(message_id))
        assert "contracts.contract.signed" in line and "PermanentFailure" in line
        assert "contract_id" in line

    # 3. replay, with no consumer running: each goes back to billing.events only, once
    before = await _depths(servers)
    replayed = await asyncio.to_thread(
        _cli, servers, "replay", "--service", "billing", "--type", "contracts.contract.signed",
        "--reason", "contract fixed in billing 1.2.3", "--actor", "ops-oncall")
    assert replayed.returncode == 0, replayed.stderr
    assert "2 dead letter(s) replayed to billing.events" in replayed.stdout
    after = await _depths(servers)
    assert after["billing.events"] == before["billing.events"] + 2
    assert after["billing.events.dlq"] == 0
    others = {k: v for k, v in after.items() if not k.startswith("billing.")}
    assert others == {k: v for k, v in before.items() if not k.startswith("billing.")}
    audit = await _audit(servers, "dead_letter.replayed")
    assert sorted(a["entity_id"] for a in audit) == sorted([first, second])
    assert {a["actor"] for a in audit} == {"ops-oncall"}
    assert {a["after"]["reason"] for a in audit} == {"contract fixed in billing 1.2.3"}

    async with running_app(servers, "billing") as (_, billing):
        # the consumer fails them again, once each: back in the DLQ, not cycling
        async def dead_again() -> bool:
            return (await _depths(servers))["billing.events.dlq"] == 2
        await eventually_async(dead_again, timeout=30)
        await asyncio.sleep(1.0)
        failures = await _failures(servers)
        assert {k: failures.get(k) for k in (first, second)} == {first: 2, second: 2}

        # a replay by HTTP of one message by id, capped: only that one, only billing's queue
        before = await _depths(servers)
        r = await billing.post("/api/admin/dead-letters/replay", headers=admin, json={
            "message_ids": [first], "limit": 1, "reason": "one more try"})
        assert r.status_code == 200, r.text
        assert r.json() == {"replayed": [first], "count": 1, "queue": "billing.events"}

        async def first_failed_thrice() -> bool:
            counts = await _failures(servers)
            dlq = (await _depths(servers))["billing.events.dlq"]
            return counts.get(first) == 3 and dlq == 2
        await eventually_async(first_failed_thrice, timeout=30)
        after = await _depths(servers)
        assert {k: v for k, v in after.items() if not k.startswith("billing.")} == {
            k: v for k, v in before.items() if not k.startswith("billing.")}

        # 4. drop one with a reason: it is gone, the other stays, the audit says who and why
        r = await billing.post("/api/admin/dead-letters/drop", headers=admin, json={
            "message_ids": [second], "reason": "test message, never valid"})
        assert r.status_code == 200, r.text
        assert r.json() == {"dropped": [second], "count": 1}
        remaining = (await billing.get("/api/admin/dead-letters", headers=admin)).json()
        assert [d["message_id"] for d in remaining] == [first]
        assert remaining[0]["failures"] == 3
        (dropped,) = await _audit(servers, "dead_letter.dropped")
        assert dropped["entity_id"] == second and dropped["actor"] == "admin"
        assert dropped["after"]["reason"] == "test message, never valid"
        assert dropped["after"]["error_class"] == "PermanentFailure"
        r = await billing.get("/api/admin/audit", headers=admin,
                              params={"entity": "event", "entity_id": second})
        assert "dead_letter.dropped" in {a["action"] for a in r.json()}

        # 5. the broker away: 503 with the reason, not a bare 500
        runtime = billing._transport.app.state.runtime  # type: ignore[attr-defined]
        real_url = runtime.settings.amqp_url
        runtime.settings.amqp_url = "amqp://guest:guest@127.0.0.1:1/"
        try:
            r = await billing.get("/api/admin/dead-letters", headers=admin)
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "cannot reach the broker" in r.json()["detail"]
            r = await billing.post("/api/admin/dead-letters/drop", headers=admin, json={
                "message_ids": [first], "reason": "x" * 3})
            assert r.status_code == 503
        finally:
            runtime.settings.amqp_url = real_url

    # 6. the CLI shows one in full (error, x-death as JSON, trace link) and drops it, audited
    shown = await asyncio.to_thread(_cli, servers, "show", "--service", "billing", "--id", first)
    assert shown.returncode == 0, shown.stderr
    (letter,) = json.loads(shown.stdout)
    assert letter["message_id"] == first and letter["error_class"] == "PermanentFailure"
    assert letter["death"][0]["queue"] == "billing.events" and TRACE_ID in letter["trace_url"]
    future = await asyncio.to_thread(_cli, servers, "list", "--service", "billing",
                                     "--since", "2100-01-01T00:00:00+03:00")
    assert future.returncode == 0 and "0 dead letter(s) in billing" in future.stdout
    no_reason = await asyncio.to_thread(_cli, servers, "drop", "--service", "billing",
                                        "--id", first)
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    dropped_cli = await asyncio.to_thread(_cli, servers, "drop", "--service", "billing",
                                          "--id", first, "--reason", "fixed by hand",
                                          "--actor", "ops-oncall")
    assert dropped_cli.returncode == 0, dropped_cli.stderr
    assert f"{first}\tcontracts.contract.signed\tdropped" in dropped_cli.stdout
    assert (await _depths(servers))["billing.events.dlq"] == 0
    audit = await _audit(servers, "dead_letter.dropped")
    assert [(a["entity_id"], a["actor"], a["after"]["reason"]) for a in audit][-1] == (
        first, "ops-oncall", "fixed by hand")
