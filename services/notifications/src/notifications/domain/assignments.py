"""Who may act on a task, and how the head moves work between people.

A manager acts on the tasks assigned to them; the head (and admin) on all. A task waiting in a
function's queue may be taken by anyone whose role works in that function. The head moves
work in bulk — one client's tasks or one function's — and may make a move *standing*: new
tasks of that function then go to the new person too (how a function is regrouped, seed 004).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from notifications.domain.model import DomainError, Function, Task, is_queue
from notifications.domain.rules import TaskDraft

# roles that act on every task
OVERSEERS = frozenset({"head", "admin", "service"})
# which roles work each function's queue
FUNCTION_ROLES: Mapping[Function, frozenset[str]] = MappingProxyType(
    {
        Function.CONTRACTS: frozenset({"manager", "sales"}),
        Function.BILLING: frozenset({"billing", "accountant", "manager"}),
        Function.FIELD_OPS: frozenset({"dispatcher", "manager"}),
        Function.LOGISTICS: frozenset({"logistics", "manager"}),
        Function.CLAIMS: frozenset({"lawyer"}),
        Function.SUPPORT: frozenset({"manager"}),
    }
)


def may_act_on(task: Task, username: str, role: str) -> bool:
    """May this person complete, snooze or cancel `task`?"""
    if role in OVERSEERS or task.assignee == username:
        return True
    return is_queue(task.assignee) and role in FUNCTION_ROLES[task.function]


class AssignmentError(DomainError):
    """A reassignment request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Scope:
    """Which active tasks a bulk reassignment moves: a client's, a function's, or both.

    `from_assignee` narrows it to one holder (None: whoever holds them, queues included).
    """

    client_id: str | None = None
    function: Function | None = None
    from_assignee: str | None = None

    def __post_init__(self) -> None:
        if self.client_id is None and self.function is None:
            raise AssignmentError("say whose tasks move: a client, a function, or both")

    def covers(self, task: Task) -> bool:
        return (
            task.is_active
            and (self.client_id is None or task.client_id == self.client_id)
            and (self.function is None or task.function is self.function)
            and (self.from_assignee is None or task.assignee == self.from_assignee)
        )


def reassign(tasks: Iterable[Task], scope: Scope, to: str, at: datetime,
             keep: Iterable[str] = ()) -> list[Task]:
    """Move every active task in `scope` to `to`; return the moved ones.

    Tasks held by anyone in `keep` (the head's approvals and escalations) stay unless the
    scope names their holder: moving a client's calls never hands the head's decisions on.
    """
    if not to:
        raise AssignmentError("the new assignee is empty")
    if scope.from_assignee is not None and scope.from_assignee == to:
        raise AssignmentError(f"the tasks already belong to {to}")
    kept = set(keep) - {scope.from_assignee}
    moved = []
    for task in tasks:
        if scope.covers(task) and task.assignee != to and task.assignee not in kept:
            task.reassign(to, at)
            moved.append(task)
    return moved


@dataclass(frozen=True)
class RoutingRule:
    """A standing move: new tasks of `function` meant for `from_assignee` go to `to_assignee`.

    `from_assignee` None means any person or the function's queue (never the head's own
    approvals: delegating those needs `from_assignee` = the head, said explicitly).
    """

    function: Function
    from_assignee: str | None
    to_assignee: str

    def applies(self, function: Function, assignee: str, head: str) -> bool:
        if function is not self.function:
            return False
        if self.from_assignee is None:
            return assignee != head
        return assignee == self.from_assignee


def route(assignee: str, function: Function, rules: Sequence[RoutingRule], head: str) -> str:
    """The assignee after the standing moves; a rule for the exact person wins over 'any'."""
    matching = [r for r in rules if r.applies(function, assignee, head)]
    chosen = [r for r in matching if r.from_assignee is not None] or matching
    return chosen[0].to_assignee if chosen else assignee


def routed(
    drafts: Sequence[TaskDraft], rules: Sequence[RoutingRule], head: str
) -> list[TaskDraft]:
    """Task drafts with their assignees passed through the standing moves."""
    if not rules:
        return list(drafts)
    return [replace(d, assignee=route(d.assignee, d.function, rules, head)) for d in drafts]
