"""The work queue's domain: tasks with their state machine, escalations, mail deliveries.

Plain Python, no I/O. Every timestamp is timezone-aware; business rules read them in
Europe/Moscow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
QUEUE_PREFIX = "queue:"


class DomainError(Exception):
    """A rule of the work queue was broken; the message says which one."""


class IllegalTransition(DomainError):
    def __init__(self, task_id: UUID, current: TaskState, wanted: TaskState) -> None:
        super().__init__(f"task {task_id} is {current}: cannot move it to {wanted}")
        self.task_id = task_id
        self.current = current
        self.wanted = wanted


class Function(StrEnum):
    """A slice of the account manager's job that one team can own (ARCHITECTURE §1)."""

    CONTRACTS = "contracts"
    BILLING = "billing"
    FIELD_OPS = "field_ops"
    LOGISTICS = "logistics"
    CLAIMS = "claims"
    SUPPORT = "support"


class TaskAction(StrEnum):
    CALL = "call"
    APPROVE = "approve"
    CHECK = "check"
    DO = "do"


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    SNOOZED = "snoozed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Higher is more pressing; lists sort by (-rank, due_at)."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}

_ALLOWED: Mapping[TaskState, frozenset[TaskState]] = MappingProxyType(
    {
        TaskState.OPEN: frozenset({TaskState.DONE, TaskState.CANCELLED, TaskState.SNOOZED}),
        TaskState.SNOOZED: frozenset({TaskState.OPEN}),
        TaskState.DONE: frozenset(),
        TaskState.CANCELLED: frozenset(),
    }
)
ACTIVE_STATES = frozenset({TaskState.OPEN, TaskState.SNOOZED})
ESCALATION_KIND = "escalation"


def queue_of(function: Function) -> str:
    """The assignee name of a function's shared queue (used when a client has no manager)."""
    return f"{QUEUE_PREFIX}{function}"


def is_queue(assignee: str) -> bool:
    return assignee.startswith(QUEUE_PREFIX)


def require_aware(name: str, moment: datetime | None) -> None:
    # naive datetimes silently mean "server local time"; business rules need Moscow time
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


@dataclass(eq=False)
class Task:
    """One duty that needs a person: call, approve, check or do something for a client."""

    id: UUID
    kind: str
    action: TaskAction
    function: Function
    title: str
    assignee: str
    due_at: datetime
    created_at: datetime
    priority: Priority = Priority.NORMAL
    client_id: str | None = None
    dedupe_key: str | None = None
    source_event: str | None = None
    source_event_id: str | None = None
    state: TaskState = TaskState.OPEN
    outcome: str | None = None
    done_at: datetime | None = None
    snoozed_until: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("due_at", "created_at", "done_at", "snoozed_until", "updated_at"):
            require_aware(name, getattr(self, name))
        if not self.assignee:
            raise DomainError(f"task {self.kind!r} has no assignee")

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def is_overdue(self, now: datetime) -> bool:
        # a snooze parks a task, it does not hide that its due time has passed
        return self.is_active and self.due_at < now

    def complete(self, at: datetime, outcome: str | None = None) -> None:
        self._move(TaskState.DONE, at)
        self.outcome = outcome
        self.done_at = at

    def cancel(self, at: datetime, outcome: str | None = None) -> None:
        self._move(TaskState.CANCELLED, at)
        self.outcome = outcome
        self.done_at = at

    def snooze(self, until: datetime, at: datetime, outcome: str | None = None) -> None:
        """Park the task until `until`; `outcome` notes why (e.g. "no answer, call again")."""
        require_aware("until", until)
        if until <= at:
            raise DomainError(f"task {self.id}: snooze until {until} is not in the future")
        self._move(TaskState.SNOOZED, at)
        self.snoozed_until = until
        if outcome is not None:
            self.outcome = outcome

    def reopen(self, at: datetime) -> None:
        self._move(TaskState.OPEN, at)
        self.snoozed_until = None

    def wake_if_due(self, now: datetime) -> bool:
        """Reopen a snoozed task whose snooze has ended; True when it did."""
        if (
            self.state is TaskState.SNOOZED
            and self.snoozed_until is not None
            and self.snoozed_until <= now
        ):
            self.reopen(now)
            return True
        return False

    def close_by_event(self, state: TaskState, at: datetime, outcome: str | None) -> bool:
        """Close a task a later event made pointless; False if it was already closed.

        A snoozed task is first woken so the state machine stays the one documented
        (snoozed -> open -> done | cancelled) and its history shows both steps.
        """
        if not self.is_active:
            return False
        if self.state is TaskState.SNOOZED:
            self.reopen(at)
        if state is TaskState.DONE:
            self.complete(at, outcome)
        elif state is TaskState.CANCELLED:
            self.cancel(at, outcome)
        else:
            raise DomainError(f"an event can close a task only as done or cancelled, not {state}")
        return True

    def refresh(
        self,
        *,
        at: datetime,
        title: str,
        due_at: datetime,
        priority: Priority,
        assignee: str,
        source_event: str | None,
        source_event_id: str | None,
    ) -> None:
        """Take a repeated event's newer facts instead of stacking a second task."""
        if not self.is_active:
            raise DomainError(f"task {self.id} is {self.state}: a closed task is not updated")
        require_aware("due_at", due_at)
        self.title = title
        self.due_at = due_at
        self.priority = priority
        self.assignee = assignee
        self.source_event = source_event
        self.source_event_id = source_event_id
        self.updated_at = at

    def reassign(self, assignee: str, at: datetime) -> None:
        if not self.is_active:
            raise DomainError(f"task {self.id} is {self.state}: a closed task keeps its assignee")
        if not assignee:
            raise DomainError(f"task {self.id}: empty assignee")
        self.assignee = assignee
        self.updated_at = at

    def _move(self, wanted: TaskState, at: datetime) -> None:
        require_aware("at", at)
        if wanted not in _ALLOWED[self.state]:
            raise IllegalTransition(self.id, self.state, wanted)
        self.state = wanted
        self.updated_at = at


