"""Rent contracts (we are Арендатор, the site owner is paid by us) → the rent table.

A signed ``rent`` contract is never invoiced: it opens (or takes over) the site owner's rent
agreement — the monthly rent per terminal, cash or cashless, the owner's bank account — and
its later events (fee change, extension, renewal, suspension, termination, expiry) change that
agreement with their dates. Terminals come from field-ops' installs and removals; a contract
not paid from installation pays for one place from its start date whatever is installed, so
the terminals paid are ``max(contracted, installed)``.

Each use case runs in the event handler's transaction (the inbox commits it).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.orm import rent_agreement, rent_term
from billing.domain.rent import PaymentForm, term_on
from billing.service_layer import rent
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.events import contracts as c

ACTOR = "event:contracts"


async def agreement_for(uow: BillingUnitOfWork, contract_id: uuid.UUID | None
                        ) -> sa.RowMapping | None:
    """The rent agreement a rent contract feeds, locked (None: not a rent contract)."""
    if contract_id is None:
        return None
    return (await uow.session.execute(sa.select(rent_agreement).where(
        rent_agreement.c.contract_id == contract_id).with_for_update())).mappings().first()


async def _free_number(uow: BillingUnitOfWork, number: str) -> str:
    taken = (await uow.session.execute(sa.select(rent_agreement.c.number).where(
        rent_agreement.c.number.like(f"{number}%")))).scalars().all()
    if number not in taken:
        return number
    n = 2
    while f"{number}/{n}" in taken:
        n += 1
    return f"{number}/{n}"


async def contract_signed(uow: BillingUnitOfWork, event: c.ContractSigned) -> uuid.UUID:
    """Open the site owner's agreement, or take over an agreement typed by hand for the site.

    A redelivered or repeated ``signed`` changes nothing (the agreement is keyed by contract).
    """
    existing = await agreement_for(uow, event.contract_id)
    if existing is not None:
        return uuid.UUID(str(existing["id"]))
    form = PaymentForm(event.payment_form)
    contracted = 0 if event.bill_from_install else 1
    ends_on = None if event.auto_renew else event.ends_on
    bank = {"owner_account": event.client_account, "owner_bic": event.client_bik,
            "owner_bank": event.client_bank_name}
    bank = {k: v for k, v in bank.items() if v}
    manual = None
    if event.site_id is not None:
        manual = (await uow.session.execute(sa.select(rent_agreement).where(
            rent_agreement.c.site_id == event.site_id, rent_agreement.c.contract_id.is_(None),
            sa.or_(rent_agreement.c.ends_on.is_(None),
                   rent_agreement.c.ends_on >= event.starts_on)).with_for_update()
        )).mappings().first()
    if manual is not None:
        agreement_id = uuid.UUID(str(manual["id"]))
        terms = (await rent.terms_of(uow, [agreement_id]))[agreement_id]
        in_force = term_on(terms, max(event.starts_on, manual["starts_on"]))
        installed = in_force.terminals if in_force is not None else 0
        await uow.session.execute(rent_agreement.update().where(
            rent_agreement.c.id == agreement_id).values(
            contract_id=event.contract_id, contracted_terminals=contracted,
            installed_terminals=installed, ends_on=ends_on, **bank))
        await rent.change_terms(uow, ACTOR, agreement_id,
                                effective_from=max(event.starts_on, manual["starts_on"]),
                                terminals=max(contracted, installed),
                                amount_per_terminal=event.monthly_fee, payment_form=form,
                                note=f"договор аренды № {event.number}")
        uow.audit("rent.agreement_linked", "rent_agreement", agreement_id,
                  after={"contract_id": event.contract_id, "number": event.number})
        return agreement_id
    agreement_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": agreement_id, "number": await _free_number(uow, event.number),
        "owner_name": event.client_name, "owner_inn": event.client_inn,
        "site_id": event.site_id,
        "site_name": event.site_name or f"Объект по договору № {event.number}",
        "address": event.site_address or "адрес не указан в договоре",
        "starts_on": event.starts_on, "ends_on": ends_on, "created_by": ACTOR,
        "contract_id": event.contract_id, "contracted_terminals": contracted,
        "installed_terminals": 0, **bank}
    await uow.session.execute(insert(rent_agreement).values(**values))
    await uow.session.execute(rent_term.insert().values(
        agreement_id=agreement_id, effective_from=event.starts_on, terminals=contracted,
        amount_per_terminal=event.monthly_fee, payment_form=str(form),
        note=f"договор аренды № {event.number}", created_by=ACTOR))
    uow.audit("rent.agreement_opened", "rent_agreement", agreement_id,
              after={**values, "amount_per_terminal": event.monthly_fee,
                     "payment_form": str(form)})
    return agreement_id


async def fee_changed(uow: BillingUnitOfWork, row: sa.RowMapping, effective_on: date,
                      monthly_fee: Decimal) -> None:
    await rent.change_terms(uow, ACTOR, row["id"], effective_from=max(effective_on,
                                                                      row["starts_on"]),
                            amount_per_terminal=monthly_fee,
                            note=f"изменение арендной платы с {effective_on:%d.%m.%Y}")


async def set_end(uow: BillingUnitOfWork, row: sa.RowMapping, last_day: date | None,
                  why: str) -> None:
    """The agreement's last paid day (None: open-ended), e.g. after an extension or a
    termination (whose effective date is the first day without rent)."""
    if row["ends_on"] == last_day:
        return
    await uow.session.execute(rent_agreement.update().where(
        rent_agreement.c.id == row["id"]).values(ends_on=last_day))
    uow.audit("rent.agreement_end_changed", "rent_agreement", row["id"],
              before={"ends_on": row["ends_on"]}, after={"ends_on": last_day, "why": why})


async def suspended(uow: BillingUnitOfWork, row: sa.RowMapping, effective_on: date,
                    resume_on: date | None) -> None:
    """No rent while suspended: a zero amount from the suspension, the old one on resumption."""
    amount = await _amount_before(uow, row["id"], effective_on)
    await rent.change_terms(uow, ACTOR, row["id"], effective_from=effective_on,
                            amount_per_terminal=Decimal("0.00"),
                            note=f"приостановка с {effective_on:%d.%m.%Y}")
    if resume_on is not None and amount is not None:
        await rent.change_terms(uow, ACTOR, row["id"], effective_from=resume_on,
                                amount_per_terminal=amount,
                                note=f"возобновление с {resume_on:%d.%m.%Y}")


async def resumed(uow: BillingUnitOfWork, row: sa.RowMapping, effective_on: date) -> None:
    amount = await _amount_before(uow, row["id"], effective_on)
    if amount is not None:
        await rent.change_terms(uow, ACTOR, row["id"], effective_from=effective_on,
                                amount_per_terminal=amount,
                                note=f"возобновление с {effective_on:%d.%m.%Y}")


async def _amount_before(uow: BillingUnitOfWork, agreement_id: uuid.UUID, day: date
                         ) -> Decimal | None:
    """The last non-zero rent per terminal in force before ``day``."""
    terms = (await rent.terms_of(uow, [agreement_id]))[agreement_id]
    paid = [t for t in terms if t.effective_from < day and t.amount_per_terminal > 0]
    return paid[-1].amount_per_terminal if paid else None


async def equipment_changed(uow: BillingUnitOfWork, contract_id: uuid.UUID | None,
                            site_id: uuid.UUID | None, on: date, delta: int, what: str
                            ) -> list[uuid.UUID]:
    """A terminal installed / removed under a rent contract: terminals paid from that day.

    Returns the agreements it changed (contract-fed ones only; hand-made agreements keep
    counting installs one by one in ``rent.equipment_at_site``).
    """
    a = rent_agreement.c
    match = []
    if contract_id is not None:
        match.append(a.contract_id == contract_id)
    if site_id is not None:
        match.append(a.site_id == site_id)
    if not match:
        return []
    rows = (await uow.session.execute(sa.select(rent_agreement).where(
        a.contract_id.is_not(None), sa.or_(*match),
        sa.or_(a.ends_on.is_(None), a.ends_on >= on)).with_for_update())).mappings().all()
    changed = []
    for row in rows:
        installed = max(row["installed_terminals"] + delta, 0)
        await uow.session.execute(rent_agreement.update().where(a.id == row["id"]).values(
            installed_terminals=installed))
        await rent.change_terms(uow, "event:field_ops", row["id"],
                                effective_from=max(on, row["starts_on"]),
                                terminals=max(row["contracted_terminals"], installed),
                                note=what)
        changed.append(row["id"])
    return changed


def last_day_before(effective_on: date) -> date:
    return effective_on - timedelta(days=1)
