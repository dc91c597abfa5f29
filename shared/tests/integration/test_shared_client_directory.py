"""Field-ops and logistics keep their own client directory from contracts' events."""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.testing import Servers, eventually_async, running_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["field_ops", "logistics"])
async def test_directory_follows_client_events_and_hides_other_managers_clients(
    servers: Servers, service: str
) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with running_app(servers, service) as (_, client):
        connection = await aio_pika.connect(servers.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(messaging.EXCHANGE)
            for event in (
                c.ClientRegistered(client_id=mine, name="ООО Своё", inn="7707083893",
                                   manager="manager1"),
                c.ClientRegistered(client_id=theirs, name="ООО Чужое", inn="7736207543",
                                   manager="manager2"),
                c.ClientReassigned(client_id=theirs, name="ООО Чужое",
                                   previous_manager="manager2", manager="manager2"),
            ):
                env = Envelope.wrap(event, "contracts")
                await exchange.publish(aio_pika.Message(env.model_dump_json().encode(),
                                                        content_type="application/json"),
                                       routing_key=env.type)

        async def listed() -> list[dict[str, str]] | None:
            r = await client.get("/api/clients", headers=servers.auth("head", "head"))
            rows = r.json()
            return rows if {str(mine), str(theirs)} <= {x["client_id"] for x in rows} else None
        await eventually_async(listed)
        r = await client.get("/api/clients", headers=servers.auth("manager1", "manager"))
        assert [x["client_id"] for x in r.json()] == [str(mine)]
