"""Contracts events → billing's view of what to bill."""

from __future__ import annotations

from billing.service_layer import handlers as uc
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.messaging import EventHandlers

handlers: EventHandlers[BillingUnitOfWork] = EventHandlers("billing")


@handlers.on(c.ClientRegistered)
@handlers.on(c.ClientUpdated)
async def client_known(event: c.ClientRegistered, envelope: Envelope,
                       uow: BillingUnitOfWork) -> None:
    await uc.upsert_client(uow, event.client_id, name=event.name, inn=event.inn,
                           email=event.email, manager=event.manager)


@handlers.on(c.ClientReassigned)
async def client_reassigned(event: c.ClientReassigned, envelope: Envelope,
                            uow: BillingUnitOfWork) -> None:
    account = await uow.client_account(event.client_id)
    if account is not None:
        account.manager = event.manager


@handlers.on(c.ContractSigned)
async def contract_signed(event: c.ContractSigned, envelope: Envelope,
                          uow: BillingUnitOfWork) -> None:
    # the event carries the client too, so billing needs no earlier event to bill it
    await uc.upsert_client(uow, event.client_id, name=event.client_name, inn=event.client_inn,
                           email=event.client_email, manager=event.manager)
    await uc.open_subscription(
        uow, contract_id=event.contract_id, contract_number=event.number,
        client_id=event.client_id, kind=event.kind, monthly_fee=event.monthly_fee,
        vat_mode=event.vat_mode, starts_on=event.starts_on, ends_on=event.ends_on,
        bill_from_install=event.bill_from_install)
