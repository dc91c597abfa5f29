"""Notifications consumes every event: each may create work and belongs on a timeline."""

from __future__ import annotations

from clientops_shared.events import REGISTRY, Envelope, Event
from clientops_shared.messaging import EventHandlers
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.handlers import handle_event, read_group
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


def build_handlers(deps: Dependencies) -> EventHandlers[NotificationsUnitOfWork]:
    handlers: EventHandlers[NotificationsUnitOfWork] = EventHandlers("notifications")

    async def on_event(event: Event, envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
        await handle_event(uow, envelope, deps)

    for contract in REGISTRY.values():
        handlers.on(contract)(on_event)
    # a mail carrying a one-time secret is sent while its event is handled: never in a group,
    # whose failure would handle (and send) it again
    handlers.handled_alone = lambda envelope: bool(deps.rules.sensitive_fields(envelope.type))
    handlers.prepare_group = read_group
    return handlers
