"""Events the field_ops service consumes."""

from __future__ import annotations

import uuid

from clientops_shared import projections
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.events import logistics as lg
from clientops_shared.messaging import EventHandlers
from field_ops.adapters import orm
from field_ops.service_layer import reactions, work_orders
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

handlers: EventHandlers[FieldOpsUnitOfWork] = EventHandlers("field_ops")
projections.register(handlers, orm.clients)


@handlers.on(c.SiteRegistered)
@handlers.on(c.SiteUpdated)
async def site_known(event: c.SiteRegistered, envelope: Envelope, uow: FieldOpsUnitOfWork
                     ) -> None:
    await reactions.site_known(uow, event)


@handlers.on(c.ContractSigned)
async def contract_signed(event: c.ContractSigned, envelope: Envelope, uow: FieldOpsUnitOfWork
                          ) -> None:
    await projections.upsert_client(uow.session, orm.clients, event.client_id,
                                    name=event.client_name, inn=event.client_inn,
                                    email=event.client_email, manager=event.manager)
    await reactions.contract_signed(uow, event, envelope.occurred_at)


@handlers.on(c.ContractTerminated)
async def contract_terminated(event: c.ContractTerminated, envelope: Envelope,
                              uow: FieldOpsUnitOfWork) -> None:
    await reactions.contract_terminated(uow, event, envelope.occurred_at)


@handlers.on(lg.ShipmentDelivered)
async def shipment_delivered(event: lg.ShipmentDelivered, envelope: Envelope,
                             uow: FieldOpsUnitOfWork) -> None:
    # logistics names the work order when the shipment was made for one (additive field)
    raw = envelope.payload.get("work_order_id")
    await work_orders.goods_delivered(uow, event.client_id, event.site_id, envelope.occurred_at,
                                      work_order_id=uuid.UUID(str(raw)) if raw else None)
