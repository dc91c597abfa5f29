"""Events the logistics service consumes."""

from __future__ import annotations

from typing import Any

from clientops_shared import projections
from clientops_shared.auth import Principal
from clientops_shared.events import Envelope
from clientops_shared.events import field_ops as fo
from clientops_shared.messaging import EventHandlers
from logistics.adapters import orm
from logistics.domain.model import ClosingKind
from logistics.service_layer import closing, purchasing
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


async def parts_requested(event: Any, envelope: Envelope, uow: LogisticsUnitOfWork) -> None:
    """field-ops needs parts for a work order: reserve what is in stock, the rest is bought."""
    await purchasing.request_parts(
        uow, Principal(username=f"event:{envelope.producer}", role="service"),
        request_id=event.request_id, work_order_id=event.work_order_id,
        client_id=event.client_id, site_id=event.site_id,
        lines=[{"item": str(line["item"]), "quantity": int(line["quantity"])}
               for line in event.lines],
        needed_by=event.needed_by, source="field_ops")


# field-ops' contract ``field_ops.parts.requested`` (PartsRequested) comes with the field-ops
# branch; the consumer is registered wherever that contract exists
_parts_contract = getattr(fo, "PartsRequested", None)
if _parts_contract is not None:
    handlers.on(_parts_contract)(parts_requested)
