"""Fault suite, consumer faults: billing SIGKILLed and SIGSTOPped mid-stream, and poison
messages among good ones (issue 9 §5); the backlog is in test_fault_backlog.py."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import aio_pika
import pytest

from clientops_shared import messaging

from .harness import (
    BACKLOG_PREFETCH,
    Faulty,
    applied,
    classify,
    contract_ids,
    converge,
    dead_letters,
    inbox_events,
    publish,
    record,
    signing_envelopes,
    size,
    subscriptions,
    wait_until,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


def test_billing_sigkilled_then_sigstopped_mid_stream_applies_every_event_once(
        faulty: Faulty) -> None:
    n = size(200, 2000)
    # several events in flight when the kill lands: each redelivered, none applied twice
    faulty.start(("billing",), BILLING_CONSUMER_PREFETCH=str(BACKLOG_PREFETCH))
    envelopes = signing_envelopes(n, "KILL")
    ids = contract_ids(envelopes)
    event_ids = publish(faulty, envelopes)
    wait_until(lambda: applied(faulty, ids) >= n // 3, 600, "a third applied")
    faulty.signal("billing", signal.SIGKILL)
    faulty.running.processes["billing"].wait(timeout=30)
    faulty.restart("billing", "after-sigkill")
    wait_until(lambda: applied(faulty, ids) >= 2 * n // 3, 600, "two thirds applied")
    faulty.signal("billing", signal.SIGSTOP)
    time.sleep(size(10, 60))
    faulty.signal("billing", signal.SIGCONT)
    converge(lambda: applied(faulty, ids), n, timeout=900)
    record(classify(ids, subscriptions(faulty, ids),
                    scenario="billing SIGKILL + SIGSTOP: subscriptions")).check()
    record(classify(event_ids, inbox_events(faulty, "billing", event_ids),
                    scenario="billing SIGKILL + SIGSTOP: events in inbox")).check()
    assert dead_letters(faulty, "billing") == {"billing": 0}
    assert faulty.running.processes["billing"].poll() is None


async def _publish_raw(amqp_url: str, messages: list[tuple[bytes, str, str]]) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        for body, routing_key, message_id in messages:
            await exchange.publish(aio_pika.Message(
                body, content_type="application/json", message_id=message_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=routing_key),
                routing_key=routing_key)


def test_poison_messages_are_dead_lettered_and_good_events_behind_them_flow(
        faulty: Faulty) -> None:
    n = size(100, 500)
    faulty.start(("billing",))
    before = dead_letters(faulty, "billing")["billing"]
    envelopes = signing_envelopes(n, "POISON")
    ids = contract_ids(envelopes)
    good = [(e.model_dump_json().encode(), e.type, str(e.event_id)) for e in envelopes]
    template = envelopes[0].model_dump(mode="json")
    unknown = {**template, "event_id": str(uuid.uuid4()), "type": "contracts.contract.teleported"}
    invalid = {**template, "event_id": str(uuid.uuid4()),
               "payload": {"contract_id": "not-a-uuid", "monthly_fee": "a lot"}}
    poison = [(b"{not json", "contracts.contract.signed", str(uuid.uuid4())),
              (b'{"hello": "world"}', "contracts.contract.signed", str(uuid.uuid4())),
              (messaging_json(unknown), "contracts.contract.teleported", unknown["event_id"]),
              (messaging_json(invalid), "contracts.contract.signed", invalid["event_id"])]
    # poison first, in the middle and last: nothing behind any of it may wait
    stream = poison[:2] + good[: n // 2] + poison[2:3] + good[n // 2:] + poison[3:]
    asyncio.run(_publish_raw(faulty.servers.amqp_url, stream))
    converge(lambda: applied(faulty, ids), n, timeout=600)
    record(classify(ids, subscriptions(faulty, ids),
                    scenario=f"poison x{len(poison)} among {n}: good events")).check()
    dlq = converge(lambda: dead_letters(faulty, "billing")["billing"] - before, len(poison),
                   timeout=120, quiet=10)
    record(classify([f"poison-{i}" for i in range(len(poison))],
                    [f"poison-{i}" for i in range(dlq)],
                    scenario="poison messages: in the dead-letter queue")).check()
    assert dlq == len(poison)
    # each one on the operators' record at once, as dead-lettered
    recorded = {r["message_id"]: r["outcome"] for r in faulty.query(
        "billing", "SELECT message_id, outcome FROM consumer_failure "
        "WHERE message_id = ANY($1::text[])", [p[2] for p in poison])}
    assert recorded == {p[2]: "dead_lettered" for p in poison}, (recorded, poison)


def messaging_json(value: dict) -> bytes:
    import json

    return json.dumps(value).encode()
