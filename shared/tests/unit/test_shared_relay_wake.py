"""The outbox relay never loses the wake-up of a commit that lands while it is publishing."""

from __future__ import annotations

import asyncio

from clientops_shared.db import make_metadata, shared_tables
from clientops_shared.outbox import OutboxRelay


class WokenWhilePublishing(OutboxRelay):
    """A relay whose first round is "publishing" when a transaction commits (``wake``)."""

    def __init__(self) -> None:
        # polling once an hour: only a wake-up can start the next round soon
        super().__init__(None, shared_tables(make_metadata()).outbox,  # type: ignore[arg-type]
                         "amqp://unused", "test", poll_seconds=3600.0)
        self.rounds = 0
        self.second_round = asyncio.Event()

    async def relay_once(self) -> int:
        self.rounds += 1
        if self.rounds == 1:
            self.wake()  # a commit during this round's publish
        else:
            self.second_round.set()
        return 0

    async def refresh_metrics(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_commit_during_a_round_starts_the_next_round_without_waiting_a_poll() -> None:
    relay = WokenWhilePublishing()
    task = asyncio.create_task(relay.run())
    try:
        # the old relay cleared the wake-up after the round and slept the full poll (an hour)
        await asyncio.wait_for(relay.second_round.wait(), timeout=30)
        assert relay.rounds >= 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