@dataclass(frozen=True)
class Recipient:
    """Who a mail goes to: a client's address, or a staff username the app resolves."""

    email: str | None = None
    username: str | None = None

    def __post_init__(self) -> None:
        if (self.email is None) == (self.username is None):
            raise DomainError("a recipient is either an e-mail address or a username")


@dataclass(frozen=True)
class MailDraft:
    """A mail to render from `template` with `context` and send to `to`.

    `dedupe_key` makes a mail go out once (credentials, the invoice of a period);
    `sensitive` names context fields that must never be stored (a one-time password).
    `attachments` names what the sender must fetch and attach, e.g. "invoice_pdf".
    """

    template: str
    to: Recipient
    context: Mapping[str, Any]
    dedupe_key: str | None = None
    attachments: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()

    def stored_context(self) -> dict[str, Any]:
        """The context as it may be written to the delivery log: secrets masked."""
        # an absent secret stays absent: "***" would print as if it were a password
        return {k: ("***" if k in self.sensitive and v else v) for k, v in self.context.items()}


@dataclass(frozen=True)
class Escalation:
    """A cause the head must look at: a task for the head and an e-mail, once per cause."""

    cause_key: str
    reason: str
    head: str
    function: Function
    raised_at: datetime
    due_at: datetime
    source: str
    client_id: str | None = None
    priority: Priority = Priority.URGENT

    def __post_init__(self) -> None:
        require_aware("raised_at", self.raised_at)
        require_aware("due_at", self.due_at)

    @property
    def key(self) -> str:
        """Unique per cause: a second escalation with the same key is dropped."""
        return f"escalation:{self.cause_key}"

    @classmethod
    def for_overdue_task(
        cls, task: Task, *, head: str, reason: str, now: datetime, due_at: datetime
    ) -> Escalation:
        # the task id, not its key: each overdue task escalates once, even a repeat reminder
        return cls(
            cause_key=f"overdue:{task.id}",
            reason=reason,
            head=head,
            function=task.function,
            raised_at=now,
            due_at=due_at,
            source="task.overdue",
            client_id=task.client_id,
        )

    def to_task(self, task_id: UUID) -> Task:
        return Task(
            id=task_id,
            kind=ESCALATION_KIND,
            action=TaskAction.CHECK,
            function=self.function,
            title=self.reason,
            assignee=self.head,
            due_at=self.due_at,
            created_at=self.raised_at,
            priority=self.priority,
            client_id=self.client_id,
            dedupe_key=self.key,
            source_event=self.source,
        )

    def mail(self) -> MailDraft:
        return MailDraft(
            template="escalation",
            to=Recipient(username=self.head),
            context={
                "reason": self.reason,
                "function": str(self.function),
                "client_id": self.client_id,
                "source": self.source,
                "raised_at": self.raised_at,
                "due_at": self.due_at,
            },
            dedupe_key=self.key,
        )


