"""Per-request / per-message context: correlation and causation travel with every event."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[uuid.UUID | None] = ContextVar("causation_id", default=None)
actor: ContextVar[str | None] = ContextVar("actor", default=None)


@contextlib.contextmanager
def bound(
    *, correlation: str | None = None, causation: uuid.UUID | None = None, who: str | None = None
) -> Iterator[None]:
    tokens = [
        (correlation_id, correlation_id.set(correlation or correlation_id.get())),
        (causation_id, causation_id.set(causation)),
        (actor, actor.set(who or actor.get())),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)  # type: ignore[attr-defined]


def current_correlation() -> str:
    value = correlation_id.get()
    if value is None:
        value = str(uuid.uuid4())
        correlation_id.set(value)
    return value
