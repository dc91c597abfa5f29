"""Billing use cases driven by the contracts and field-ops events.

Each keeps the subscription (billing's view of a contract's terms) in step and, when the
change reaches a period already invoiced, corrects it in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert

from billing.adapters import orm
from billing.domain.model import Subscription
from billing.service_layer import corrections
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import billing as ev
from clientops_shared.messaging import PredecessorMissing


async def upsert_client(uow: BillingUnitOfWork, client_id: uuid.UUID, *, name: str, inn: str,
                        email: str | None, manager: str | None) -> None:
    # insert-or-ignore first: two replicas handling the same client's events never collide
    await uow.session.execute(insert(orm.client_account).values(
        client_id=client_id, name=name, inn=inn, email=email, manager=manager,
    ).on_conflict_do_nothing(index_elements=[orm.client_account.c.client_id]))
    account = await uow.client_account(client_id)
    if account is not None:
        account.name, account.inn, account.email, account.manager = name, inn, email, manager


async def open_subscription(uow: BillingUnitOfWork, *, contract_id: uuid.UUID,
                            contract_number: str, client_id: uuid.UUID, kind: str,
                            monthly_fee: Decimal, vat_mode: str, starts_on: date,
                            ends_on: date | None, bill_from_install: bool,
                            auto_renew: bool = False, payment_form: str = "cashless",
                            site_id: uuid.UUID | None = None) -> Subscription:
    existing = await uow.subscription_for(contract_id)
    if existing is not None:
        return existing  # one subscription per contract, whatever arrives twice
    sub = Subscription.open(
        contract_id=contract_id, contract_number=contract_number, client_id=client_id,
        kind=kind, monthly_fee=monthly_fee, vat_mode=vat_mode, starts_on=starts_on,
        ends_on=ends_on, bill_from_install=bill_from_install, auto_renew=auto_renew,
        payment_form=payment_form, site_id=site_id)
    uow.add(sub)
    uow.emit(ev.SubscriptionOpened(subscription_id=sub.id, contract_id=contract_id,
                                   client_id=client_id, monthly_fee=monthly_fee,
                                   starts_on=starts_on))
    # a contract signed after its month was run (or back-dated) is billed for it at once
    await corrections.reconcile(uow, sub, sub.service_start, "договор подписан после "
                                "выставления счетов за период")
    return sub


async def _changed(uow: BillingUnitOfWork, sub: Subscription, changed_from: date | None,
                   action: str, reason: str, before: dict[str, object]) -> None:
    uow.audit(action, "subscription", sub.contract_id, before=before, after=_snapshot(sub))
    await corrections.reconcile(uow, sub, changed_from, reason)


def _snapshot(sub: Subscription) -> dict[str, object]:
    return {"status": str(sub.status), "monthly_fee": sub.monthly_fee,
            "service_start": sub.service_start, "service_stop": sub.service_stop,
            "fees": [(f.effective_from, f.monthly_fee) for f in
                     sorted(sub.fees, key=lambda f: f.effective_from)],
            "suspensions": [(s.suspended_from, s.resume_on) for s in
                            sorted(sub.suspensions, key=lambda s: s.suspended_from)]}


async def _subscription(uow: BillingUnitOfWork, contract_id: uuid.UUID) -> Subscription:
    """The contract's subscription, locked.

    Contracts only changes signed contracts and billing opens a subscription for every
    signing, so none here means the signing has not been applied yet: never a quiet no-op
    (issue 9 §0) — the event is retried later through the delay queues, and dead-lettered
    (on record for an operator) if the signing never comes.
    """
    sub = await uow.subscription_for(contract_id, for_update=True)
    if sub is None:
        raise PredecessorMissing(f"contract {contract_id} has no subscription: its signing "
                                 "has not been applied")
    return sub


async def change_fee(uow: BillingUnitOfWork, contract_id: uuid.UUID, effective_on: date,
                     monthly_fee: Decimal, amendment_id: uuid.UUID) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    changed = sub.change_fee(effective_on, monthly_fee, source=f"amendment:{amendment_id}")
    await _changed(uow, sub, changed, "subscription.fee_changed",
                   f"изменение абонентской платы с {effective_on:%d.%m.%Y}", before)


async def extend(uow: BillingUnitOfWork, contract_id: uuid.UUID, ends_on: date,
                 reason: str) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    changed = sub.extend(ends_on)
    await _changed(uow, sub, changed, "subscription.extended", reason, before)


async def suspend(uow: BillingUnitOfWork, contract_id: uuid.UUID, effective_on: date,
                  resume_on: date | None) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    changed = sub.suspend(effective_on, resume_on)
    await _changed(uow, sub, changed, "subscription.suspended",
                   f"приостановка с {effective_on:%d.%m.%Y}", before)


async def resume(uow: BillingUnitOfWork, contract_id: uuid.UUID, effective_on: date) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    changed = sub.resume(effective_on)
    await _changed(uow, sub, changed, "subscription.resumed",
                   f"возобновление с {effective_on:%d.%m.%Y}", before)


async def terminate(uow: BillingUnitOfWork, contract_id: uuid.UUID, effective_on: date) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    changed = sub.terminate(effective_on)
    await _changed(uow, sub, changed, "subscription.terminated",
                   f"расторжение с {effective_on:%d.%m.%Y}", before)


async def pilot_ended(uow: BillingUnitOfWork, contract_id: uuid.UUID, ended_on: date) -> None:
    await terminate(uow, contract_id, ended_on + timedelta(days=1))


async def pilot_converted(uow: BillingUnitOfWork, contract_id: uuid.UUID,
                          new_contract_id: uuid.UUID, on: date) -> None:
    sub = await _subscription(uow, contract_id)
    before = _snapshot(sub)
    new = await uow.subscription_for(new_contract_id)
    stop = new.service_start if new is not None and new.service_start is not None else on
    changed = sub.convert(new_contract_id, stop)
    await _changed(uow, sub, changed, "subscription.converted",
                   "пилот переведён в платный договор", before)


async def equipment_installed(uow: BillingUnitOfWork, contract_id: uuid.UUID | None,
                              site_id: uuid.UUID | None, installed_on: date) -> None:
    """Contracts billed from installation start on the first install at their site."""
    subs: list[Subscription] = []
    if contract_id is not None:
        sub = await uow.subscription_for(contract_id, for_update=True)
        subs = [sub] if sub is not None else []
    if not subs and site_id is not None:
        subs = await uow.subscriptions_at_site(site_id)
    for sub in subs:
        before = _snapshot(sub)
        changed = sub.installed(installed_on)
        if changed is not None:
            await _changed(uow, sub, changed, "subscription.installed",
                           f"оборудование установлено {installed_on:%d.%m.%Y}", before)
