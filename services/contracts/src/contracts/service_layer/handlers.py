"""Use cases of the contracts desk: one transaction each, events through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, Forbidden
from clientops_shared.events import contracts as ev
from contracts.domain.model import (
    Client,
    Contract,
    ContractKind,
    ContractStatus,
    PaymentForm,
    Site,
    VatMode,
)
from contracts.service_layer.unit_of_work import ContractsUnitOfWork


def _snapshot(obj: object) -> dict[str, Any]:
    return {k: v for k, v in asdict(obj).items() if not k.startswith("_")}  # type: ignore[call-overload]


def ensure_visible(actor: Principal, client: Client) -> None:
    if not actor.may_see_client_of(client.manager):
        raise Forbidden("this client is assigned to another manager")


async def register_client(uow: ContractsUnitOfWork, actor: Principal, *, name: str, inn: str,
                          email: str | None, kpp: str | None = None, phone: str | None = None,
                          manager: str | None = None, legal_address: str | None = None,
                          source: str | None = None) -> Client:
    if actor.role == "manager" and manager not in (None, actor.username):
        raise Forbidden("a manager registers clients for themselves; ask the head to assign")
    if actor.role == "manager":
        manager = actor.username
    if await uow.client_by_inn(inn) is not None:
        raise Conflict(f"a client with INN {inn} is already registered", field="inn")
    client = Client(name=name, inn=inn, kpp=kpp, email=email, phone=phone, manager=manager,
                    legal_address=legal_address, source=source)
    uow.add(client)
    uow.emit(ev.ClientRegistered(client_id=client.id, name=name, inn=inn, kpp=kpp, email=email,
                                 phone=phone, manager=manager))
    uow.audit("client.registered", "client", client.id, after=_snapshot(client))
    await uow.commit()
    return client


async def add_site(uow: ContractsUnitOfWork, actor: Principal, client_id: uuid.UUID, *,
                   name: str, address: str, access_points: int = 0, server_format: str = "cloud",
                   equipment_summary: str | None = None, contact_name: str | None = None,
                   contact_phone: str | None = None) -> Site:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    site = Site(client_id=client.id, name=name, address=address, access_points=access_points,
                server_format=server_format, equipment_summary=equipment_summary,
                contact_name=contact_name, contact_phone=contact_phone)
    uow.add(site)
    uow.audit("site.added", "site", site.id, after=_snapshot(site))
    await uow.commit()
    return site


async def create_contract(uow: ContractsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                          kind: ContractKind, starts_on: date, monthly_fee: Decimal,
                          auto_renew: bool, standard: bool, ends_on: date | None = None,
                          site_id: uuid.UUID | None = None, vat_mode: VatMode = VatMode.ON_TOP,
                          payment_form: PaymentForm = PaymentForm.CASHLESS, notice_days: int = 30,
                          emergency_sla_days: int | None = None, bill_from_install: bool = False,
                          replaces_id: uuid.UUID | None = None) -> Contract:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    if site_id is not None and (await uow.site(site_id)).client_id != client.id:
        raise Conflict("the site belongs to another client", field="site_id")
    if replaces_id is not None and (await uow.contract(replaces_id)).client_id != client.id:
        raise Conflict("a contract can only replace one of the same client", field="replaces_id")
    contract = Contract(client_id=client.id, number=await uow.next_contract_number(starts_on),
                        kind=kind, starts_on=starts_on, ends_on=ends_on, monthly_fee=monthly_fee,
                        auto_renew=auto_renew, standard=standard, site_id=site_id,
                        vat_mode=vat_mode, payment_form=payment_form, notice_days=notice_days,
                        emergency_sla_days=emergency_sla_days,
                        bill_from_install=bill_from_install, replaces_id=replaces_id)
    uow.add(contract)
    if not standard:
        # non-standard terms go straight to the head's approval queue
        contract.submit_for_approval()
        uow.emit(ev.ContractSubmittedForApproval(contract_id=contract.id, number=contract.number,
                                                 client_id=client.id, manager=client.manager))
    uow.audit("contract.created", "contract", contract.id, after=_snapshot(contract))
    await uow.commit()
    return contract


async def submit_for_approval(uow: ContractsUnitOfWork, actor: Principal,
                              contract_id: uuid.UUID) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    before = _snapshot(contract)
    contract.submit_for_approval()
    uow.emit(ev.ContractSubmittedForApproval(contract_id=contract.id, number=contract.number,
                                             client_id=client.id, manager=client.manager))
    uow.audit("contract.submitted", "contract", contract.id, before=before,
              after=_snapshot(contract))
    await uow.commit()
    return contract


async def decide(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID, *,
                 approve: bool, reason: str | None) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    before = _snapshot(contract)
    event: ev.ContractApproved
    if approve:
        contract.approve(actor.username, reason)
        event = ev.ContractApproved(contract_id=contract.id, number=contract.number,
                                    client_id=contract.client_id, decided_by=actor.username,
                                    reason=reason)
    else:
        contract.reject(actor.username, reason or "")
        event = ev.ContractRejected(contract_id=contract.id, number=contract.number,
                                    client_id=contract.client_id, decided_by=actor.username,
                                    reason=reason)
    uow.emit(event)
    uow.audit("contract.approved" if approve else "contract.rejected", "contract", contract.id,
              before=before, after=_snapshot(contract))
    await uow.commit()
    return contract


async def sign_contract(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID,
                        signed_on: date) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    before = _snapshot(contract)
    status = contract.sign(signed_on)
    uow.emit(ev.ContractSigned(
        contract_id=contract.id, number=contract.number, client_id=client.id,
        client_name=client.name, client_inn=client.inn, client_email=client.email,
        manager=client.manager, kind=str(contract.kind), status=str(status), signed_on=signed_on,
        starts_on=contract.starts_on, ends_on=contract.ends_on, monthly_fee=contract.monthly_fee,
        vat_mode=str(contract.vat_mode), payment_form=str(contract.payment_form),
        auto_renew=contract.auto_renew, standard=contract.standard, site_id=contract.site_id,
        replaces_id=contract.replaces_id, emergency_sla_days=contract.emergency_sla_days,
        bill_from_install=contract.bill_from_install))
    uow.audit("contract.signed", "contract", contract.id, before=before, after=_snapshot(contract))
    await uow.commit()
    return contract


__all__ = ["ContractStatus", "add_site", "create_contract", "decide", "register_client",
           "sign_contract", "submit_for_approval"]
