"""Events the field_ops service consumes."""

from __future__ import annotations

from clientops_shared import projections
from clientops_shared.messaging import EventHandlers
from field_ops.adapters import orm
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

handlers: EventHandlers[FieldOpsUnitOfWork] = EventHandlers("field_ops")
projections.register(handlers, orm.clients)
