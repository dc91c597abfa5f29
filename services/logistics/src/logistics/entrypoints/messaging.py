"""Events the logistics service consumes."""

from __future__ import annotations

from clientops_shared import projections
from clientops_shared.messaging import EventHandlers
from logistics.adapters import orm
from logistics.service_layer.unit_of_work import LogisticsUnitOfWork

handlers: EventHandlers[LogisticsUnitOfWork] = EventHandlers("logistics")
projections.register(handlers, orm.clients)
