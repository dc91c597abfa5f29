"""Billing use cases driven by events and by the billing desk."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from billing.domain.model import ClientAccount, Subscription
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import billing as ev


async def upsert_client(uow: BillingUnitOfWork, client_id: uuid.UUID, *, name: str, inn: str,
                        email: str | None, manager: str | None) -> None:
    account = await uow.client_account(client_id)
    if account is None:
        uow.add(ClientAccount(client_id=client_id, name=name, inn=inn, email=email,
                              manager=manager))
    else:
        account.name, account.inn, account.email, account.manager = name, inn, email, manager


async def open_subscription(uow: BillingUnitOfWork, *, contract_id: uuid.UUID,
                            contract_number: str, client_id: uuid.UUID, kind: str,
                            monthly_fee: Decimal, vat_mode: str, starts_on: date,
                            ends_on: date | None, bill_from_install: bool) -> Subscription:
    existing = await uow.subscription_for(contract_id)
    if existing is not None:
        return existing  # one subscription per contract, whatever arrives twice
    sub = Subscription(contract_id=contract_id, contract_number=contract_number,
                       client_id=client_id, kind=kind, monthly_fee=monthly_fee,
                       vat_mode=vat_mode, starts_on=starts_on, ends_on=ends_on,
                       bill_from_install=bill_from_install)
    uow.add(sub)
    uow.emit(ev.SubscriptionOpened(subscription_id=sub.id, contract_id=contract_id,
                                   client_id=client_id, monthly_fee=monthly_fee,
                                   starts_on=starts_on))
    return sub
