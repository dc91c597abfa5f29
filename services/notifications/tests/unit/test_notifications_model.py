"""Task state machine, escalations once per cause, mail delivery with back-off."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.model import (
    DeliveryState,
    DomainError,
    Escalation,
    Function,
    IllegalTransition,
    MailDelivery,
    MailDraft,
    Priority,
    Recipient,
    Task,
    TaskAction,
    TaskState,
    is_queue,
    new_escalations,
    next_retry_at,
    queue_of,
)

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)


def make_task(**overrides: Any) -> Task:
    fields: dict[str, Any] = dict(
        id=UUID(int=1),
        kind="payment_reminder",
        action=TaskAction.CALL,
        function=Function.BILLING,
        title="Напомнить об оплате счёта № 2026-12-0001 — ООО Ромашка",
        assignee="ivanov",
        due_at=NOW + timedelta(hours=8),
        created_at=NOW,
        client_id="c-1",
        dedupe_key="payment_reminder:inv-1",
    )
    fields.update(overrides)
    return Task(**fields)


# --- state machine -------------------------------------------------------------------------


def test_a_new_task_is_open() -> None:
    task = make_task()
    assert task.state is TaskState.OPEN and task.is_active
    assert task.priority is Priority.NORMAL and task.outcome is None


def test_open_to_done_records_outcome_and_time() -> None:
    task = make_task()
    at = NOW + timedelta(hours=1)
    task.complete(at, "клиент обещал оплатить 23.12")
    assert task.state is TaskState.DONE and not task.is_active
    assert (task.outcome, task.done_at, task.updated_at) == ("клиент обещал оплатить 23.12", at, at)


def test_open_to_cancelled() -> None:
    task = make_task()
    task.cancel(NOW, "paid")
    assert (task.state, task.outcome, task.done_at) == (TaskState.CANCELLED, "paid", NOW)


def test_open_to_snoozed_and_back() -> None:
    task = make_task()
    until = NOW + timedelta(days=2)
    task.snooze(until, NOW)
    assert task.state is TaskState.SNOOZED and task.snoozed_until == until and task.is_active
    task.reopen(NOW + timedelta(hours=1))
    assert task.state is TaskState.OPEN and task.snoozed_until is None


def test_snooze_must_end_in_the_future() -> None:
    with pytest.raises(DomainError, match="not in the future"):
        make_task().snooze(NOW, NOW)


def test_a_snoozed_task_wakes_when_its_snooze_ends() -> None:
    task = make_task()
    task.snooze(NOW + timedelta(hours=2), NOW)
    assert not task.wake_if_due(NOW + timedelta(hours=1))
    assert task.state is TaskState.SNOOZED
    assert task.wake_if_due(NOW + timedelta(hours=2))
    assert task.state is TaskState.OPEN
    assert not make_task().wake_if_due(NOW)  # an open task has nothing to wake from


def _done() -> Task:
    task = make_task()
    task.complete(NOW, "ok")
    return task


def _cancelled() -> Task:
    task = make_task()
    task.cancel(NOW, "paid")
    return task


def _snoozed() -> Task:
    task = make_task()
    task.snooze(NOW + timedelta(days=1), NOW)
    return task


@pytest.mark.parametrize(
    ("build", "move", "current", "wanted"),
    [
        (_done, lambda t: t.complete(NOW, "again"), "done", "done"),
        (_done, lambda t: t.cancel(NOW, None), "done", "cancelled"),
        (_done, lambda t: t.reopen(NOW), "done", "open"),
        (_done, lambda t: t.snooze(NOW + timedelta(days=1), NOW), "done", "snoozed"),
        (_cancelled, lambda t: t.reopen(NOW), "cancelled", "open"),
        (_cancelled, lambda t: t.complete(NOW, None), "cancelled", "done"),
        # a snooze only ends by reopening: snoozed -> open
        (_snoozed, lambda t: t.complete(NOW, None), "snoozed", "done"),
        (_snoozed, lambda t: t.cancel(NOW, None), "snoozed", "cancelled"),
        (_snoozed, lambda t: t.snooze(NOW + timedelta(days=3), NOW), "snoozed", "snoozed"),
        (make_task, lambda t: t.reopen(NOW), "open", "open"),
    ],
)
def test_illegal_transitions_raise_naming_the_current_state(
    build: Any, move: Any, current: str, wanted: str
) -> None:
    task = build()
    before = (task.state, task.outcome, task.done_at)
    with pytest.raises(IllegalTransition, match=f"is {current}: cannot move it to {wanted}") as err:
        move(task)
    assert err.value.current == current and err.value.wanted == wanted
    assert isinstance(err.value, DomainError)
    assert (task.state, task.outcome, task.done_at) == before  # nothing half-changed


def test_closing_by_event_wakes_a_snoozed_task_first() -> None:
    task = _snoozed()
    assert task.close_by_event(TaskState.CANCELLED, NOW + timedelta(hours=1), "paid")
    assert (task.state, task.outcome) == (TaskState.CANCELLED, "paid")


def test_closing_by_event_leaves_a_closed_task_alone() -> None:
    task = _done()
    assert not task.close_by_event(TaskState.CANCELLED, NOW, "paid")
    assert (task.state, task.outcome) == (TaskState.DONE, "ok")


def test_an_event_closes_only_as_done_or_cancelled() -> None:
    with pytest.raises(DomainError, match="done or cancelled"):
        make_task().close_by_event(TaskState.SNOOZED, NOW, None)


def test_refresh_updates_an_active_task_but_never_a_closed_one() -> None:
    task = make_task()
    later = NOW + timedelta(days=1)
    task.refresh(
        at=later,
        title="новый заголовок",
        due_at=later + timedelta(hours=8),
        priority=Priority.HIGH,
        assignee="petrova",
        source_event="billing.invoice.overdue",
        source_event_id="e-2",
    )
    assert (task.title, task.priority, task.assignee, task.updated_at) == (
        "новый заголовок",
        Priority.HIGH,
        "petrova",
        later,
    )
    with pytest.raises(DomainError, match="is done: a closed task is not updated"):
        _done().refresh(
            at=later,
            title="x",
            due_at=later,
            priority=Priority.LOW,
            assignee="x",
            source_event=None,
            source_event_id=None,
        )


def test_reassign() -> None:
    task = make_task()
    task.reassign("petrova", NOW)
    assert task.assignee == "petrova"
    with pytest.raises(DomainError, match="empty assignee"):
        task.reassign("", NOW)
    with pytest.raises(DomainError, match="is cancelled"):
        _cancelled().reassign("petrova", NOW)


def test_overdue_counts_open_and_snoozed_tasks_past_due() -> None:
    task = make_task(due_at=NOW)
    assert not task.is_overdue(NOW)
    assert task.is_overdue(NOW + timedelta(seconds=1))
    snoozed = make_task(due_at=NOW)
    snoozed.snooze(NOW + timedelta(days=1), NOW)
    assert snoozed.is_overdue(NOW + timedelta(hours=1))  # a snooze does not hide lateness
    late_done = make_task(due_at=NOW)
    late_done.complete(NOW + timedelta(days=1), "ok")
    assert not late_done.is_overdue(NOW + timedelta(days=2))


def test_tasks_refuse_naive_times_and_empty_assignees() -> None:
    with pytest.raises(ValueError, match="due_at must be timezone-aware"):
        make_task(due_at=datetime(2026, 12, 21, 18))
    with pytest.raises(DomainError, match="no assignee"):
        make_task(assignee="")
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        make_task().complete(datetime(2026, 12, 21, 12), "ok")


def test_priorities_order_and_function_queues() -> None:
    ordered = sorted(Priority, key=lambda p: p.rank)
    assert ordered == [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
    assert [f.value for f in Function] == [
        "contracts",
        "billing",
        "field_ops",
        "logistics",
        "claims",
        "support",
    ]
    assert queue_of(Function.FIELD_OPS) == "queue:field_ops"
    assert is_queue("queue:claims") and not is_queue("ivanov")


# --- escalations ---------------------------------------------------------------------------


def _escalation(cause: str = "sla_breach:wo-5") -> Escalation:
    return Escalation(
        cause_key=cause,
        reason="Нарушен срок аварийного выезда — ООО Ромашка",
        head="head",
        function=Function.FIELD_OPS,
        raised_at=NOW,
        due_at=NOW + timedelta(hours=4),
        source="field_ops.visit.sla_breached",
        client_id="c-1",
    )


def test_an_escalation_becomes_a_head_task_and_a_mail_under_one_key() -> None:
    escalation = _escalation()
    assert escalation.key == "escalation:sla_breach:wo-5"
    task = escalation.to_task(UUID(int=5))
    assert (task.kind, task.action, task.assignee, task.priority) == (
        "escalation",
        TaskAction.CHECK,
        "head",
        Priority.URGENT,
    )
    assert task.dedupe_key == escalation.key and task.title == escalation.reason
    mail = escalation.mail()
    assert mail.to == Recipient(username="head") and mail.dedupe_key == escalation.key
    assert mail.context["reason"] == escalation.reason


def test_each_cause_escalates_once() -> None:
    first, repeat, other = _escalation(), _escalation(), _escalation("downtime:d-1")
    assert new_escalations([first, repeat, other], []) == [first, other]
    assert new_escalations([repeat, other], [first.key]) == [other]
    assert new_escalations([first], [first.key, other.key]) == []


def test_an_overdue_task_escalates_by_its_own_id() -> None:
    one, two = make_task(id=UUID(int=1)), make_task(id=UUID(int=2))
    keys = {
        Escalation.for_overdue_task(t, head="head", reason="r", now=NOW, due_at=NOW).key
        for t in (one, two)
    }
    assert keys == {f"escalation:overdue:{UUID(int=1)}", f"escalation:overdue:{UUID(int=2)}"}


# --- mail delivery -------------------------------------------------------------------------


def test_recipient_is_an_address_or_a_username() -> None:
    with pytest.raises(DomainError):
        Recipient()
    with pytest.raises(DomainError):
        Recipient(email="a@b.ru", username="ivanov")


def test_sensitive_context_is_masked_for_storage() -> None:
    draft = MailDraft(
        template="cloud_credentials",
        to=Recipient(email="it@romashka.ru"),
        context={"login": "admin", "password": "s3cret", "setup_url": "https://x/once"},
        sensitive=("password", "setup_url"),
    )
    assert draft.stored_context() == {"login": "admin", "password": "***", "setup_url": "***"}
    assert draft.context["password"] == "s3cret"


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [
        (1, timedelta(seconds=30)),
        (2, timedelta(seconds=60)),
        (3, timedelta(minutes=2)),
        (4, timedelta(minutes=4)),
        (7, timedelta(minutes=32)),
        (8, timedelta(hours=1)),  # 64 min, capped
        (50, timedelta(hours=1)),
        (10_000, timedelta(hours=1)),
    ],
)
def test_next_retry_backs_off_exponentially_up_to_an_hour(attempts: int, delay: timedelta) -> None:
    assert next_retry_at(attempts, NOW) == NOW + delay


def test_next_retry_needs_a_failed_attempt_and_aware_time() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        next_retry_at(0, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_retry_at(1, datetime(2026, 12, 21, 10))
    custom = next_retry_at(3, NOW, base=timedelta(seconds=10), cap=timedelta(seconds=25))
    assert custom == NOW + timedelta(seconds=25)


def _delivery(**kw: Any) -> MailDelivery:
    return MailDelivery(
        id=UUID(int=3), template="invoice_issued", to="buh@romashka.ru", created_at=NOW, **kw
    )


def test_delivery_is_due_at_once_and_sent_once() -> None:
    delivery = _delivery()
    assert delivery.state is DeliveryState.PENDING and delivery.is_due(NOW)
    delivery.mark_sent(NOW + timedelta(seconds=2))
    assert (delivery.state, delivery.attempts, delivery.sent_at) == (
        DeliveryState.SENT,
        1,
        NOW + timedelta(seconds=2),
    )
    assert not delivery.is_due(NOW + timedelta(days=1))
    with pytest.raises(DomainError, match="is sent"):
        delivery.mark_sent(NOW)


def test_a_retryable_failure_schedules_the_next_try_with_back_off() -> None:
    delivery = _delivery()
    delivery.mark_failed(NOW, "SMTP server unreachable", retryable=True)
    assert delivery.state is DeliveryState.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
    assert not delivery.is_due(NOW + timedelta(seconds=29))
    assert delivery.is_due(NOW + timedelta(seconds=30))
    delivery.mark_failed(NOW + timedelta(seconds=30), "again", retryable=True)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=90)
    delivery.mark_sent(NOW + timedelta(seconds=90))
    assert delivery.state is DeliveryState.SENT and delivery.last_error is None


def test_a_permanent_failure_or_too_many_tries_gives_up() -> None:
    refused = _delivery()
    refused.mark_failed(NOW, "550 no such mailbox", retryable=False)
    assert refused.state is DeliveryState.FAILED and refused.next_attempt_at is None
    assert refused.last_error == "550 no such mailbox"

    flaky = _delivery(max_attempts=3)
    for _ in range(3):
        flaky.mark_failed(NOW, "timeout", retryable=True)
    assert flaky.state is DeliveryState.FAILED and flaky.attempts == 3
    with pytest.raises(DomainError, match="is failed"):
        flaky.mark_failed(NOW, "x", retryable=True)


def test_a_try_is_recorded_as_sending_first_and_a_try_left_sending_is_maybe_sent() -> None:
    delivery = _delivery()
    assert delivery.start_attempt(NOW) is False  # never tried: not sent before
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENDING, 1)
    assert not delivery.is_due(NOW + timedelta(days=1))
    delivery.mark_failed(NOW, "SMTP server unreachable", retryable=True)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
    delivery.start_attempt(NOW + timedelta(seconds=30))
    # the process died here; the next sender finds it "sending": maybe sent
    assert delivery.start_attempt(NOW + timedelta(minutes=20)) is True
    delivery.mark_sent(NOW + timedelta(minutes=20))
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 3)
    with pytest.raises(DomainError, match="is sent"):
        delivery.start_attempt(NOW)
