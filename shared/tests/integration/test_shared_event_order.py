"""Events about one aggregate give the same result whatever order they arrive in.

For every consumer of contracts' events (billing, notifications, field-ops, logistics), every
pair of one contract's events (and of one client's events) is published swapped, each pair on
its own contract; the final state must equal the state reached from the events in order. Also:
the versions written by the unit of work, events without a version, unknown types and versions.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from clientops_shared.db import make_engine
from clientops_shared.events import Envelope, Event
from clientops_shared.events import contracts as c
from clientops_shared.settings import database_url
from clientops_shared.testing import (
    Servers,
    eventually_async,
    numbered_envelopes,
    publish_envelopes,
    running_app,
)

pytestmark = pytest.mark.integration

CONSUMERS = ("billing", "notifications", "field_ops", "logistics")
# fast first, then long: an event parked for its predecessor must outwait the whole backlog
# before it is dead-lettered (6.7 s in all was too little on a busy machine: the test failed)
FAST_RETRIES = (0.2, 0.5, 1.0, 2.0, 3.0, 10.0, 30.0)


def contract_life(contract_id: uuid.UUID, client_id: uuid.UUID, n: int) -> list[Event]:
    ref = {"contract_id": contract_id, "number": f"2027-{n:04d}", "client_id": client_id}
    return [
        c.ContractSigned(**ref, client_name=f"ООО Порядок {n}", client_inn="7707083893",
                         client_email="buh@example.ru", manager="manager1",
                         kind="subscription", status="active", signed_on=date(2027, 1, 1),
                         starts_on=date(2027, 1, 1), monthly_fee="10000.00"),
        c.ContractAmended(**ref, amendment_id=uuid.uuid4(), kind="fee_change",
                          effective_on=date(2027, 2, 1), monthly_fee="12000.00"),
        c.ContractSuspended(**ref, effective_on=date(2027, 3, 1)),
        c.ContractResumed(**ref, effective_on=date(2027, 4, 1)),
        c.ContractTerminated(**ref, effective_on=date(2027, 6, 1), reason="по соглашению"),
    ]


def client_life(client_id: uuid.UUID, n: int) -> list[Event]:
    return [
        c.ClientRegistered(client_id=client_id, name=f"ООО Клиент {n}", inn="7736207543",
                           email="old@example.ru", manager="manager1"),
        c.ClientUpdated(client_id=client_id, name=f"ООО Клиент {n} (новое имя)",
                        inn="7736207543", email="new@example.ru", manager="manager2"),
    ]


def swapped(items: list[Any], i: int, j: int) -> list[Any]:
    out = list(items)
    out[i], out[j] = out[j], out[i]
    return out


class Databases:
    def __init__(self, servers: Servers) -> None:
        self.engines = {s: make_engine(database_url(servers.databases[s], servers.pg_dsn))
                        for s in CONSUMERS}

    async def rows(self, service: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.engines[service].connect() as conn:
            return [tuple(r) for r in await conn.execute(sa.text(sql), params)]

    async def seen(self, service: str, ids: list[uuid.UUID]) -> int:
        return int((await self.rows(
            service, "SELECT count(*) FROM inbox_message WHERE event_id = ANY(:ids)",
            ids=ids))[0][0])

    async def contract_state(self, contract_id: uuid.UUID, client_id: uuid.UUID
                             ) -> dict[str, Any]:
        billing = await self.rows("billing", """
            SELECT s.status, s.monthly_fee, s.service_start, s.terminated_on,
                   (SELECT array_agg(f.effective_from::text || '=' || f.monthly_fee::text
                                     ORDER BY f.effective_from)
                      FROM subscription_fee f WHERE f.subscription_id = s.id),
                   (SELECT array_agg(x.suspended_from::text || '..' ||
                                     coalesce(x.resume_on::text, '')
                                     ORDER BY x.suspended_from)
                      FROM subscription_suspension x WHERE x.subscription_id = s.id)
              FROM subscription s WHERE s.contract_id = :c""", c=contract_id)
        tasks = await self.rows("notifications", """
            SELECT kind, state, assignee FROM task WHERE client_id = :k
             ORDER BY kind, state, assignee""", k=str(client_id))
        timeline = await self.rows("notifications", "SELECT count(*) FROM timeline_entry "
                                   "WHERE client_id = :k", k=str(client_id))
        return {"billing": billing, "tasks": tasks, "timeline": timeline}

    async def client_state(self, client_id: uuid.UUID) -> dict[str, Any]:
        return {service: await self.rows(
            service, "SELECT name, inn, email, manager FROM "
                     f"{'client_account' if service == 'billing' else 'client_directory'} "
                     "WHERE client_id = :k", k=client_id) for service in CONSUMERS}

    async def dispose(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()


@contextlib.asynccontextmanager
async def consumers_running(servers: Servers) -> AsyncIterator[Databases]:
    async with contextlib.AsyncExitStack() as stack:
        for service in CONSUMERS:
            await stack.enter_async_context(running_app(
                servers, service, jobs_enabled=False, retry_delays=FAST_RETRIES))
        dbs = Databases(servers)
        try:
            yield dbs
        finally:
            await dbs.dispose()


async def settle(dbs: Databases, expected: dict[str, list[uuid.UUID]]) -> None:
    async def done() -> bool:
        for service, ids in expected.items():
            if await dbs.seen(service, ids) != len(ids):
                return False
        return True
    await eventually_async(done, timeout=150, interval=0.3)


async def test_every_pair_of_one_aggregates_events_in_either_order_ends_the_same(
    private_broker: Servers,
) -> None:
    servers = private_broker
    size = len(contract_life(uuid.uuid4(), uuid.uuid4(), 0))
    worlds: list[tuple[str, uuid.UUID, uuid.UUID, list[Envelope]]] = []
    orders: list[tuple[str, Callable[[list[Any]], list[Any]]]] = [("in order", lambda e: e)]
    orders += [(f"{i + 1}<->{j + 1}", lambda e, i=i, j=j: swapped(e, i, j))
               for i, j in itertools.combinations(range(size), 2)]
    envelopes: list[Envelope] = []
    for n, (label, reorder) in enumerate(orders):
        contract_id, client_id = uuid.uuid4(), uuid.uuid4()
        sent = reorder(numbered_envelopes(contract_life(contract_id, client_id, n)))
        worlds.append((label, contract_id, client_id, sent))
        envelopes += sent
    client_worlds = []
    for n, reorder in enumerate([lambda e: e, lambda e: swapped(e, 0, 1)]):
        client_id = uuid.uuid4()
        sent = reorder(numbered_envelopes(client_life(client_id, n)))
        client_worlds.append((client_id, sent))
        envelopes += sent

    async with consumers_running(servers) as dbs:
        await publish_envelopes(servers.amqp_url, envelopes)
        contract_ids = [e.event_id for _, _, _, sent in worlds for e in sent]
        client_ids = [e.event_id for _, sent in client_worlds for e in sent]
        # every consumer handling an aggregate applies all of its steps (field-ops and
        # logistics follow clients, not contracts)
        await settle(dbs, {"billing": contract_ids + client_ids,
                           "notifications": contract_ids + client_ids,
                           "field_ops": client_ids, "logistics": client_ids})

        # billing's own events (subscription opened) reach notifications' timeline later
        async def reference_settled() -> dict[str, Any] | None:
            state = await dbs.contract_state(worlds[0][1], worlds[0][2])
            return state if state["timeline"] == [(6,)] else None
        reference = await eventually_async(reference_settled, timeout=30)
        assert reference["billing"][0][:2] == ("ended", 12000), reference
        assert reference["billing"][0][4] == ["2027-01-01=10000.00", "2027-02-01=12000.00"]
        assert reference["billing"][0][5] == ["2027-03-01..2027-04-01"]
        assert reference["tasks"], "the signing creates work in notifications"
        for label, contract_id, client_id, _ in worlds[1:]:

            async def same(contract_id: uuid.UUID = contract_id,
                           client_id: uuid.UUID = client_id) -> bool:
                return await dbs.contract_state(contract_id, client_id) == reference
            try:
                await eventually_async(same, timeout=15)
            except AssertionError:
                assert await dbs.contract_state(contract_id, client_id) == reference, label

        first = await dbs.client_state(client_worlds[0][0])
        assert first["field_ops"] == [("ООО Клиент 0 (новое имя)", "7736207543",
                                       "new@example.ru", "manager2")]
        assert len({tuple(v) for v in first.values()}) == 1, first  # every consumer agrees
        second = await dbs.client_state(client_worlds[1][0])
        assert {k: [(r[1], r[2], r[3]) for r in v] for k, v in second.items()} == {
            k: [(r[1], r[2], r[3]) for r in v] for k, v in first.items()}

        # nothing was dead-lettered or left failing on the way
        ours = [str(e.event_id) for e in envelopes]
        for service in CONSUMERS:
            assert await dbs.rows(service, "SELECT message_id, error FROM consumer_failure "
                                           "WHERE resolved_at IS NULL AND message_id = "
                                           "ANY(:ids)", ids=ours) == [], service


async def test_unversioned_events_still_apply_as_they_come(private_broker: Servers) -> None:
    contract_id, client_id = uuid.uuid4(), uuid.uuid4()
    life = contract_life(contract_id, client_id, 9001)[:2]
    envelopes = [Envelope.wrap(e, "contracts") for e in life]  # no aggregate_version
    assert all(e.aggregate_version is None for e in envelopes)
    async with consumers_running(private_broker) as dbs:
        await publish_envelopes(private_broker.amqp_url, envelopes)
        await settle(dbs, {"billing": [e.event_id for e in envelopes]})
        state = await dbs.contract_state(contract_id, client_id)
        assert state["billing"][0][1] == 12000


class ProbeRecorded(Event):
    TYPE = "test.order.recorded"
    AGGREGATE = ("probe", "probe_id")
    probe_id: uuid.UUID
    n: int


async def test_unit_of_work_numbers_each_aggregates_steps_in_its_transaction(
    servers: Servers,
) -> None:
    from clientops_shared.db import make_sessions, shared_tables
    from clientops_shared.uow import UnitOfWork
    from contracts.adapters.orm import metadata

    engine = make_engine(database_url(servers.databases["contracts"], servers.pg_dsn))
    tables = shared_tables(metadata)
    a, b = uuid.uuid4(), uuid.uuid4()
    try:
        uow = UnitOfWork(make_sessions(engine), tables, "contracts")
        async with uow:
            uow.emit(ProbeRecorded(probe_id=a, n=1), ProbeRecorded(probe_id=b, n=1),
                     ProbeRecorded(probe_id=a, n=2))
            await uow.commit()
        async with uow:
            uow.emit(ProbeRecorded(probe_id=a, n=3), c.DocumentUploaded(
                document_id=uuid.uuid4(), client_id=uuid.uuid4(), kind="scan",
                filename="a.pdf", content_type="application/pdf", size=1))
            await uow.commit()
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT body->'payload'->>'probe_id', (body->'payload'->>'n')::int, "
                "body->>'aggregate', (body->>'aggregate_version')::int FROM outbox_message "
                "WHERE routing_key IN ('test.order.recorded', 'contracts.document.uploaded') "
                "AND (body->'payload'->>'probe_id' = ANY(:ids) OR routing_key <> "
                "'test.order.recorded') ORDER BY id DESC LIMIT 5"),
                {"ids": [str(a), str(b)]})).all()
            await conn.execute(sa.text("DELETE FROM outbox_message WHERE routing_key IN "
                                       "('test.order.recorded')"))
            await conn.commit()
        by_step = {(r[0], r[1]): (r[2], r[3]) for r in rows if r[0]}
        assert by_step == {(str(a), 1): ("probe", 1), (str(b), 1): ("probe", 1),
                           (str(a), 2): ("probe", 2), (str(a), 3): ("probe", 3)}
        document = next(r for r in rows if r[0] is None)
        assert document[2:] == (None, None)  # not an aggregate step: no version
    finally:
        await engine.dispose()
