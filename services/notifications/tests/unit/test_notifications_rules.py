"""Event -> task rules: every catalog event gives the expected task to the expected person."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from itertools import count
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.model import (
    Escalation,
    Function,
    Priority,
    Recipient,
    Task,
    TaskAction,
    TaskState,
    new_escalations,
)
from notifications.domain.rules import (
    OnRepeat,
    Plan,
    PlanContext,
    PlanError,
    RuleError,
    WorkingCalendar,
    apply_plan,
    default_rules,
    load_rules,
    plan,
)

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
CAL = WorkingCalendar()
# Monday 21 December 2026, 10:00 Moscow: a working day in the first dunning week
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)


def msk(y: int, m: int, d: int, hh: int = 18, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=MSK)


def ctx(**overrides: Any) -> PlanContext:
    base = PlanContext(now=NOW, head="head", calendar=CAL, client_manager="ivanov")
    return replace(base, **overrides)


def ids() -> Any:
    numbers = count(1)
    return lambda: UUID(int=next(numbers))


OVERDUE = {
    "invoice_id": "inv-1",
    "number": "2026-12-0001",
    "client_id": "c-1",
    "days_overdue": 1,
    "reminder_count": 1,
    "stage": "call",
    "outstanding": "15250.00",
    "on": "2026-12-21",
}

# (event type, payload, context overrides) -> (kind, action, function, assignee, due, priority, key)
# fmt: off
TASK_CASES: list[tuple[str, dict[str, Any], dict[str, Any], tuple[Any, ...]]] = [
    ("contracts.contract.submitted_for_approval",
     {"contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "manager": "ivanov"}, {},
     ("contract_approval", "approve", "contracts", "head", msk(2026, 12, 22), "high",
      "contract_approval:k-1")),
    ("contracts.contract.signed",
     {"contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "client_name": "ООО Ромашка",
      "manager": "ivanov", "kind": "subscription", "starts_on": "2027-01-01",
      "monthly_fee": "12500.00"}, {},
     ("welcome_call", "call", "contracts", "ivanov", msk(2026, 12, 22), "normal",
      "welcome_call:k-1")),
    ("contracts.contract.expiring",
     {"contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "ends_on": "2027-01-31",
      "threshold_days": 60, "auto_renew": False, "manager": "ivanov"}, {},
     ("renewal_call", "call", "contracts", "ivanov", msk(2026, 12, 23), "normal",
      "renewal_call:k-1")),
    ("contracts.contract.expiring",
     {"contract_id": "k-2", "number": "Д-18", "client_id": "c-1", "ends_on": "2026-12-30",
      "threshold_days": 7, "auto_renew": True, "manager": "ivanov"},
     {"client_email": "office@romashka.ru"},
     ("renewal_call", "call", "contracts", "ivanov", msk(2026, 12, 23), "urgent",
      "renewal_call:k-2")),
    ("contracts.change_request.submitted",
     {"request_id": "r-1", "contract_id": "k-1", "client_id": "c-1",
      "summary": "снизить абонентскую плату"}, {},
     ("change_request_approval", "approve", "contracts", "head", msk(2026, 12, 23), "high",
      "change_request:r-1")),
    # a working day before Friday's deadline
    ("contracts.claim.opened",
     {"claim_id": "cl-1", "client_id": "c-1", "subject": "шлагбаум не работает",
      "answer_due_on": "2026-12-25", "lawyer": "smirnova", "churn_risk": False}, {},
     ("claim_answer", "do", "claims", "smirnova", msk(2026, 12, 24), "high",
      "claim_answer:cl-1")),
    ("contracts.pilot.ended", {"contract_id": "k-9", "client_id": "c-1"}, {},
     ("pilot_outcome", "call", "contracts", "ivanov", msk(2026, 12, 23), "high",
      "pilot_outcome:k-9")),
    ("billing.invoice.overdue", OVERDUE, {},
     ("payment_reminder", "call", "billing", "ivanov", msk(2026, 12, 21), "normal",
      "payment_reminder:inv-1")),
    ("field_ops.work_order.created",
     {"work_order_id": "wo-1", "journal_no": 118, "client_id": "c-1", "site_id": "s-1",
      "kind": "install", "needs_approval": True, "kind_label": "Установка"}, {},
     ("work_order_approval", "approve", "field_ops", "head", msk(2026, 12, 22), "high",
      "work_order_approval:wo-1")),
    # Wednesday 10:00 Moscow, sent in UTC: the control call is due the working day before
    ("field_ops.work_order.scheduled",
     {"work_order_id": "wo-1", "client_id": "c-1", "scheduled_for": "2026-12-23T07:00:00+00:00"},
     {"client_email": "office@romashka.ru"},
     ("control_call", "call", "field_ops", "ivanov", msk(2026, 12, 23, 9), "normal",
      "control_call:wo-1")),
    ("field_ops.downtime.started",
     {"incident_id": "d-1", "client_id": "c-1", "site_id": "s-1",
      "started_at": "2026-12-21T05:30:00+00:00"}, {},
     ("downtime_cause", "call", "field_ops", "ivanov", msk(2026, 12, 21, 12), "high",
      "downtime_cause:d-1")),
    ("field_ops.training.completed", {"session_id": "t-1", "client_id": "c-1"}, {},
     ("training_feedback", "do", "support", "ivanov", msk(2026, 12, 23), "normal",
      "training_feedback:t-1")),
    ("logistics.shipment.delivered", {"shipment_id": "sh-1", "client_id": "c-1"}, {},
     ("closing_docs", "check", "logistics", "ivanov", msk(2026, 12, 24), "normal",
      "closing_docs:sh-1")),
    ("logistics.originals.overdue",
     {"delivery_id": "dd-1", "client_id": "c-1", "due_on": "2026-12-14"}, {},
     ("originals_reminder", "call", "logistics", "ivanov", msk(2026, 12, 21, 14), "high",
      "originals_reminder:dd-1")),
]
# fmt: on


@pytest.mark.parametrize(
    ("event_type", "payload", "overrides", "expected"),
    TASK_CASES,
    ids=[f"{c[0]}-{c[3][0]}" for c in TASK_CASES],
)
def test_event_creates_expected_task_for_expected_person(
    event_type: str, payload: dict[str, Any], overrides: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    result = plan(event_type, payload, ctx(**overrides))

    assert len(result.tasks) == 1, result.tasks
    draft = result.tasks[0]
    kind, action, function, assignee, due, priority, key = expected
    assert (draft.kind, draft.action, draft.function) == (kind, action, function)
    assert draft.assignee == assignee
    assert draft.due_at == due
    assert draft.priority == priority
    assert draft.dedupe_key == key
    assert draft.client_id == "c-1"
    assert draft.source_event == event_type
    # the title is Russian and every placeholder was filled
    assert re.search("[а-яё]", draft.title, re.IGNORECASE)
    assert "{" not in draft.title and "}" not in draft.title


def test_titles_show_money_and_dates_the_russian_way() -> None:
    title = plan("billing.invoice.overdue", OVERDUE, ctx(client_name="ООО Ромашка")).tasks[0].title
    assert title == (
        "Напомнить об оплате счёта № 2026-12-0001: долг 15 250,00 ₽, просрочка 1 дн. — ООО Ромашка"
    )
    claim = plan(
        "contracts.claim.opened",
        {
            "claim_id": "cl-1",
            "client_id": "c-1",
            "subject": "долгий ремонт",
            "answer_due_on": "2026-12-25",
            "lawyer": "smirnova",
            "churn_risk": False,
        },
        ctx(),
    ).tasks[0]
    assert "срок ответа 25.12.2026" in claim.title
    assert "клиент #c-1" in claim.title  # no name known anywhere: the id, never a blank


def test_claim_with_churn_risk_also_asks_the_manager_to_retain_the_client() -> None:
    payload = {
        "claim_id": "cl-2",
        "client_id": "c-1",
        "subject": "расторгнем договор",
        "answer_due_on": "2026-12-25",
        "lawyer": "smirnova",
        "churn_risk": True,
    }
    drafts = {d.kind: d for d in plan("contracts.claim.opened", payload, ctx()).tasks}
    assert drafts["claim_answer"].assignee == "smirnova"
    retention = drafts["retention_call"]
    assert (retention.assignee, retention.function, retention.action) == (
        "ivanov",
        Function.CLAIMS,
        TaskAction.CALL,
    )
    assert retention.priority is Priority.URGENT
    assert retention.dedupe_key == "retention_call:cl-2"


def test_work_order_without_approval_needs_no_task() -> None:
    payload = {
        "work_order_id": "wo-2",
        "journal_no": 119,
        "client_id": "c-1",
        "site_id": "s-1",
        "kind": "repair",
        "needs_approval": False,
    }
    assert plan("field_ops.work_order.created", payload, ctx()).is_empty


def test_control_call_for_a_visit_today_is_due_by_the_visit_itself() -> None:
    # the visit is at 12:00 today: an hour before it is still ahead
    payload = {
        "work_order_id": "wo-3",
        "client_id": "c-1",
        "scheduled_for": "2026-12-21T09:00:00+00:00",
    }
    draft = plan("field_ops.work_order.scheduled", payload, ctx(client_email="a@b.ru")).tasks[0]
    assert draft.due_at == msk(2026, 12, 21, 11)
    # at 10:30 (now is 10:00): the hour before is gone, so due at the visit
    payload["scheduled_for"] = "2026-12-21T07:30:00+00:00"
    draft = plan("field_ops.work_order.scheduled", payload, ctx(client_email="a@b.ru")).tasks[0]
    assert draft.due_at == msk(2026, 12, 21, 10, 30)


def test_overdue_priority_follows_the_dunning_stage() -> None:
    stages = {
        "call": Priority.NORMAL,
        "letter": Priority.HIGH,
        "head": Priority.URGENT,
        "suspension": Priority.URGENT,
    }
    for stage, expected in stages.items():
        draft = plan("billing.invoice.overdue", {**OVERDUE, "stage": stage}, ctx()).tasks[0]
        assert draft.priority is expected, stage


def test_expiring_contract_priority_rises_as_the_end_nears() -> None:
    base = {
        "contract_id": "k-1",
        "number": "Д-17",
        "client_id": "c-1",
        "ends_on": "2027-02-19",
        "auto_renew": False,
        "manager": "ivanov",
    }
    got = [
        plan("contracts.contract.expiring", {**base, "threshold_days": d}, ctx()).tasks[0].priority
        for d in (60, 30, 7)
    ]
    assert got == [Priority.NORMAL, Priority.HIGH, Priority.URGENT]


# --- who gets the task ----------------------------------------------------------------------


def test_client_without_manager_goes_to_the_function_queue() -> None:
    draft = plan("billing.invoice.overdue", OVERDUE, ctx(client_manager=None)).tasks[0]
    assert draft.assignee == "queue:billing"


def test_projection_manager_wins_over_the_producers_snapshot() -> None:
    payload = {
        "contract_id": "k-1",
        "number": "Д-17",
        "client_id": "c-1",
        "client_name": "ООО",
        "manager": "old_manager",
        "kind": "subscription",
        "starts_on": "2027-01-01",
        "monthly_fee": "100.00",
    }
    assert plan("contracts.contract.signed", payload, ctx()).tasks[0].assignee == "ivanov"
    # a client the projection has not seen yet: the event's own manager field
    unknown = ctx(client_manager=None)
    assert plan("contracts.contract.signed", payload, unknown).tasks[0].assignee == "old_manager"


def test_claim_without_a_lawyer_goes_to_the_claims_queue() -> None:
    payload = {
        "claim_id": "cl-3",
        "client_id": "c-1",
        "subject": "x",
        "answer_due_on": "2027-01-20",
        "lawyer": None,
        "churn_risk": False,
    }
    assert plan("contracts.claim.opened", payload, ctx()).tasks[0].assignee == "queue:claims"


def test_reassigned_client_moves_open_tasks_to_the_new_manager() -> None:
    old = plan("billing.invoice.overdue", OVERDUE, ctx(client_manager="petrova")).tasks[0]
    queued = plan(
        "logistics.shipment.delivered",
        {"shipment_id": "sh-1", "client_id": "c-1"},
        ctx(client_manager=None),
    ).tasks[0]
    new_id = ids()
    reminder, docs = old.to_task(new_id(), NOW), queued.to_task(new_id(), NOW)
    other_client = replace(old, client_id="c-2").to_task(new_id(), NOW)
    assert docs.assignee == "queue:logistics"

    moved = plan(
        "contracts.client.reassigned",
        {"client_id": "c-1", "name": "ООО", "previous_manager": "petrova", "manager": "ivanov"},
        ctx(),
    )
    changes = apply_plan(moved, [reminder, docs, other_client], NOW)
    assert changes.reassigned == [reminder]
    assert reminder.assignee == "ivanov" and other_client.assignee == "petrova"

    first_manager = plan(
        "contracts.client.reassigned",
        {"client_id": "c-1", "name": "ООО", "previous_manager": None, "manager": "ivanov"},
        ctx(),
    )
    assert apply_plan(first_manager, [docs], NOW).reassigned == [docs]
    assert docs.assignee == "ivanov"


# --- repeats update, closing events close -------------------------------------------------


def test_repeat_overdue_event_updates_the_open_reminder_instead_of_stacking() -> None:
    new_id = ids()
    day1 = plan("billing.invoice.overdue", OVERDUE, ctx())
    first = apply_plan(day1, [], NOW, new_id)
    assert len(first.created) == 1 and not first.updated
    reminder = first.created[0]

    tuesday = msk(2026, 12, 22, 9, 30)
    day2_payload = {
        **OVERDUE,
        "days_overdue": 2,
        "reminder_count": 2,
        "stage": "letter",
        "on": "2026-12-22",
    }
    day2 = plan("billing.invoice.overdue", day2_payload, ctx(now=tuesday))
    assert day2.tasks[0].on_repeat is OnRepeat.UPDATE
    second = apply_plan(day2, [reminder], tuesday, new_id)

    assert second.created == [] and second.updated == [reminder]
    assert "просрочка 2 дн." in reminder.title
    assert reminder.due_at == msk(2026, 12, 22)
    assert reminder.priority is Priority.HIGH
    assert reminder.state is TaskState.OPEN and reminder.id == UUID(int=1)


def test_after_the_call_is_done_the_next_overdue_day_gets_a_new_call() -> None:
    new_id = ids()
    reminder = apply_plan(plan("billing.invoice.overdue", OVERDUE, ctx()), [], NOW, new_id)
    task = reminder.created[0]
    task.complete(msk(2026, 12, 21, 11), "обещали оплатить завтра")
    tuesday = msk(2026, 12, 22, 9, 30)
    day2 = plan("billing.invoice.overdue", {**OVERDUE, "on": "2026-12-22"}, ctx(now=tuesday))
    # the repository passes only active tasks; a done one is not "the open reminder"
    again = apply_plan(day2, [t for t in [task] if t.is_active], tuesday, new_id)
    assert len(again.created) == 1 and again.created[0].id != task.id


def test_duplicate_event_keeps_the_existing_task() -> None:
    payload = {"shipment_id": "sh-1", "client_id": "c-1"}
    first = apply_plan(plan("logistics.shipment.delivered", payload, ctx()), [], NOW).created[0]
    title_before = first.title
    again = apply_plan(plan("logistics.shipment.delivered", payload, ctx()), [first], NOW)
    assert again.created == again.updated == [] and first.title == title_before


def test_paid_invoice_closes_its_reminder_calls() -> None:
    new_id = ids()
    reminder = apply_plan(plan("billing.invoice.overdue", OVERDUE, ctx()), [], NOW, new_id)
    other = apply_plan(
        plan("billing.invoice.overdue", {**OVERDUE, "invoice_id": "inv-2"}, ctx()), [], NOW, new_id
    )
    task, other_task = reminder.created[0], other.created[0]

    paid = plan("billing.invoice.paid", {"invoice_id": "inv-1", "client_id": "c-1"}, ctx())
    assert paid.tasks == () and paid.closes[0].dedupe_key == "payment_reminder:inv-1"
    changes = apply_plan(paid, [task, other_task], NOW)

    assert changes.closed == [task]
    assert task.state is TaskState.CANCELLED and task.outcome == "paid"
    assert other_task.state is TaskState.OPEN


def test_paid_invoice_closes_a_snoozed_reminder_too() -> None:
    task = apply_plan(plan("billing.invoice.overdue", OVERDUE, ctx()), [], NOW).created[0]
    task.snooze(msk(2026, 12, 24, 10), NOW)
    paid = plan("billing.invoice.paid", {"invoice_id": "inv-1", "client_id": "c-1"}, ctx())
    assert apply_plan(paid, [task], NOW).closed == [task]
    assert task.state is TaskState.CANCELLED


# fmt: off
CLOSE_CASES = [
    ("contracts.contract.approved",
     {"contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "decided_by": "head",
      "reason": None},
     "contract_approval", "contract_approval:k-1", TaskState.DONE, "approved"),
    ("contracts.contract.rejected",
     {"contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "decided_by": "head",
      "reason": "нет гарантии"},
     "contract_approval", "contract_approval:k-1", TaskState.DONE, "rejected: нет гарантии"),
    ("contracts.contract.renewed",
     {"contract_id": "k-1", "client_id": "c-1", "effective_on": "2027-01-01"},
     "renewal_call", "renewal_call:k-1", TaskState.CANCELLED, "renewed"),
    ("contracts.contract.terminated",
     {"contract_id": "k-1", "client_id": "c-1", "effective_on": "2027-01-01"},
     "renewal_call", "renewal_call:k-1", TaskState.CANCELLED, "terminated"),
    ("contracts.change_request.decided",
     {"request_id": "r-1", "contract_id": "k-1", "client_id": "c-1"},
     "change_request_approval", "change_request:r-1", TaskState.DONE, "decided"),
    ("contracts.pilot.converted", {"contract_id": "k-9", "client_id": "c-1"},
     "pilot_outcome", "pilot_outcome:k-9", TaskState.CANCELLED, "converted"),
    ("field_ops.downtime.resolved", {"incident_id": "d-1", "client_id": "c-1"},
     "downtime_cause", "downtime_cause:d-1", TaskState.CANCELLED, "resolved"),
    ("field_ops.work_order.completed", {"work_order_id": "wo-1", "client_id": "c-1"},
     "control_call", "control_call:wo-1", TaskState.CANCELLED, "completed"),
    ("field_ops.work_order.failed", {"work_order_id": "wo-1", "client_id": "c-1"},
     "control_call", "control_call:wo-1", TaskState.CANCELLED, "failed"),
]
# fmt: on


@pytest.mark.parametrize(
    ("event_type", "payload", "kind", "key", "state", "outcome"),
    CLOSE_CASES,
    ids=[c[0] for c in CLOSE_CASES],
)
def test_closing_event_closes_the_task_it_makes_pointless(
    event_type: str, payload: dict[str, Any], kind: str, key: str, state: TaskState, outcome: str
) -> None:
    task = Task(
        id=UUID(int=7),
        kind=kind,
        action=TaskAction.CALL,
        function=Function.CONTRACTS,
        title="x",
        assignee="ivanov",
        due_at=msk(2026, 12, 22),
        created_at=NOW,
        dedupe_key=key,
    )
    bystander = Task(
        id=UUID(int=8),
        kind=kind,
        action=TaskAction.CALL,
        function=Function.CONTRACTS,
        title="y",
        assignee="ivanov",
        due_at=msk(2026, 12, 22),
        created_at=NOW,
        dedupe_key=key + "0",
    )
    later = msk(2026, 12, 21, 15)
    changes = apply_plan(plan(event_type, payload, ctx(now=later)), [task, bystander], later)
    assert changes.closed == [task]
    assert (task.state, task.outcome, task.done_at) == (state, outcome, later)
    assert bystander.state is TaskState.OPEN


def test_completed_work_order_also_closes_its_pending_approval() -> None:
    closes = plan(
        "field_ops.work_order.completed", {"work_order_id": "wo-1", "client_id": "c-1"}, ctx()
    ).closes
    assert {(c.kind, c.dedupe_key) for c in closes} == {
        ("control_call", "control_call:wo-1"),
        ("work_order_approval", "work_order_approval:wo-1"),
    }


# --- escalations ------------------------------------------------------------------------------


def test_overdue_invoice_escalates_to_the_head_only_from_stage_head_and_only_once() -> None:
    assert plan("billing.invoice.overdue", OVERDUE, ctx()).escalations == ()
    at_head = plan("billing.invoice.overdue", {**OVERDUE, "stage": "head"}, ctx())
    (escalation,) = at_head.escalations
    assert escalation.head == "head" and escalation.function is Function.BILLING
    assert escalation.key == "escalation:unpaid:inv-1"
    assert escalation.due_at == msk(2026, 12, 21, 14)  # four working hours
    assert "15 250,00 ₽" in escalation.reason

    suspension = plan("billing.invoice.overdue", {**OVERDUE, "stage": "suspension"}, ctx())
    assert new_escalations(suspension.escalations, [escalation.key]) == []


@pytest.mark.parametrize(
    ("event_type", "payload", "key", "function"),
    [
        (
            "field_ops.visit.sla_breached",
            {"work_order_id": "wo-5", "client_id": "c-1", "due_by": "2026-12-18T15:00:00+00:00"},
            "escalation:sla_breach:wo-5",
            Function.FIELD_OPS,
        ),
        (
            "field_ops.downtime.escalated",
            {"incident_id": "d-1", "client_id": "c-1"},
            "escalation:downtime:d-1",
            Function.FIELD_OPS,
        ),
        (
            "logistics.originals.overdue",
            {"delivery_id": "dd-1", "client_id": "c-1", "due_on": "2026-12-14"},
            "escalation:originals_late:dd-1",
            Function.LOGISTICS,
        ),
    ],
)
def test_events_marked_for_escalation_escalate_to_the_head(
    event_type: str, payload: dict[str, Any], key: str, function: Function
) -> None:
    (escalation,) = plan(event_type, payload, ctx()).escalations
    assert escalation.key == key and escalation.function is function
    head_task = escalation.to_task(UUID(int=99))
    assert head_task.assignee == "head" and head_task.kind == "escalation"
    assert head_task.priority is Priority.URGENT and head_task.client_id == "c-1"
    mail = escalation.mail()
    assert mail.to == Recipient(username="head") and mail.template == "escalation"


def test_sla_breach_reason_names_the_last_day_of_the_window() -> None:
    # the contract's due_by is the last business day (a date); the window closes at its end
    payload = {"work_order_id": "wo-5", "client_id": "c-1", "due_by": "2026-12-18"}
    (escalation,) = plan("field_ops.visit.sla_breached", payload, ctx()).escalations
    assert "до конца дня 18.12.2026" in escalation.reason


def test_overdue_open_tasks_escalate_once_each() -> None:
    rules = default_rules()

    def task(n: int, **kw: Any) -> Task:
        fields: dict[str, Any] = dict(
            id=UUID(int=n),
            kind="payment_reminder",
            action=TaskAction.CALL,
            function=Function.BILLING,
            title=f"задача {n}",
            assignee="ivanov",
            due_at=msk(2026, 12, 18),
            created_at=msk(2026, 12, 17, 10),
            client_id="c-1",
        )
        fields.update(kw)
        return Task(**fields)

    late = task(1)
    on_time = task(2, due_at=msk(2026, 12, 21, 18))
    snoozed = task(3)
    snoozed.snooze(msk(2026, 12, 23, 10), NOW)
    heads_own = task(4, assignee="head")
    escalation_task = task(5, kind="escalation")
    done = task(6)
    done.complete(NOW, "ok")

    found = rules.overdue_escalations(
        [late, on_time, snoozed, heads_own, escalation_task, done], ctx()
    )
    assert [e.cause_key for e in found] == [f"overdue:{late.id}"]
    (escalation,) = found
    assert escalation.reason == (
        "Просрочена задача «задача 1»: исполнитель ivanov, срок был 18.12.2026 18:00"
    )
    assert escalation.source == "task.overdue"
    # the next sweep finds the same task again; the key stops a second escalation
    again = rules.overdue_escalations([late], ctx(now=msk(2026, 12, 22, 10)))
    assert new_escalations(again, [escalation.key]) == []


# --- mails -------------------------------------------------------------------------------------


def test_issued_invoice_mails_the_client_with_the_pdf_and_makes_no_task() -> None:
    payload = {
        "invoice_id": "inv-1",
        "number": "2026-12-0001",
        "client_id": "c-1",
        "contract_id": "k-1",
        "period": "2026-12",
        "total": "15250.00",
        "due_on": "2026-12-20",
        "email": "buh@romashka.ru",
    }
    result = plan("billing.invoice.issued", payload, ctx(client_name="ООО Ромашка"))
    assert result.tasks == () and result.escalations == ()
    (mail,) = result.mails
    assert mail.template == "invoice_issued"
    assert mail.to == Recipient(email="buh@romashka.ru")
    assert mail.attachments == ("invoice_pdf",)
    assert mail.dedupe_key == "invoice_issued:inv-1"
    assert mail.context["client_name"] == "ООО Ромашка" and mail.context["total"] == "15250.00"


def test_cloud_credentials_are_mailed_once_and_the_password_is_never_stored() -> None:
    payload = {
        "client_id": "c-1",
        "url": "https://romashka.pass24.online",
        "login": "admin",
        "password": "Xy7-secret",
    }
    (mail,) = plan(
        "field_ops.cloud_tenant.provisioned", payload, ctx(client_email="it@romashka.ru")
    ).mails
    assert mail.dedupe_key == "cloud_credentials:c-1"
    assert mail.context["password"] == "Xy7-secret"  # rendered into the one mail
    assert mail.stored_context()["password"] == "***"
    assert mail.stored_context()["login"] == "admin"


def test_renewal_notice_goes_only_to_auto_renewing_clients() -> None:
    base = {
        "contract_id": "k-1",
        "number": "Д-17",
        "client_id": "c-1",
        "ends_on": "2027-01-31",
        "threshold_days": 30,
        "manager": "ivanov",
    }
    auto = plan(
        "contracts.contract.expiring", {**base, "auto_renew": True}, ctx(client_email="a@b.ru")
    )
    assert [m.template for m in auto.mails] == ["renewal_notice"]
    assert auto.mails[0].dedupe_key == "renewal_notice:k-1:2027-01-31"
    assert "пролонгации" in auto.tasks[0].title
    manual = plan(
        "contracts.contract.expiring", {**base, "auto_renew": False}, ctx(client_email="a@b.ru")
    )
    assert manual.mails == () and "перезаключении" in manual.tasks[0].title


def test_visit_confirmation_uses_the_projection_address() -> None:
    payload = {
        "work_order_id": "wo-1",
        "client_id": "c-1",
        "scheduled_for": "2026-12-23T07:00:00+00:00",
    }
    (mail,) = plan("field_ops.work_order.scheduled", payload, ctx(client_email="a@b.ru")).mails
    assert mail.template == "visit_confirmation" and mail.to == Recipient(email="a@b.ru")


def test_a_client_mail_without_an_address_becomes_a_task() -> None:
    payload = {
        "work_order_id": "wo-1",
        "client_id": "c-1",
        "scheduled_for": "2026-12-23T07:00:00+00:00",
    }
    result = plan("field_ops.work_order.scheduled", payload, ctx(client_name="ООО Ромашка"))
    assert result.mails == ()
    missing = next(d for d in result.tasks if d.kind == "missing_email")
    assert missing.assignee == "ivanov" and missing.function is Function.CONTRACTS
    assert "visit_confirmation" in missing.title and "ООО Ромашка" in missing.title
    assert missing.dedupe_key == "missing_email:c-1:visit_confirmation"


# --- empty plans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    [
        "contracts.client.registered",
        "contracts.client.updated",
        "contracts.contract.suspended",
        "contracts.contract.resumed",
        "contracts.contract.amended",
        "contracts.claim.stage_changed",
        "billing.something.unheard_of",
        "not even an event type",
    ],
)
def test_events_without_duties_and_unknown_events_plan_nothing(event_type: str) -> None:
    result = plan(event_type, {"client_id": "c-1"}, ctx())
    assert result == Plan(event_type=event_type) and result.is_empty


def test_payload_missing_a_field_the_rule_needs_is_a_clear_error() -> None:
    broken = {k: v for k, v in OVERDUE.items() if k != "number"}
    with pytest.raises(
        PlanError, match=r"billing\.invoice\.overdue: task payment_reminder.*number"
    ):
        plan("billing.invoice.overdue", broken, ctx())


def test_a_null_id_never_makes_a_dedupe_key() -> None:
    # "payment_reminder:None" would merge the reminders of every invoice without an id
    with pytest.raises(PlanError, match=r"key: field 'invoice_id' is null"):
        plan("billing.invoice.overdue", {**OVERDUE, "invoice_id": None}, ctx())


def test_context_needs_moscow_aware_time_and_a_head() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PlanContext(now=datetime(2026, 12, 21, 10), head="head")
    with pytest.raises(ValueError, match="head"):
        PlanContext(now=NOW, head="")


# --- the rules file -----------------------------------------------------------------------------


def test_shipped_rules_cover_every_duty_in_the_catalog() -> None:
    rules = default_rules()
    with_tasks = {t for t, r in rules.events.items() if r.tasks}
    assert with_tasks == {
        "contracts.contract.submitted_for_approval",
        "contracts.contract.signed",
        "contracts.contract.expiring",
        "contracts.change_request.submitted",
        "contracts.claim.opened",
        "contracts.pilot.ended",
        "billing.invoice.overdue",
        "field_ops.work_order.created",
        "field_ops.work_order.problem_reported",
        "field_ops.work_order.scheduled",
        "field_ops.downtime.started",
        "field_ops.equipment.installed",
        "field_ops.training.completed",
        "logistics.shipment.delivered",
        "logistics.originals.overdue",
        "logistics.originals.reminder_due",
        "logistics.stock.low",
        "logistics.courier_balance.low",
        "logistics.closing_docs.unsigned",
        "logistics.purchase_order.overdue",
        "logistics.supplier_invoice.recorded",
        "notifications.request.registered",
    }
    with_escalations = {t for t, r in rules.events.items() if r.escalations}
    assert with_escalations == {
        "billing.invoice.overdue",
        "field_ops.visit.sla_breached",
        "field_ops.downtime.escalated",
        "logistics.originals.overdue",
        "logistics.closing_docs.overdue",
    }


MINIMAL = """
schema = 1
[overdue]
reason = "Просрочена задача «{title}»"
due = { working_hours = 4 }
[missing_email]
kind = "missing_email"
function = "contracts"
title = "Узнать e-mail — {client_name}"
due = { working_days = 1 }
"""

GOOD_EVENT = """
[events."billing.invoice.overdue"]
fields = ["invoice_id", "number", "client_id"]
[[events."billing.invoice.overdue".tasks]]
kind = "payment_reminder"
action = "call"
function = "billing"
title = "Напомнить об оплате счёта № {number}"
assignee = "client_manager"
due = { working_days = 0 }
key = "payment_reminder:{invoice_id}"
"""


def test_a_minimal_rules_file_loads_and_plans() -> None:
    rules = load_rules(MINIMAL + GOOD_EVENT)
    result = rules.plan(
        "billing.invoice.overdue", {"invoice_id": "i", "number": "7", "client_id": "c"}, ctx()
    )
    assert result.tasks[0].title == "Напомнить об оплате счёта № 7"
    assert result.tasks[0].on_repeat is OnRepeat.KEEP  # the default


# (edit to GOOD_EVENT, expected error): each error names the event, the rule and the problem
# fmt: off
BAD_TASK_RULES = [
    (('assignee = "client_manager"', 'assignee = "whoever_is_free"'),
     r"rule billing\.invoice\.overdue: tasks\[0\] \(payment_reminder\): unknown assignee "
     r"'whoever_is_free' \(known: client_manager, head, lawyer_from_payload, function_queue\)"),
    (("счёта № {number}", "счёта № {invoice_number}"),
     r"rule billing\.invoice\.overdue: tasks\[0\] \(payment_reminder\): title: "
     r"placeholder \{invoice_number\} is not a field of this event"),
    (("счёта № {number}", "счёта № {number.upper}"),
     r"payment_reminder\): title: placeholder \{number\.upper\} must be a plain field name"),
    (("счёта № {number}", "счёта № {number:>10}"),
     r"payment_reminder\): title: placeholder \{number:>10\} has an unknown format"),
    (("счёта № {number}", "счёта № {number"),
     r"payment_reminder\): title: bad template"),
    (('key = "payment_reminder:{invoice_id}"', 'key = "payment_reminder:{invoice_id:money}"'),
     r"payment_reminder\): key: placeholder .* has an unknown format \(none here\)"),
    (('function = "billing"', 'function = "accounting"'),
     r"payment_reminder\): unknown function 'accounting'"),
    (('action = "call"', 'action = "pray"'), r"payment_reminder\): unknown action 'pray'"),
    (("due = { working_days = 0 }", "due = { working_days = 1, working_hours = 2 }"),
     r"payment_reminder\): due needs exactly one of working_hours, working_days"),
    (("due = { working_days = 0 }", 'due = { working_days = 1, from = "paid_on" }'),
     r"payment_reminder\): due from 'paid_on' is not a field of this event"),
    (("due = { working_days = 0 }", "due = { working_days = 1.5 }"),
     r"payment_reminder\): due: 'working_days' must be int"),
    (('kind = "payment_reminder"', 'kind = "payment_reminder"\nasignee = "head"'),
     r"payment_reminder\): unknown keys asignee"),
    (('key = "payment_reminder:{invoice_id}"',
      'key = "payment_reminder:{invoice_id}"\npriority = "asap"'),
     r"payment_reminder\): unknown priority 'asap'"),
    (('key = "payment_reminder:{invoice_id}"',
      'key = "payment_reminder:{invoice_id}"\nwhen = { stage = "head" }'),
     r"payment_reminder\): when 'stage' is not a field of this event"),
    (('key = "payment_reminder:{invoice_id}"',
      'key = "payment_reminder:{invoice_id}"\non_repeat = "stack"'),
     r"payment_reminder\): unknown on_repeat 'stack' \(known: update, keep\)"),
    (('key = "payment_reminder:{invoice_id}"\n', ""),
     r"tasks\[0\] \(payment_reminder\): missing 'key'"),
    (('key = "payment_reminder:{invoice_id}"',
      'key = "payment_reminder:{invoice_id}"\n'
      'priority = { by = "stage", map = { head = "urgent" } }'),
     r"payment_reminder\): priority by 'stage' is not a field of this event"),
]

BAD_EVENT_SECTIONS = [
    ('[events."billing.invoice.paid"]\nfields = ["invoice_id"]\n'
     '[[events."billing.invoice.paid".mails]]\n'
     'template = "invoice_paid_thanks"\nto = "client"\n',
     r"rule billing\.invoice\.paid: mails\[0\] \(invoice_paid_thanks\): "
     r"unknown mail template"),
    ('[events."billing.invoice.paid"]\nfields = ["invoice_id"]\n'
     '[[events."billing.invoice.paid".closes]]\nkind = "payment_reminder"\n'
     'key = "payment_reminder:{invoice_id}"\nstate = "snoozed"\noutcome = "paid"\n',
     r"rule billing\.invoice\.paid: closes\[0\] \(payment_reminder\): "
     r"an event closes a task as done or cancelled"),
    ('[events."contracts.claim.opened"]\nfields = ["claim_id"]\n'
     '[[events."contracts.claim.opened".tasks]]\nkind = "claim_answer"\naction = "do"\n'
     'function = "claims"\ntitle = "Ответ"\nassignee = "lawyer_from_payload"\n'
     'due = { working_days = 1 }\nkey = "claim_answer:{claim_id}"\n',
     r"rule contracts\.claim\.opened: tasks\[0\] \(claim_answer\): assignee "
     r"lawyer_from_payload needs a 'lawyer' field"),
    ('[events."billing.invoice.paid"]\nfields = ["invoice_id"]\n'
     '[[events."billing.invoice.paid".escalations]]\nkey = "x:{invoice_id}"\n'
     'reason = "Оплата {amount}"\nfunction = "billing"\n',
     r"rule billing\.invoice\.paid: escalations\[0\] \(x:\{invoice_id\}\): reason: "
     r"placeholder \{amount\}"),
    ('[events."Billing Invoice"]\nfields = []\n',
     r"rule Billing Invoice: event type must look like service\.entity\.verb"),
]
# fmt: on


@pytest.mark.parametrize(("change", "message"), BAD_TASK_RULES)
def test_bad_rules_fail_at_load_naming_the_rule(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD_EVENT
    with pytest.raises(RuleError, match=message):
        load_rules(MINIMAL + GOOD_EVENT.replace(old, new, 1))


@pytest.mark.parametrize(("extra", "message"), BAD_EVENT_SECTIONS)
def test_bad_event_sections_fail_at_load_naming_the_rule(extra: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_rules(MINIMAL + extra)


def test_broken_toml_and_wrong_schema_are_rule_errors() -> None:
    with pytest.raises(RuleError, match="not valid TOML"):
        load_rules(MINIMAL + "[events.\n")
    with pytest.raises(RuleError, match="unsupported schema 2"):
        load_rules(MINIMAL.replace("schema = 1", "schema = 2"))
    with pytest.raises(RuleError, match="overdue: reason: placeholder \\{client\\}"):
        load_rules(MINIMAL.replace("«{title}»", "«{client}»"))


# --- the working-day calendar ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (msk(2026, 12, 21, 10), 0, msk(2026, 12, 21)),  # by the end of today
        (msk(2026, 12, 21, 20), 0, msk(2026, 12, 22)),  # after hours: tomorrow counts as today
        (msk(2026, 12, 25, 10), 1, msk(2026, 12, 28)),  # Friday + 1 -> Monday
        (msk(2026, 12, 26, 10), 0, msk(2026, 12, 28)),  # Saturday -> Monday
        # 31 December and 1-8 January are days off; 9-10 January is a weekend
        (msk(2026, 12, 30, 10), 1, msk(2027, 1, 11)),
        (msk(2027, 2, 19, 10), 1, msk(2027, 2, 20)),  # 20 February 2027 is a working Saturday
        (msk(2027, 2, 20, 10), 1, msk(2027, 2, 24)),  # 22-23 February are days off
        (msk(2026, 12, 21, 10), -1, msk(2026, 12, 18)),  # Monday - 1 -> Friday
        (date(2026, 12, 26), 0, msk(2026, 12, 28)),  # a Saturday date rolls to Monday
        (date(2026, 12, 28), -1, msk(2026, 12, 25)),
    ],
)
def test_working_days(start: datetime | date, days: int, expected: datetime) -> None:
    assert CAL.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (msk(2026, 12, 21, 10), 4, msk(2026, 12, 21, 14)),
        (msk(2026, 12, 21, 7), 2, msk(2026, 12, 21, 11)),  # before 09:00 starts at 09:00
        (msk(2026, 12, 25, 16), 4, msk(2026, 12, 28, 11)),  # over the weekend
        (msk(2026, 12, 21, 9), 9, msk(2026, 12, 21, 18)),  # a full day ends at 18:00
        (msk(2026, 12, 28, 10), -2, msk(2026, 12, 25, 17)),  # back over the weekend
        (msk(2026, 12, 30, 17), 3, msk(2027, 1, 11, 11)),  # over the New Year holidays
        (datetime(2026, 12, 21, 7, 0, tzinfo=UTC), 1, msk(2026, 12, 21, 11)),  # UTC input
    ],
)
def test_working_hours(start: datetime, hours: int, expected: datetime) -> None:
    assert CAL.add_working_hours(start, hours) == expected


def test_decree_overrides_beat_the_packaged_calendar() -> None:
    calendar = WorkingCalendar(
        extra_days_off=frozenset({date(2026, 12, 22)}),
        extra_working_days=frozenset({date(2026, 12, 26)}),
    )
    assert not calendar.is_working_day(date(2026, 12, 22))
    assert calendar.is_working_day(date(2026, 12, 26))
    assert calendar.add_working_days(msk(2026, 12, 21, 10), 1) == msk(2026, 12, 23)


def test_escalation_objects_are_frozen_values() -> None:
    escalation = plan(
        "field_ops.downtime.escalated", {"incident_id": "d-1", "client_id": "c-1"}, ctx()
    ).escalations[0]
    assert isinstance(escalation, Escalation)
    with pytest.raises(AttributeError):
        escalation.head = "someone"  # type: ignore[misc]
