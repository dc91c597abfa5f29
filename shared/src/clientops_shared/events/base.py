"""The event envelope and the base of every versioned event contract."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from clientops_shared import context

REGISTRY: dict[tuple[str, int], type[Event]] = {}


class UnknownEvent(Exception):
    """No contract for this (type, version): the consumer dead-letters it."""


class Event(BaseModel):
    """A fact that happened. Subclasses set ``TYPE`` (the routing key) and ``VERSION``.

    Additive changes stay within a version; consumers ignore unknown fields. A breaking change
    is a new class with the same TYPE and VERSION + 1.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[tuple[str, str] | None] = None
    """(aggregate name, field holding its id): the event is one step in that aggregate's life.
    Its envelope then carries the aggregate's version, and consumers apply those steps in
    order whatever order they arrive in."""

    def aggregate_key(self) -> tuple[str, str] | None:
        if self.AGGREGATE is None:
            return None
        name, field = self.AGGREGATE
        value = getattr(self, field, None)
        return None if value is None else (name, str(value))

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            key = (cls.TYPE, cls.VERSION)
            if key in REGISTRY and REGISTRY[key] is not cls:
                raise TypeError(f"event contract {key} defined twice")
            REGISTRY[key] = cls


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    correlation_id: str | None = None
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]
    # the aggregate this event is a step of, and its place in that aggregate's sequence
    # (1, 2, ...; written with the outbox row). None on events published before versioning.
    aggregate: str | None = None
    aggregate_id: str | None = None
    aggregate_version: int | None = Field(default=None, ge=1)

    @classmethod
    def wrap(cls, event: Event, producer: str) -> Envelope:
        key = event.aggregate_key()
        return cls(
            aggregate=key[0] if key else None,
            aggregate_id=key[1] if key else None,
            type=event.TYPE,
            version=event.VERSION,
            producer=producer,
            correlation_id=context.current_correlation(),
            causation_id=context.causation_id.get(),
            payload=event.model_dump(mode="json"),
        )

    @classmethod
    def common_fields(cls, contract: builtins.type[Event], producer: str, *,
                      steps_numbered: bool = False) -> dict[str, Any]:
        """What ``wrap`` would put around any event of ``contract`` here and now, as JSON,
        without ``event_id`` and ``payload``: for outbox rows written set-wise in SQL, which
        add those two per row (``jsonb_build_object``).

        An aggregate step also needs its ``aggregate_id`` and ``aggregate_version`` per row:
        ``steps_numbered`` says the statement numbers them (``uow.number_steps_sql``)."""
        if contract.AGGREGATE is not None and not steps_numbered:
            raise ValueError(f"{contract.TYPE} is an aggregate step: its rows need versions "
                             "(UnitOfWork.emit, or uow.number_steps_sql in the statement)")
        envelope = cls(type=contract.TYPE, version=contract.VERSION, producer=producer,
                       correlation_id=context.current_correlation(),
                       causation_id=context.causation_id.get(), payload={},
                       aggregate=contract.AGGREGATE[0] if contract.AGGREGATE else None)
        per_row = {"event_id", "payload"} | (
            {"aggregate_id", "aggregate_version"} if contract.AGGREGATE else set())
        return {k: v for k, v in envelope.model_dump(mode="json").items() if k not in per_row}

    def event(self) -> Event:
        contract = REGISTRY.get((self.type, self.version))
        if contract is None:
            raise UnknownEvent(f"no contract for {self.type} v{self.version}")
        return contract.model_validate(self.payload)
