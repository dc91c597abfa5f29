"""Events delivered together share transactions (GroupCommit); a failing group is handled
event by event, so each event keeps its own outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from opentelemetry import trace

from clientops_shared.events import Envelope
from clientops_shared.messaging import EventHandlers, GroupCommit, PermanentFailure


def envelope(kind: str = "ok") -> Envelope:
    return Envelope(type=f"test.{kind}", version=1, producer="test", payload={})


class Recorded(EventHandlers[Any]):
    """Handlers that record the transactions they are asked for instead of opening them."""

    def __init__(self) -> None:
        super().__init__("test")
        self.together: list[int] = []
        self.alone: list[uuid.UUID] = []

    async def dispatch_together(self, envelopes: Sequence[Envelope],
                                uow_factory: Callable[[], Any]) -> list[bool]:
        await asyncio.sleep(0)  # a transaction takes a while: others queue meanwhile
        if any(e.type == "test.bad" for e in envelopes):
            raise RuntimeError("one event of the group failed: the whole group rolled back")
        self.together.append(len(envelopes))
        return [True] * len(envelopes)

    async def dispatch(self, envelope: Envelope, uow_factory: Callable[[], Any]) -> bool:
        self.alone.append(envelope.event_id)
        if envelope.type == "test.bad":
            raise PermanentFailure("its own outcome")
        return True


async def test_events_delivered_together_share_transactions_of_at_most_the_group_size() -> None:
    handlers = Recorded()
    group = GroupCommit(handlers, lambda: None, size=4, workers=2)
    outcomes = await asyncio.gather(*(group.dispatch(envelope()) for _ in range(17)))
    assert outcomes == [True] * 17
    assert sum(handlers.together) + len(handlers.alone) == 17
    assert max(handlers.together) == 4 and len(handlers.together) <= 6  # not 17 transactions


async def test_a_failing_group_is_handled_event_by_event_each_with_its_own_outcome() -> None:
    handlers = Recorded()
    group = GroupCommit(handlers, lambda: None, size=10, workers=1)
    events = [envelope(), envelope("bad"), envelope(), envelope()]
    outcomes = await asyncio.gather(*(group.dispatch(e) for e in events),
                                    return_exceptions=True)
    assert outcomes[0] is True and outcomes[2] is True and outcomes[3] is True
    assert isinstance(outcomes[1], PermanentFailure)  # only the bad one's delivery fails
    assert set(handlers.alone) >= {e.event_id for e in events[1:]}


async def test_an_event_handled_alone_never_joins_a_group() -> None:
    handlers = Recorded()
    handlers.handled_alone = lambda e: e.type == "test.secret"
    group = GroupCommit(handlers, lambda: None, size=10, workers=1)
    secret = envelope("secret")
    await asyncio.gather(group.dispatch(envelope()), group.dispatch(secret),
                         group.dispatch(envelope()))
    assert handlers.alone == [secret.event_id] and handlers.together == [2]


async def test_an_event_queued_after_the_workers_finished_starts_a_new_one() -> None:
    handlers = Recorded()
    group = GroupCommit(handlers, lambda: None, size=10, workers=1)
    for _ in range(3):  # one at a time: each finds no worker running
        assert await asyncio.wait_for(group.dispatch(envelope()), timeout=30) is True


@pytest.mark.parametrize("size", [2, 10])
async def test_a_group_of_one_is_handled_as_a_single_event(size: int) -> None:
    handlers = Recorded()
    group = GroupCommit(handlers, lambda: None, size=size, workers=1)
    one = envelope()
    assert await group.dispatch(one) is True
    assert handlers.alone == [one.event_id] and handlers.together == []


async def test_an_event_handled_alone_stays_in_its_deliverys_trace_and_a_group_links_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One delivery's work runs in its own trace; a group's span links every delivery's."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    seen: dict[uuid.UUID, int] = {}

    class Traced(Recorded):
        async def dispatch(self, envelope: Envelope, uow_factory: Callable[[], Any]) -> bool:
            seen[envelope.event_id] = trace.get_current_span().get_span_context().trace_id
            return await super().dispatch(envelope, uow_factory)

    async def delivered(group: GroupCommit[Any], e: Envelope) -> tuple[int, bool]:
        with tracer.start_as_current_span("delivery") as span:  # FastStream's consumer span
            return span.get_span_context().trace_id, await group.dispatch(e)

    handlers = Traced()
    alone = envelope()
    trace_id, _ = await delivered(GroupCommit(handlers, lambda: None, size=10, workers=1), alone)
    assert seen[alone.event_id] == trace_id
    assert exporter.get_finished_spans()[0].attributes == {
        "clientops.consumer": "test", "clientops.event_id": str(alone.event_id)}

    exporter.clear()
    grouped = GroupCommit(handlers, lambda: None, size=10, workers=1)
    monkeypatch.setattr(trace, "get_tracer", lambda *args, **kwargs: tracer)
    results = await asyncio.gather(*(delivered(grouped, envelope()) for _ in range(3)))
    group_span = next(s for s in exporter.get_finished_spans() if s.name.startswith("test group"))
    assert {link.context.trace_id for link in group_span.links} >= {
        t for t, _ in results[1:]}  # the first may have gone alone, before the others queued
