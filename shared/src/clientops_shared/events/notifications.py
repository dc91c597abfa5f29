"""Events published by notifications, the owner of the work queue and clients' requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from clientops_shared.events.base import Event


class ClientRequestRegistered(Event):
    """A client's call or letter was registered in the requests journal and routed to the
    function that answers it (seed 000 §1, 004 §7.5)."""

    TYPE = "notifications.request.registered"
    AGGREGATE = ("client_request", "request_id")
    request_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    kind: str
    kind_label: str
    function: str
    function_label: str
    channel: str
    channel_label: str
    subject: str = Field(max_length=2000)
    registered_by: str
    registered_at: datetime
    manager: str | None = None


class ClientRequestAnswered(Event):
    """The routed function answered the request; the client is informed by mail."""

    TYPE = "notifications.request.answered"
    AGGREGATE = ("client_request", "request_id")
    request_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    kind: str
    kind_label: str
    function: str
    function_label: str
    subject: str = Field(max_length=2000)
    answer: str = Field(max_length=4000)
    answered_by: str
    answered_at: datetime
    registered_at: datetime
