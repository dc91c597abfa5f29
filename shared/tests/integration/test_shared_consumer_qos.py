"""Each service's consumer runs on a channel of its own with the configured prefetch.

Read back from the broker (``rabbitmqctl list_consumers``), not from our own objects: the bug
this guards against was a consumer silently sharing the declaring channel with QoS 0.
"""

from __future__ import annotations

import subprocess
from urllib.parse import unquote, urlsplit

import pytest

from clientops_shared import messaging
from clientops_shared.testing import Servers, eventually_async, running_app

pytestmark = pytest.mark.integration


def consumer_prefetch(amqp_url: str, queue: str) -> list[int]:
    """Prefetch counts of the consumers on ``queue`` as the broker reports them."""
    vhost = unquote(urlsplit(amqp_url).path[1:]) or "/"
    out = subprocess.run(["rabbitmqctl", "-q", "list_consumers", "-p", vhost, "queue_name",
                          "prefetch_count"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    counts = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] == queue:
            counts.append(int(parts[1]))
    return counts


@pytest.mark.parametrize("service, prefetch", [("billing", 1), ("notifications", 3)])
async def test_consumer_prefetch_is_the_configured_one(private_broker: Servers, service: str,
                                                       prefetch: int) -> None:
    async with running_app(private_broker, service, consumer_prefetch=prefetch):

        async def seen() -> list[int]:
            return consumer_prefetch(private_broker.amqp_url, messaging.queue_name(service))
        assert await eventually_async(seen, timeout=15) == [prefetch]


async def test_the_default_prefetch_is_the_database_pool_size(private_broker: Servers) -> None:
    """Unset, the prefetch is the pool's size: every handler in flight holds one connection
    (the steps of an aggregate still apply in version order, test_shared_event_order)."""
    async with running_app(private_broker, "billing", db_pool_size=4):

        async def seen() -> list[int]:
            return consumer_prefetch(private_broker.amqp_url, messaging.queue_name("billing"))
        assert await eventually_async(seen, timeout=15) == [4]
