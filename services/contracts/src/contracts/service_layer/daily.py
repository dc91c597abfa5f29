"""The contracts desk's daily job for one business day (Europe/Moscow).

In one transaction, for the day ``on``:

1. amendments whose effective date has come change their contracts (fee, suspension,
   termination); their events went out when they were recorded;
2. signed contracts whose start date has come become active (``contracts.contract.activated``);
3. suspended contracts whose resume date has come resume (``contracts.contract.resumed``);
4. contracts with auto-renewal on (or past) their end date start a new term
   (``contracts.contract.renewed``);
5. the rest past their end date expire (``contracts.contract.expired``; pilots also
   ``contracts.pilot.ended`` so the manager records the outcome);
6. ``contracts.contract.expiring`` once per contract, term and threshold (60/30/7 days).

Every step selects by "date has come" (``<=``), never "date is today", so a day the job did not
run is caught up by the next run; the ``expiry_notice`` rows (unique per contract, end date and
threshold, inserted set-wise with ON CONFLICT DO NOTHING) make a rerun or an overlapping run
emit nothing twice. The caller runs it through ``jobs.run_once`` keyed by the date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared import context
from clientops_shared.events import contracts as ev
from contracts.adapters import orm
from contracts.domain.model import (
    IN_FORCE,
    AmendmentKind,
    AmendmentStatus,
    ContractKind,
    ContractStatus,
)
from contracts.service_layer.handlers import snapshot
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

JOB = "contracts-daily"


def _ref(contract: Any) -> dict[str, Any]:
    return {"contract_id": contract.id, "number": contract.number,
            "client_id": contract.client_id}


async def run_day(uow: ContractsUnitOfWork, on: date, thresholds: tuple[int, ...]
                  ) -> dict[str, Any]:
    with context.bound(who=f"job:{JOB}"):
        result: dict[str, Any] = {"on": on.isoformat(), "amendments_applied": 0,
                                  "amendments_void": 0, "activated": 0, "resumed": 0,
                                  "renewed": 0, "expired": 0, "expiring": 0}
        c = orm.contract

        for amendment in await uow.scheduled_amendments(due_by=on):
            contract = await uow.contract(amendment.contract_id, for_update=True)
            before = snapshot(contract)
            applied = contract.apply(amendment, on)
            result["amendments_applied" if applied else "amendments_void"] += 1
            uow.audit(f"amendment.{amendment.status}", "amendment", amendment.id,
                      after={"status": str(amendment.status), "applied_on": on})
            if applied:
                uow.audit(f"contract.amendment_applied.{amendment.kind}", "contract",
                          contract.id, before=before, after=snapshot(contract))

        for contract in await uow.contracts_with_status(ContractStatus.SIGNED,
                                                        c.c.starts_on <= on):
            before = snapshot(contract)
            contract.activate(on)
            uow.emit(ev.ContractActivated(**_ref(contract), starts_on=contract.starts_on))
            uow.audit("contract.activated", "contract", contract.id, before=before,
                      after=snapshot(contract))
            result["activated"] += 1

        for contract in await uow.contracts_with_status(ContractStatus.SUSPENDED,
                                                        c.c.resume_on <= on):
            before = snapshot(contract)
            resume_on = contract.resume_on
            assert resume_on is not None
            contract.resume(resume_on)
            uow.emit(ev.ContractResumed(**_ref(contract), effective_on=resume_on))
            uow.audit("contract.resumed", "contract", contract.id, before=before,
                      after=snapshot(contract))
            result["resumed"] += 1

        for contract in await uow.contracts_in_force(
                c.c.auto_renew.is_(True), c.c.ends_on <= on, c.c.replaced_by_id.is_(None)):
            before = snapshot(contract)
            while contract.ends_on is not None and contract.ends_on <= on:
                previous_ends_on = contract.ends_on
                starts_on, ends_on = contract.renew()
                uow.emit(ev.ContractRenewed(**_ref(contract), starts_on=starts_on,
                                            ends_on=ends_on, effective_on=starts_on,
                                            monthly_fee=contract.monthly_fee,
                                            previous_ends_on=previous_ends_on))
                result["renewed"] += 1
            uow.audit("contract.renewed", "contract", contract.id, before=before,
                      after=snapshot(contract))

        for contract in await uow.contracts_in_force(c.c.ends_on < on):
            before = snapshot(contract)
            contract.expire(on)
            assert contract.ends_on is not None
            uow.emit(ev.ContractExpired(**_ref(contract), ends_on=contract.ends_on,
                                        kind=str(contract.kind)))
            if contract.kind == ContractKind.PILOT:
                contract.pilot_ended_on = contract.ends_on
                uow.emit(ev.PilotEnded(**_ref(contract), ended_on=contract.ends_on))
            uow.audit("contract.expired", "contract", contract.id, before=before,
                      after=snapshot(contract))
            result["expired"] += 1

        await uow.flush()
        result["expiring"] = await _expiring_notices(uow, on, thresholds)
        await uow.commit()
        return result


async def _expiring_notices(uow: ContractsUnitOfWork, on: date,
                            thresholds: tuple[int, ...]) -> int:
    """Record and announce every threshold crossed by ``on`` and not yet announced."""
    if not thresholds:
        return 0
    c, n, a, cl = orm.contract, orm.expiry_notice, orm.amendment, orm.client
    t = sa.values(sa.column("days", sa.Integer), name="threshold").data(
        [(d,) for d in thresholds])
    day = sa.literal(on, sa.Date)
    terminating = sa.exists().where(
        a.c.contract_id == c.c.id, a.c.status == AmendmentStatus.SCHEDULED.value,
        a.c.kind == AmendmentKind.TERMINATION.value)
    due = (sa.select(c.c.id, c.c.ends_on, t.c.days, day)
           .select_from(c.join(t, sa.true()))
           .where(c.c.status.in_([s.value for s in IN_FORCE]), c.c.ends_on.is_not(None),
                  c.c.ends_on >= day, (c.c.ends_on - day) <= t.c.days,
                  c.c.replaced_by_id.is_(None), ~terminating))
    inserted = (await uow.session.execute(
        insert(n).from_select(["contract_id", "ends_on", "threshold_days", "notified_on"], due)
        .on_conflict_do_nothing()
        .returning(n.c.contract_id, n.c.threshold_days))).all()
    if not inserted:
        return 0
    thresholds_by_contract: dict[Any, list[int]] = {}
    for contract_id, days in inserted:
        thresholds_by_contract.setdefault(contract_id, []).append(days)
    rows = (await uow.session.execute(
        sa.select(c.c.id, c.c.number, c.c.client_id, c.c.ends_on, c.c.auto_renew,
                  cl.c.manager, cl.c.name.label("client_name"))
        .join(cl, cl.c.id == c.c.client_id)
        .where(c.c.id.in_(list(thresholds_by_contract)))
        .order_by(c.c.ends_on, c.c.number))).mappings().all()
    for row in rows:
        for days in sorted(thresholds_by_contract[row["id"]], reverse=True):
            uow.emit(ev.ContractExpiring(
                contract_id=row["id"], number=row["number"], client_id=row["client_id"],
                ends_on=row["ends_on"], threshold_days=days, auto_renew=row["auto_renew"],
                manager=row["manager"], on=on, days_left=(row["ends_on"] - on).days,
                client_name=row["client_name"]))
    uow.audit("contract.expiring_notified", "job", f"{JOB}:{on.isoformat()}",
              after={"notices": [[str(cid), d] for cid, d in inserted]})
    return len(inserted)
