"""The field-ops domain without I/O: the work-order state machine, the SLA calendar,
maintenance visit dates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from clientops_shared.errors import Conflict, InvalidInput
from clientops_shared.jobs import MOSCOW
from field_ops.domain import sla
from field_ops.domain.maintenance import VisitPeriod, visits
from field_ops.domain.model import Contact, Outcome, WorkOrder, WorkOrderKind, WorkOrderStatus

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 27, 10, tzinfo=MOSCOW)
CONTACT = Contact("Иван", "+74951234567")


def order(**kw: object) -> WorkOrder:
    return WorkOrder(client_id=uuid.uuid4(), site_id=uuid.uuid4(), kind=WorkOrderKind.REPAIR,
                     description="x", created_by="d", **kw)  # type: ignore[arg-type]


def scheduled() -> WorkOrder:
    o = order()
    o.approve(by="head", year=2026, seq=7, at=AT)
    o.schedule(visit_on=date(2026, 11, 30), window=None, contact=CONTACT, technician="tech1",
               today=date(2026, 11, 27), at=AT)
    return o


def test_approval_registers_the_journal_number() -> None:
    o = order()
    o.approve(by="head", year=2026, seq=7, at=AT)
    assert (o.status, o.journal_number) == (WorkOrderStatus.APPROVED, "2026-0007")
    with pytest.raises(Conflict) as err:
        o.approve(by="head", year=2026, seq=8, at=AT)
    assert err.value.extra["current_state"] == "approved" and o.journal_seq == 7


def test_not_done_needs_a_reason_and_a_reschedule_is_counted() -> None:
    o = scheduled()
    with pytest.raises(InvalidInput, match="reason"):
        o.report(outcome=Outcome.NOT_DONE, reason=None, on=date(2026, 11, 30), at=AT)
    o.report(outcome=Outcome.NOT_DONE, reason="закрыто", on=date(2026, 11, 30), at=AT)
    assert o.schedule(visit_on=date(2026, 12, 2), window=None, contact=CONTACT,
                      technician="tech1", today=date(2026, 11, 30), at=AT) is True
    assert (o.status, o.reschedule_count, o.not_done_reason) == (
        WorkOrderStatus.SCHEDULED, 1, None)
    o.report(outcome=Outcome.DONE, reason=None, on=date(2026, 12, 2), at=AT)
    assert o.status is WorkOrderStatus.DONE and o.completed_on == date(2026, 12, 2)


@pytest.mark.parametrize("status", ["draft", "done", "cancelled", "rejected"])
def test_schedule_only_from_approved_scheduled_or_not_done(status: str) -> None:
    o = order(status=WorkOrderStatus(status))
    with pytest.raises(Conflict) as err:
        o.schedule(visit_on=date(2026, 12, 1), window=None, contact=CONTACT, technician="t",
                   today=date(2026, 11, 27), at=AT)
    assert err.value.extra["current_state"] == status


def test_waiting_for_goods_past_dates_and_one_assignee() -> None:
    o = order(status=WorkOrderStatus.APPROVED, awaiting_goods=True)
    with pytest.raises(Conflict, match="не доставлено"):
        o.schedule(visit_on=date(2026, 12, 1), window=None, contact=CONTACT, technician="t",
                   today=date(2026, 11, 27), at=AT)
    o.goods_delivered(AT)
    with pytest.raises(InvalidInput, match="visit_on"):
        o.schedule(visit_on=date(2026, 11, 26), window=None, contact=CONTACT, technician="t",
                   today=date(2026, 11, 27), at=AT)
    with pytest.raises(InvalidInput, match="technician"):
        o.schedule(visit_on=date(2026, 12, 1), window=None, contact=CONTACT, technician="t",
                   today=date(2026, 11, 27), at=AT, contractor_id=uuid.uuid4())
    assert o.status is WorkOrderStatus.APPROVED


@pytest.mark.parametrize(("registered", "days", "due_by"), [
    (datetime(2026, 11, 27, 10, tzinfo=MOSCOW), 1, date(2026, 11, 30)),   # Fri → Mon
    (datetime(2026, 11, 27, 23, 30, tzinfo=MOSCOW), 2, date(2026, 12, 1)),
    (datetime(2026, 11, 3, 17, tzinfo=MOSCOW), 2, date(2026, 11, 6)),     # 4.11 is a holiday
    (datetime(2026, 12, 30, 10, tzinfo=MOSCOW), 1, date(2027, 1, 11)),    # New Year holidays
    (datetime(2026, 11, 27, 21, 30, tzinfo=UTC), None, date(2026, 12, 1)),  # Sat 00:30 MSK
    (datetime(2026, 11, 27, 10, tzinfo=MOSCOW), 5, date(2026, 12, 1)),    # capped at 2
])
def test_sla_deadline_in_business_days(registered: datetime, days: int | None,
                                       due_by: date) -> None:
    deadline = sla.deadline(registered, days)
    assert deadline.due_by == due_by
    assert deadline.due_at == datetime.combine(due_by + timedelta(days=1), time(0),
                                               tzinfo=MOSCOW)


def test_maintenance_visits_split_the_period_on_working_days() -> None:
    found = list(visits(starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30), per_period=1,
                        period=VisitPeriod.MONTH, until=date(2027, 12, 31)))
    # 01.01–08.01 are holidays, 09–10.01 a weekend → 11.01; 01.05 is a holiday (Sat) …
    assert [v.on for v in found] == [date(2027, 1, 11), date(2027, 2, 1), date(2027, 3, 1),
                                     date(2027, 4, 1), date(2027, 5, 4), date(2027, 6, 1)]
    assert list(visits(starts_on=date(2027, 1, 1), ends_on=None, per_period=0,
                       period=VisitPeriod.YEAR, until=date(2030, 1, 1))) == []
