"""Contracts and field-ops events → billing's view of what to bill."""

from __future__ import annotations

from billing.service_layer import handlers as uc
from billing.service_layer import payables, rent, rent_contracts
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import Envelope
from clientops_shared.events import contracts as c
from clientops_shared.events import field_ops as fo
from clientops_shared.events import logistics as lg
from clientops_shared.jobs import business_today
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
    if event.kind == "rent":  # we pay the site owner: the rent table, never an invoice
        await rent_contracts.contract_signed(uow, event)
        return
    await uc.open_subscription(
        uow, contract_id=event.contract_id, contract_number=event.number,
        client_id=event.client_id, kind=event.kind, monthly_fee=event.monthly_fee,
        vat_mode=event.vat_mode, starts_on=event.starts_on, ends_on=event.ends_on,
        bill_from_install=event.bill_from_install, auto_renew=event.auto_renew,
        payment_form=event.payment_form, site_id=event.site_id)


@handlers.on(c.ContractAmended)
async def contract_amended(event: c.ContractAmended, envelope: Envelope,
                           uow: BillingUnitOfWork) -> None:
    if await rent_amended(event, uow):
        return
    if event.monthly_fee is not None:
        await uc.change_fee(uow, event.contract_id, event.effective_on, event.monthly_fee,
                            event.amendment_id)
    if event.ends_on is not None:
        await uc.extend(uow, event.contract_id, event.ends_on,
                        f"доп. соглашение: срок до {event.ends_on:%d.%m.%Y}")


@handlers.on(c.ContractSuspended)
async def contract_suspended(event: c.ContractSuspended, envelope: Envelope,
                             uow: BillingUnitOfWork) -> None:
    if row := await rent_contracts.agreement_for(uow, event.contract_id):
        await rent_contracts.suspended(uow, row, event.effective_on, event.resume_on)
        return
    await uc.suspend(uow, event.contract_id, event.effective_on, event.resume_on)


@handlers.on(c.ContractResumed)
async def contract_resumed(event: c.ContractResumed, envelope: Envelope,
                           uow: BillingUnitOfWork) -> None:
    if row := await rent_contracts.agreement_for(uow, event.contract_id):
        await rent_contracts.resumed(uow, row, event.effective_on)
        return
    await uc.resume(uow, event.contract_id, event.effective_on)


@handlers.on(c.ContractTerminated)
async def contract_terminated(event: c.ContractTerminated, envelope: Envelope,
                              uow: BillingUnitOfWork) -> None:
    if row := await rent_contracts.agreement_for(uow, event.contract_id):
        await rent_contracts.set_end(uow, row, rent_contracts.last_day_before(event.effective_on),
                                     "расторжение договора аренды")
        return
    await uc.terminate(uow, event.contract_id, event.effective_on)


@handlers.on(c.ContractRenewed)
async def contract_renewed(event: c.ContractRenewed, envelope: Envelope,
                           uow: BillingUnitOfWork) -> None:
    if row := await rent_contracts.agreement_for(uow, event.contract_id):
        if row["ends_on"] is not None:  # auto-renewing rent is open-ended already
            await rent_contracts.set_end(uow, row, event.ends_on, "продление договора аренды")
        return
    await uc.extend(uow, event.contract_id, event.ends_on,
                    f"продление договора до {event.ends_on:%d.%m.%Y}")


@handlers.on(c.PilotEnded)
async def pilot_ended(event: c.PilotEnded, envelope: Envelope, uow: BillingUnitOfWork) -> None:
    await uc.pilot_ended(uow, event.contract_id, event.ended_on)


@handlers.on(c.PilotConverted)
async def pilot_converted(event: c.PilotConverted, envelope: Envelope,
                          uow: BillingUnitOfWork) -> None:
    await uc.pilot_converted(uow, event.contract_id, event.new_contract_id,
                             business_today(envelope.occurred_at))


@handlers.on(fo.EquipmentInstalled)
async def equipment_installed(event: fo.EquipmentInstalled, envelope: Envelope,
                              uow: BillingUnitOfWork) -> None:
    await uc.equipment_installed(uow, event.contract_id, event.site_id, event.installed_on)
    # a terminal placed at a site we rent: the site owner's rent follows from that day
    await rent_contracts.equipment_changed(uow, event.contract_id, event.site_id,
                                           event.installed_on, +1, "терминал установлен")
    await rent.equipment_at_site(uow, event.site_id, event.installed_on, +1,
                                 "терминал установлен")


@handlers.on(fo.EquipmentRemoved)
async def equipment_removed(event: fo.EquipmentRemoved, envelope: Envelope,
                            uow: BillingUnitOfWork) -> None:
    await rent_contracts.equipment_changed(uow, event.contract_id, event.site_id,
                                           event.installed_on, -1, "терминал снят")
    await rent.equipment_at_site(uow, event.site_id, event.installed_on, -1, "терминал снят")


@handlers.on(lg.SupplierInvoiceRecorded)
async def supplier_invoice_recorded(event: lg.SupplierInvoiceRecorded, envelope: Envelope,
                                    uow: BillingUnitOfWork) -> None:
    # the payables desk takes it from here: approval, payment request, PlanFact
    await payables.from_logistics(
        uow, purchase_order=event.order_number, supplier_name=event.supplier_name,
        supplier_inn=event.supplier_inn, number=event.number, issued_on=event.issued_on,
        amount=event.amount, vat=event.vat, due_on=event.due_on, category=event.category,
        description=event.description)


async def rent_amended(event: c.ContractAmended, uow: BillingUnitOfWork) -> bool:
    """A rent contract's amendment changes the site owner's agreement; False: not rent."""
    row = await rent_contracts.agreement_for(uow, event.contract_id)
    if row is None:
        return False
    if event.monthly_fee is not None:
        await rent_contracts.fee_changed(uow, row, event.effective_on, event.monthly_fee)
    if event.ends_on is not None:
        await rent_contracts.set_end(uow, row, event.ends_on, "доп. соглашение о продлении")
    return True
