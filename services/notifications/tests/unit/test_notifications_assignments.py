"""Who may act on a task; bulk moves of a client's or a function's tasks; standing routing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.assignments import (
    AssignmentError,
    RoutingRule,
    Scope,
    may_act_on,
    reassign,
    route,
    routed,
)
from notifications.domain.model import Function, Task, TaskAction, TaskState
from notifications.domain.rules import PlanContext, apply_plan, plan

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)


def task(n: int, assignee: str, function: Function = Function.BILLING,
         client_id: str = "c-1", state: TaskState = TaskState.OPEN) -> Task:
    return Task(id=UUID(int=n), kind="k", action=TaskAction.CALL, function=function,
                title="t", assignee=assignee, due_at=NOW, created_at=NOW, client_id=client_id,
                state=state)


@pytest.mark.parametrize(("assignee", "username", "role", "allowed"), [
    ("ivanova", "ivanova", "manager", True),
    ("ivanova", "petrova", "manager", False),
    ("ivanova", "boss", "head", True),
    ("ivanova", "root", "admin", True),
    ("queue:billing", "buh1", "billing", True),
    ("queue:billing", "petrova", "manager", True),
    ("queue:billing", "yurist", "lawyer", False),
    ("queue:claims", "yurist", "lawyer", True),
    ("queue:claims", "petrova", "manager", False),
])
def test_who_may_act_on_a_task(assignee: str, username: str, role: str, allowed: bool) -> None:
    function = Function.CLAIMS if assignee == "queue:claims" else Function.BILLING
    assert may_act_on(task(1, assignee, function), username, role) is allowed


def test_a_client_bulk_move_takes_only_that_clients_active_tasks() -> None:
    tasks = [task(1, "ivanova"), task(2, "ivanova", client_id="c-2"),
             task(3, "ivanova", state=TaskState.DONE), task(4, "queue:billing"),
             task(5, "petrova", function=Function.CONTRACTS)]
    moved = reassign(tasks, Scope(client_id="c-1"), "senior", NOW)
    assert [t.id.int for t in moved] == [1, 4, 5]
    assert tasks[2].assignee == "ivanova"  # a done task keeps who did it
    assert tasks[1].assignee == "ivanova"


def test_a_client_move_leaves_the_heads_decisions_with_the_head() -> None:
    tasks = [task(1, "ivanova"), task(2, "head")]
    assert [t.id.int for t in reassign(tasks, Scope(client_id="c-1"), "senior", NOW,
                                       keep=("head",))] == [1]
    assert tasks[1].assignee == "head"
    # naming the head as the holder delegates the head's tasks on purpose
    moved = reassign(tasks, Scope(client_id="c-1", from_assignee="head"), "senior", NOW,
                     keep=("head",))
    assert [t.id.int for t in moved] == [2]


def test_a_function_move_from_one_person() -> None:
    tasks = [task(1, "ivanova"), task(2, "ivanova", function=Function.CONTRACTS),
             task(3, "petrova")]
    moved = reassign(tasks, Scope(function=Function.BILLING, from_assignee="ivanova"),
                     "senior", NOW)
    assert [t.id.int for t in moved] == [1]
    assert moved[0].updated_at == NOW


def test_a_move_needs_a_scope_and_a_real_change() -> None:
    with pytest.raises(AssignmentError, match="client, a function"):
        Scope()
    with pytest.raises(AssignmentError, match="already belong"):
        reassign([], Scope(function=Function.BILLING, from_assignee="a"), "a", NOW)


def test_standing_routing_exact_person_wins_and_the_heads_approvals_stay() -> None:
    rules = [RoutingRule(Function.BILLING, None, "senior"),
             RoutingRule(Function.BILLING, "ivanova", "petrova")]
    assert route("ivanova", Function.BILLING, rules, "head") == "petrova"
    assert route("sidorov", Function.BILLING, rules, "head") == "senior"
    assert route("queue:billing", Function.BILLING, rules, "head") == "senior"
    assert route("head", Function.BILLING, rules, "head") == "head"
    assert route("ivanova", Function.CONTRACTS, rules, "head") == "ivanova"
    delegated = [RoutingRule(Function.CONTRACTS, "head", "senior")]
    assert route("head", Function.CONTRACTS, delegated, "head") == "senior"


def _overdue(**extra: Any) -> dict[str, Any]:
    return {"invoice_id": "inv-1", "number": "1", "client_id": "c-1", "days_overdue": 1,
            "reminder_count": 1, "stage": "call", "outstanding": "10.00", "on": "2026-12-21",
            **extra}


def test_new_tasks_follow_the_standing_moves() -> None:
    context = PlanContext(now=NOW, head="head", client_manager="ivanova")
    drafts = plan("billing.invoice.overdue", _overdue(), context).tasks
    (draft,) = routed(drafts, [RoutingRule(Function.BILLING, "ivanova", "senior")], "head")
    assert draft.assignee == "senior"


def test_a_repeat_event_does_not_take_a_task_back_from_whom_the_head_gave_it() -> None:
    context = PlanContext(now=NOW, head="head", client_manager="ivanova")
    (reminder,) = apply_plan(plan("billing.invoice.overdue", _overdue(), context), [], NOW
                             ).created
    reminder.reassign("senior", NOW)
    apply_plan(plan("billing.invoice.overdue", _overdue(days_overdue=2), context), [reminder],
               NOW)
    assert reminder.assignee == "senior" and "просрочка 2 дн." in reminder.title
    # but a queue task finds its person once the client has a manager
    queued = apply_plan(plan("billing.invoice.overdue", _overdue(invoice_id="inv-2"),
                             PlanContext(now=NOW, head="head")), [], NOW).created[0]
    assert queued.assignee == "queue:billing"
    apply_plan(plan("billing.invoice.overdue", _overdue(invoice_id="inv-2"), context),
               [queued], NOW)
    assert queued.assignee == "ivanova"
