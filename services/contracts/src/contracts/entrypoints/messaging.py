"""Events the contracts service consumes: installed equipment updates the site's summary."""

from __future__ import annotations

from clientops_shared.events import Envelope
from clientops_shared.events import field_ops as fo
from clientops_shared.messaging import EventHandlers
from contracts.domain.model import Site
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

handlers: EventHandlers[ContractsUnitOfWork] = EventHandlers("contracts")


@handlers.on(fo.EquipmentInstalled)
async def equipment_installed(event: fo.EquipmentInstalled, envelope: Envelope,
                              uow: ContractsUnitOfWork) -> None:
    if event.site_id is None:
        return
    site = await uow.session.get(Site, event.site_id)
    if site is not None:
        note = f"установлено оборудование {event.installed_on.isoformat()}"
        site.equipment_summary = "; ".join(filter(None, [site.equipment_summary, note]))