def new_escalations(candidates: Iterable[Escalation], seen_keys: Iterable[str]) -> list[Escalation]:
    """Keep only causes not escalated before (nor twice in this batch)."""
    seen = set(seen_keys)
    fresh: list[Escalation] = []
    for escalation in candidates:
        if escalation.key not in seen:
            seen.add(escalation.key)
            fresh.append(escalation)
    return fresh


# --- mail delivery -----------------------------------------------------------------------

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 10


def next_retry_at(
    attempts: int,
    now: datetime,
    *,
    base: timedelta = RETRY_BASE,
    cap: timedelta = RETRY_CAP,
) -> datetime:
    """When to try again after `attempts` failed tries: base × 2^(attempts−1), capped.

    30 s, 1 min, 2 min, 4 min … up to an hour: quick recovery from a blip without
    hammering a server that is down.
    """
    if attempts < 1:
        raise ValueError(f"attempts counts failed tries and starts at 1, got {attempts}")
    require_aware("now", now)
    # cap the exponent too, so a huge attempt count cannot overflow timedelta
    exponent = min(attempts - 1, 32)
    return now + min(base * (2**exponent), cap)


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # an attempt started and may have reached the server: "maybe sent"
    SENT = "sent"
    FAILED = "failed"


@dataclass(eq=False)
class MailDelivery:
    """The delivery state of one mail: pending until sent, retried with back-off, or failed."""

    id: UUID
    template: str
    to: str
    created_at: datetime
    dedupe_key: str | None = None
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    max_attempts: int = field(default=MAX_ATTEMPTS)

    def __post_init__(self) -> None:
        require_aware("created_at", self.created_at)
        if self.next_attempt_at is None and self.state is DeliveryState.PENDING:
            self.next_attempt_at = self.created_at

    def is_due(self, now: datetime) -> bool:
        return (
            self.state is DeliveryState.PENDING
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    def start_attempt(self, at: datetime) -> bool:
        """Record that a try begins, before the mail is handed to the server.

        Returns True when an earlier try was left in ``sending`` (the process died while
        sending): the mail may have gone out, so the caller resends it under the same
        Message-ID, which makes a duplicate recognisable.
        """
        if self.state not in (DeliveryState.PENDING, DeliveryState.SENDING):
            raise DomainError(f"delivery {self.id} is {self.state}: only a pending mail is sent")
        maybe_sent = self.state is DeliveryState.SENDING
        self.attempts += 1
        self.state = DeliveryState.SENDING
        self.next_attempt_at = None
        return maybe_sent

    def _finish_attempt(self, verb: str) -> None:
        if self.state is DeliveryState.PENDING:
            self.attempts += 1  # a try that was not recorded as started
        elif self.state is not DeliveryState.SENDING:
            raise DomainError(f"delivery {self.id} is {self.state}: only a pending mail {verb}")

    def mark_sent(self, at: datetime) -> None:
        self._finish_attempt("is sent")
        self.state = DeliveryState.SENT
        self.sent_at = at
        self.next_attempt_at = None
        self.last_error = None

    def mark_failed(self, at: datetime, error: str, *, retryable: bool) -> None:
        """Record a failed try; schedule the next one or give up."""
        self._finish_attempt("can fail")
        self.last_error = error
        if retryable and self.attempts < self.max_attempts:
            self.state = DeliveryState.PENDING
            self.next_attempt_at = next_retry_at(self.attempts, at)
        else:
            self.state = DeliveryState.FAILED
            self.next_attempt_at = None
