"""Notifications consumes every event: each may create work and belongs on a timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clientops_shared.events import REGISTRY, Envelope, Event
from clientops_shared.messaging import EventHandlers
from notifications.domain.model import MOSCOW
from notifications.domain.rules import RuleSet
from notifications.service_layer.handlers import handle_event
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


def build_handlers(rules: RuleSet, head: str,
                   clock: Callable[[], datetime] = lambda: datetime.now(MOSCOW)
                   ) -> EventHandlers[NotificationsUnitOfWork]:
    handlers: EventHandlers[NotificationsUnitOfWork] = EventHandlers("notifications")

    async def on_event(event: Event, envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
        await handle_event(uow, envelope, rules, head=head, now=clock())

    for contract in REGISTRY.values():
        handlers.on(contract)(on_event)
    return handlers
