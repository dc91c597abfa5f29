"""The rules event ordering rests on, checked without servers."""

from __future__ import annotations

import uuid

import pytest

from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.messaging import (
    CONSUMERS,
    PredecessorMissing,
    is_connection_loss,
    is_transient,
    routing_matches,
    unbound_steps,
)


@pytest.mark.parametrize("service", sorted(CONSUMERS))
def test_every_consumer_receives_every_step_of_the_aggregates_it_follows(service: str) -> None:
    assert unbound_steps(service) == []


def test_a_consumer_bound_to_part_of_an_aggregate_is_caught() -> None:
    CONSUMERS["probe-partial"] = ("contracts.contract.signed", "contracts.contract.amended")
    try:
        missing = unbound_steps("probe-partial")
    finally:
        del CONSUMERS["probe-partial"]
    assert "contracts.contract.terminated" in missing
    assert "contracts.pilot.ended" in missing  # a contract step under another prefix


@pytest.mark.parametrize("pattern, key, matches", [
    ("contracts.#", "contracts.contract.signed", True),
    ("#", "a.b", True),
    ("contracts.*", "contracts.contract.signed", False),
    ("contracts.*.signed", "contracts.contract.signed", True),
    ("field_ops.equipment.#", "field_ops.equipment", True),
    ("logistics.shipment.#", "logistics.stock.low", False),
])
def test_topic_matching(pattern: str, key: str, matches: bool) -> None:
    assert routing_matches(pattern, key) is matches


def test_contract_and_client_events_name_their_aggregate() -> None:
    contract_id, client_id = uuid.uuid4(), uuid.uuid4()
    amended = Envelope.wrap(c.ContractTerminated(
        contract_id=contract_id, number="1", client_id=client_id,
        effective_on="2027-01-01"), "contracts")
    assert (amended.aggregate, amended.aggregate_id) == ("contract", str(contract_id))
    assert amended.aggregate_version is None  # numbered by the unit of work at commit
    client = Envelope.wrap(c.ClientReassigned(client_id=client_id, name="ООО А",
                                              previous_manager=None, manager="m"), "contracts")
    assert (client.aggregate, client.aggregate_id) == ("client", str(client_id))
    claim = Envelope.wrap(c.ClaimStageChanged(claim_id=uuid.uuid4(), client_id=client_id,
                                              stage="court"), "contracts")
    assert claim.aggregate is None
    # an envelope from before versioning still parses
    old = Envelope.model_validate({"type": "contracts.contract.signed", "version": 1,
                                   "producer": "contracts", "payload": {}})
    assert old.aggregate_version is None


def test_failure_classes() -> None:
    assert is_transient(PredecessorMissing("waits"))
    assert is_transient(TimeoutError()) and not is_connection_loss(TimeoutError())
    assert is_connection_loss(ConnectionRefusedError(111, "refused"))

    class SerializationError(Exception):
        sqlstate = "40001"

    class DataError(Exception):
        sqlstate = "22008"  # datetime field overflow: a bad value, not worth a retry

    wrapped = RuntimeError("commit failed")
    wrapped.__cause__ = SerializationError()
    assert is_transient(wrapped)
    assert not is_transient(DataError()) and not is_transient(ValueError("year 10000"))
