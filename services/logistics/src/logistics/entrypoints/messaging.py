"""Events the logistics service consumes."""

from __future__ import annotations

from clientops_shared import projections
from clientops_shared.events import Envelope
from clientops_shared.events import field_ops as fo
from clientops_shared.messaging import EventHandlers
from logistics.adapters import orm
from logistics.domain.model import ClosingKind
from logistics.service_layer import closing
from logistics.service_layer.unit_of_work import LogisticsUnitOfWork

handlers: EventHandlers[LogisticsUnitOfWork] = EventHandlers("logistics")
projections.register(handlers, orm.clients)


@handlers.on(fo.WorkOrderCompleted)
async def work_order_completed(event: fo.WorkOrderCompleted, envelope: Envelope,
                               uow: LogisticsUnitOfWork) -> None:
    """Completed work is closed by an act the client signs (seed 000 §4)."""
    await closing.expect(uow, client_id=event.client_id, kind=ClosingKind.ACT,
                         expected_on=event.completed_on, work_order_id=event.work_order_id,
                         actor=f"event:{envelope.producer}")
