from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.adapters import orm
from billing.domain.dunning import (
    DEFAULT_CALENDAR,
    DEFAULT_ESCALATION,
    EscalationPolicy,
    WorkingCalendar,
)
from billing.domain.model import ClientAccount, Subscription
from billing.domain.periods import DEFAULT_DUE_DAY, INVOICE_RUN_DAY
from billing.domain.vat import DEFAULT_VAT_RATES, VatRateTable
from clientops_shared.jobs import business_today
from clientops_shared.uow import UnitOfWork


@dataclass
class Rules:
    """The configured business rules and the clock every use case reads the date from."""

    vat_rates: VatRateTable = DEFAULT_VAT_RATES
    calendar: WorkingCalendar = DEFAULT_CALENDAR
    policy: EscalationPolicy = DEFAULT_ESCALATION
    due_day: int = DEFAULT_DUE_DAY
    run_day: int = INVOICE_RUN_DAY
    today: Callable[[], date] = business_today
    dunning_ahead_days: int = 0
    auto_apply_advance: bool = True
    """A client's advance (over-payment) pays their next invoice as soon as it is issued."""


class BillingUnitOfWork(UnitOfWork):
    rules: ClassVar[Rules] = Rules()

    async def client_account(self, client_id: uuid.UUID) -> ClientAccount | None:
        return await self.session.get(ClientAccount, client_id)

    async def subscription_for(self, contract_id: uuid.UUID, *, for_update: bool = False
                               ) -> Subscription | None:
        stmt = sa.select(Subscription).where(orm.subscription.c.contract_id == contract_id)
        if for_update:
            stmt = stmt.with_for_update(of=orm.subscription)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def subscriptions_at_site(self, site_id: uuid.UUID) -> list[Subscription]:
        return list((await self.session.execute(sa.select(Subscription).where(
            orm.subscription.c.site_id == site_id).with_for_update(of=orm.subscription)
        )).scalars())

    def add(self, obj: object) -> None:
        self.session.add(obj)


def bound_uow(rules: Rules) -> type[BillingUnitOfWork]:
    """A unit-of-work class that carries this process's rules (one per built app)."""
    return type("BoundBillingUnitOfWork", (BillingUnitOfWork,), {"rules": rules})


@dataclass
class Billing:
    """What the long-running use cases need: fresh units of work, the engine, the rules."""

    uow: Callable[[], BillingUnitOfWork]
    engine: AsyncEngine
    job_run: sa.Table
    rules: Rules
    run_batch: int
    settings: Any
    planfact: Any = None
    """The PlanFact port (adapters.planfact): the HTTP client or the fake."""
    onec: Any = None
    """The 1C exchange port (adapters.onec): the exchange folder or the fake."""
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def vat_rates(self) -> VatRateTable:
        return self.rules.vat_rates

    @property
    def due_day(self) -> int:
        return self.rules.due_day

    @property
    def run_day(self) -> int:
        return self.rules.run_day

    def today(self) -> date:
        return self.rules.today()
