"""A message whose body is not JSON at all is a consumer failure like any other: logged,
recorded for an operator and dead-lettered at once — not requeued unrecorded to the delivery
limit by the broker library's decoder (found by the fault suite's poison scenario)."""

from __future__ import annotations

import logging
import uuid

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.testing import eventually_async

from .test_shared_consumer_failures import Probe, probe

pytestmark = pytest.mark.integration
__all__ = ["probe"]


async def test_a_body_that_is_not_json_is_recorded_and_dead_lettered_at_once(
    probe: Probe, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="clientops.messaging")
    message_id = uuid.uuid4()
    connection = await aio_pika.connect(probe.servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(messaging.EXCHANGE)
        await exchange.publish(aio_pika.Message(
            b"{not json", content_type="application/json", message_id=str(message_id),
            type="test.failures.strict", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="test.failures.strict")

    async def dead() -> bool:
        return await probe.dlq() == 1
    await eventually_async(dead, timeout=15)
    record = await probe.record(message_id)
    assert record is not None, "not on the operators' record"
    assert record["outcome"] == "dead_lettered"
    assert "not an event envelope" in record["error"]
    assert record["failures"] == 1, "dead-lettered at once, not after redeliveries"
    assert any(str(message_id) in r.getMessage() for r in caplog.records)
