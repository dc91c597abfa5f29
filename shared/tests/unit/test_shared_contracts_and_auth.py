"""The envelope, the event registry, money types and tokens: pure, no servers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from clientops_shared import context
from clientops_shared.auth import Principal, Unauthorized, decode_token, issue_token
from clientops_shared.events import REGISTRY, Envelope, UnknownEvent
from clientops_shared.events import contracts as c
from clientops_shared.messaging import CONSUMERS
from clientops_shared.types import Money, NonNegativeMoney

pytestmark = pytest.mark.unit
SECRET = "unit-test-secret-0123456789abcdef0123456789"


def test_every_contract_has_a_dotted_routing_key_of_its_producer() -> None:
    producers = {"contracts", "billing", "field_ops", "logistics", "notifications", "web"}
    for (event_type, version), contract in REGISTRY.items():
        if event_type.startswith("test."):
            continue  # contracts that tests define for themselves
        service, entity, verb = event_type.split(".")
        assert service in producers and entity and verb, event_type
        assert version >= 1 and contract.TYPE == event_type


def test_envelope_round_trip_keeps_money_as_decimal_string_and_context() -> None:
    with context.bound(correlation="corr-1", causation=uuid.UUID(int=7)):
        env = Envelope.wrap(c.ContractTerminated(
            contract_id=uuid.uuid4(), number="2026-0001", client_id=uuid.uuid4(),
            effective_on="2027-03-10"), "contracts")
    assert env.correlation_id == "corr-1" and env.causation_id == uuid.UUID(int=7)
    wire = env.model_dump_json()
    back = Envelope.model_validate_json(wire)
    event = back.event()
    assert isinstance(event, c.ContractTerminated)
    assert str(event.effective_on) == "2027-03-10"
    signed = Envelope.wrap(c.ClaimOpened(claim_id=uuid.uuid4(), client_id=uuid.uuid4(),
                                         subject="x", amount="1500.50"), "contracts")
    assert signed.payload["amount"] == "1500.50"


def test_unknown_version_and_extra_fields() -> None:
    env = Envelope(type="contracts.contract.signed", version=99, producer="x", payload={})
    with pytest.raises(UnknownEvent):
        env.event()
    # consumers ignore fields they do not know (additive changes within a version)
    event = c.ClientReassigned.model_validate({"client_id": str(uuid.uuid4()), "name": "n",
                                               "previous_manager": None, "manager": "m",
                                               "new_field": 1})
    assert event.manager == "m"


def test_every_consumer_pattern_is_a_topic_pattern() -> None:
    for keys in CONSUMERS.values():
        for key in keys:
            assert all(part and (part in "#*" or part.replace("_", "").isalnum())
                       for part in key.split("."))


class Fee(BaseModel):
    fee: NonNegativeMoney
    delta: Money


@pytest.mark.parametrize("raw", ["12500", "12500.0", "12500.00", 12500, Decimal("12500.00")])
def test_money_accepts_exact_amounts(raw: object) -> None:
    m = Fee(fee=raw, delta="-1.50")
    assert m.fee == Decimal("12500.00") and m.model_dump(mode="json")["fee"] == "12500.00"
    assert m.model_dump(mode="json")["delta"] == "-1.50"


@pytest.mark.parametrize("raw, message", [
    (12500.5, "float"), ("1.005", "two decimal places"), ("-1", "negative"), ("abc", "decimal"),
    ("NaN", "finite"), (True, "float"),
])
def test_money_refuses_inexact_or_negative(raw: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Fee(fee=raw, delta="0")


def test_tokens_round_trip_and_refuse_tampering_and_expiry() -> None:
    token = issue_token(SECRET, "manager1", "manager")
    assert decode_token(SECRET, token) == Principal("manager1", "manager")
    with pytest.raises(Unauthorized):
        decode_token(SECRET + "x", token)
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(SECRET, issue_token(SECRET, "a", "head", ttl=timedelta(seconds=-5)))
    with pytest.raises(ValueError):
        issue_token(SECRET, "a", "superuser")


def test_managers_see_only_their_clients() -> None:
    assert Principal("manager1", "manager").may_see_client_of("manager1")
    assert not Principal("manager1", "manager").may_see_client_of("manager2")
    assert not Principal("manager1", "manager").may_see_client_of(None)
    assert Principal("head", "head").may_see_client_of("manager2")
