"""Which event makes whom do what: rules read from `task_rules.toml`, applied by a pure `plan`.

The rules are configuration, not code: each event type lists the tasks it creates, the tasks
it closes, the escalations it raises and the mails it sends. `plan(event_type, payload,
context)` turns one event into a `Plan`; `apply_plan` merges a plan into the tasks already
stored, so a repeated event updates its task instead of stacking a second one.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import holidays

from notifications.domain.mail_templates import (
    TEMPLATE_NAMES,
    MailTemplateError,
    format_date,
    format_datetime,
    format_money,
)
from notifications.domain.model import (
    ESCALATION_KIND,
    MOSCOW,
    Escalation,
    Function,
    MailDraft,
    Priority,
    Recipient,
    Task,
    TaskAction,
    TaskState,
    is_queue,
    queue_of,
    require_aware,
)

RULES_RESOURCE = "task_rules.toml"


class RuleError(ValueError):
    """The rules file is wrong; the message names the rule and what is wrong with it."""


class PlanError(ValueError):
    """An event's payload lacks what its rule needs (a contract break: dead-letter it)."""


# --- working-day calendar ---------------------------------------------------------------


@dataclass(frozen=True)
class WorkingCalendar:
    """Russian production calendar (the `holidays` RU data) plus this year's decree overrides.

    Working hours are 09:00-18:00 Moscow time; due times land inside them.
    """

    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    day_start: time = time(9)
    day_end: time = time(18)
    tz: ZoneInfo = MOSCOW
    _official: holidays.HolidayBase = field(
        default_factory=holidays.RU, repr=False, compare=False, hash=False
    )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        return bool(self._official.is_working_day(day))

    def step(self, day: date, direction: int) -> date:
        """The next (+1) or previous (-1) working day, not counting `day` itself."""
        day += timedelta(days=direction)
        while not self.is_working_day(day):
            day += timedelta(days=direction)
        return day

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_start, tzinfo=self.tz)

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_end, tzinfo=self.tz)

    def add_working_days(self, start: datetime | date, days: int) -> datetime:
        """End of the working day `days` working days after (or before, if negative) `start`.

        Zero means "by the end of today", where today is the first working day at or after a
        moment (after 18:00 or on a day off that is the next working day). A date counts as
        that whole day.
        """
        if isinstance(start, datetime):
            local = start.astimezone(self.tz)
            day = local.date()
            if days >= 0 and (not self.is_working_day(day) or local.time() >= self.day_end):
                day = self.step(day, +1)
        else:
            day = start
            if days >= 0 and not self.is_working_day(day):
                day = self.step(day, +1)
        for _ in range(abs(days)):
            day = self.step(day, 1 if days > 0 else -1)
        return self.end_of(day)

    def add_working_hours(self, start: datetime | date, hours: int) -> datetime:
        """`hours` working hours after (or before) `start`, skipping nights and days off."""
        moment = start.astimezone(self.tz) if isinstance(start, datetime) else self.start_of(start)
        remaining = timedelta(hours=abs(hours))
        if hours >= 0:
            while True:
                moment = self._forward_into_hours(moment)
                left = self.end_of(moment.date()) - moment
                if remaining <= left:
                    return moment + remaining
                remaining -= left
                moment = self.end_of(moment.date())
        while True:
            moment = self._backward_into_hours(moment)
            left = moment - self.start_of(moment.date())
            if remaining <= left:
                return moment - remaining
            remaining -= left
            moment = self.start_of(moment.date())

    def _forward_into_hours(self, moment: datetime) -> datetime:
        day = moment.date()
        if self.is_working_day(day) and moment.time() < self.day_end:
            return max(moment, self.start_of(day))
        return self.start_of(self.step(day, +1))

    def _backward_into_hours(self, moment: datetime) -> datetime:
        day = moment.date()
        if self.is_working_day(day) and moment.time() > self.day_start:
            return min(moment, self.end_of(day))
        return self.end_of(self.step(day, -1))


@cache
def standard_calendar() -> WorkingCalendar:
    """The packaged RU calendar without overrides, built once (its years fill in lazily)."""
    return WorkingCalendar()


# --- templates with {placeholders} --------------------------------------------------------

_FORMATS: Mapping[str, Callable[[Any], str]] = {
    "money": format_money,
    "date": format_date,
    "datetime": format_datetime,
}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_EVENT_TYPE = re.compile(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")
# names a title may use besides the event's own fields, filled from the projection
DERIVED_FIELDS = frozenset({"client_name"})


@dataclass(frozen=True)
class TextTemplate:
    """A `str.format` template limited to plain field names and our three formats."""

    source: str
    fields: tuple[str, ...]

    @classmethod
    def parse(
        cls, source: Any, *, allowed: Iterable[str], where: str, formats: bool = True
    ) -> TextTemplate:
        if not isinstance(source, str) or not source.strip():
            raise RuleError(f"{where}: expected a non-empty text template, got {source!r}")
        allowed = frozenset(allowed)
        try:
            parts = list(string.Formatter().parse(source))
        except ValueError as exc:
            raise RuleError(f"{where}: bad template {source!r}: {exc}") from None
        names: list[str] = []
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if not _IDENTIFIER.match(name):
                raise RuleError(
                    f"{where}: placeholder {{{name}}} must be a plain field name "
                    "(no positions, attributes or indexes)"
                )
            if conversion:
                raise RuleError(f"{where}: placeholder {{{name}!{conversion}}}: no conversions")
            if spec and (not formats or spec not in _FORMATS):
                known = ", ".join(sorted(_FORMATS)) if formats else "none here"
                raise RuleError(
                    f"{where}: placeholder {{{name}:{spec}}} has an unknown format ({known})"
                )
            if name not in allowed:
                raise RuleError(
                    f"{where}: placeholder {{{name}}} is not a field of this event "
                    f"(fields: {', '.join(sorted(allowed))})"
                )
            names.append(name)
        return cls(source=source, fields=tuple(dict.fromkeys(names)))

    def has_null(self, values: Mapping[str, Any]) -> bool:
        """True when a field the template uses is present and null."""
        return any(name in values and values[name] is None for name in self.fields)

    def render(self, values: Mapping[str, Any], *, where: str, none_ok: bool = True) -> str:
        """Fill the template; `none_ok=False` for keys, where a null would merge unrelated tasks."""
        for name in self.fields:
            if name not in values:
                raise PlanError(f"{where}: the payload has no field {name!r}")
            if not none_ok and values[name] is None:
                raise PlanError(f"{where}: field {name!r} is null")
        try:
            return _RuleFormatter().vformat(self.source, (), values)
        except MailTemplateError as exc:
            raise PlanError(f"{where}: {exc}") from exc


class _RuleFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "—"
        if format_spec:
            return _FORMATS[format_spec](value)
        return str(value)


# --- rule model ---------------------------------------------------------------------------


class Strategy(StrEnum):
    """How a task finds its assignee."""

    CLIENT_MANAGER = "client_manager"
    HEAD = "head"
    LAWYER_FROM_PAYLOAD = "lawyer_from_payload"
    FUNCTION_QUEUE = "function_queue"


class OnRepeat(StrEnum):
    """What a second event with the same dedupe key does to the still-active task."""

    UPDATE = "update"
    KEEP = "keep"


class MailTo(StrEnum):
    CLIENT = "client"
    CLIENT_MANAGER = "client_manager"
    HEAD = "head"


@dataclass(frozen=True)
class Condition:
    """`when = { field = value }` or `{ field = [values] }`: all listed fields must match."""

    field: str
    values: tuple[Any, ...]

    def holds(self, payload: Mapping[str, Any]) -> bool:
        actual = payload.get(self.field)
        # True == 1 in Python; a flag must not match a count
        return any(type(actual) is type(v) and actual == v for v in self.values)


@dataclass(frozen=True)
class Due:
    """A due time: N working hours or days from now, or from a date field of the payload."""

    amount: int
    unit: str  # "working_hours" | "working_days"
    anchor: str | None = None
    # used when the anchor field is null (a claim without an answer deadline)
    if_missing: Due | None = None

    def resolve(self, payload: Mapping[str, Any], context: PlanContext, *, where: str) -> datetime:
        calendar = context.calendar
        start: datetime | date = context.now
        if self.anchor is not None:
            if payload.get(self.anchor) is None and self.if_missing is not None:
                return self.if_missing.resolve(payload, context, where=f"{where}: if_missing")
            start = _parse_anchor(payload.get(self.anchor), where=f"{where}: field {self.anchor}")
        if self.unit == "working_hours":
            due = calendar.add_working_hours(start, self.amount)
        else:
            due = calendar.add_working_days(start, self.amount)
        if self.amount < 0 and due < context.now:
            # the lead time before the anchor is gone: due at the anchor itself
            due = (
                start.astimezone(calendar.tz)
                if isinstance(start, datetime)
                else calendar.end_of(start)
            )
        return due


@dataclass(frozen=True)
class PriorityRule:
    default: Priority
    by: str | None = None
    values: tuple[tuple[str, Priority], ...] = ()

    def resolve(self, payload: Mapping[str, Any]) -> Priority:
        if self.by is None:
            return self.default
        actual = payload.get(self.by)
        for value, priority in self.values:
            if str(actual) == value:
                return priority
        return self.default


@dataclass(frozen=True)
class TaskRule:
    kind: str
    action: TaskAction
    function: Function
    title: TextTemplate
    assignee: Strategy
    due: Due
    priority: PriorityRule
    key: TextTemplate
    on_repeat: OnRepeat = OnRepeat.KEEP
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class CloseRule:
    kind: str
    key: TextTemplate
    state: TaskState
    outcome: TextTemplate
    when: tuple[Condition, ...] = ()
    # the duty is over for good (a paid invoice): a late or replayed event never restarts it
    final: bool = False


@dataclass(frozen=True)
class EscalationRule:
    key: TextTemplate
    reason: TextTemplate
    function: Function
    due: Due
    priority: Priority = Priority.URGENT
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class MailRule:
    template: str
    to: MailTo
    key: TextTemplate | None = None
    attachments: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class ReassignRule:
    """Move a client's active tasks from the payload's `from` person to its `to` person."""

    from_field: str
    to_field: str


@dataclass(frozen=True)
class EventRule:
    event_type: str
    fields: frozenset[str]
    tasks: tuple[TaskRule, ...] = ()
    closes: tuple[CloseRule, ...] = ()
    escalations: tuple[EscalationRule, ...] = ()
    mails: tuple[MailRule, ...] = ()
    reassign: ReassignRule | None = None


@dataclass(frozen=True)
class OverdueRule:
    """The escalation every open task past its due time raises (once)."""

    reason: TextTemplate
    due: Due
    priority: Priority


@dataclass(frozen=True)
class MissingEmailRule:
    """The task a client mail becomes when no address is known for the client."""

    kind: str
    function: Function
    title: TextTemplate
    due: Due
    priority: Priority


OVERDUE_FIELDS = frozenset({"title", "assignee", "due_at", "kind", "function", "client_id"})
MISSING_EMAIL_FIELDS = frozenset({"template", "client_id", "client_name"})


# --- plans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanContext:
    """What the consumer knows besides the event: its projection, the head, the clock."""

    now: datetime
    head: str
    calendar: WorkingCalendar = field(default_factory=standard_calendar)
    client_manager: str | None = None
    client_name: str | None = None
    client_email: str | None = None
    event_id: str | None = None

    def __post_init__(self) -> None:
        require_aware("now", self.now)
        if not self.head:
            raise ValueError("the head's username is required")


@dataclass(frozen=True)
class TaskDraft:
    """A task to create, or to update when an active one with the same key exists."""

    kind: str
    action: TaskAction
    function: Function
    title: str
    assignee: str
    due_at: datetime
    priority: Priority
    dedupe_key: str
    on_repeat: OnRepeat
    client_id: str | None
    source_event: str
    source_event_id: str | None = None

    def to_task(self, task_id: UUID, now: datetime) -> Task:
        return Task(
            id=task_id,
            kind=self.kind,
            action=self.action,
            function=self.function,
            title=self.title,
            assignee=self.assignee,
            due_at=self.due_at,
            created_at=now,
            priority=self.priority,
            client_id=self.client_id,
            dedupe_key=self.dedupe_key,
            source_event=self.source_event,
            source_event_id=self.source_event_id,
        )


@dataclass(frozen=True)
class TaskClosure:
    """Close every active task of `kind` with `dedupe_key`: the event made it pointless."""

    kind: str
    dedupe_key: str
    state: TaskState
    outcome: str
    final: bool = False


@dataclass(frozen=True)
class Reassignment:
    """Move `client_id`'s active tasks of `previous` (None: of any queue) to `new`."""

    client_id: str
    previous: str | None
    new: str


@dataclass(frozen=True)
class Plan:
    event_type: str
    tasks: tuple[TaskDraft, ...] = ()
    closes: tuple[TaskClosure, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    mails: tuple[MailDraft, ...] = ()
    reassignments: tuple[Reassignment, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.tasks or self.closes or self.escalations or self.mails or self.reassignments
        )

    @property
    def task_keys(self) -> frozenset[str]:
        """The dedupe keys whose active tasks `apply_plan` needs to see."""
        return frozenset(d.dedupe_key for d in self.tasks) | frozenset(
            c.dedupe_key for c in self.closes
        )

    @property
    def finished_duties(self) -> frozenset[tuple[str, str]]:
        """(kind, key) of the duties this event ends for good (closures marked `final`)."""
        return frozenset((c.kind, c.dedupe_key) for c in self.closes if c.final)

    @property
    def drafted_duties(self) -> frozenset[tuple[str, str]]:
        return frozenset((d.kind, d.dedupe_key) for d in self.tasks)


@dataclass
class TaskChanges:
    created: list[Task] = field(default_factory=list)
    updated: list[Task] = field(default_factory=list)
    closed: list[Task] = field(default_factory=list)
    reassigned: list[Task] = field(default_factory=list)
    # drafts dropped because their duty was ended for good by an earlier event
    skipped: list[TaskDraft] = field(default_factory=list)


@dataclass(frozen=True)
class RuleSet:
    events: Mapping[str, EventRule]
    overdue: OverdueRule
    missing_email: MissingEmailRule

    def plan(self, event_type: str, payload: Mapping[str, Any], context: PlanContext) -> Plan:
        rule = self.events.get(event_type)
        if rule is None:
            return Plan(event_type=event_type)
        values = _values(payload, context)
        client_id = None if payload.get("client_id") is None else str(payload["client_id"])
        tasks: list[TaskDraft] = []
        closes: list[TaskClosure] = []
        escalations: list[Escalation] = []
        mails: list[MailDraft] = []
        reassignments: list[Reassignment] = []

        for task_rule in rule.tasks:
            if not _all_hold(task_rule.when, payload):
                continue
            where = f"{event_type}: task {task_rule.kind}"
            tasks.append(
                TaskDraft(
                    kind=task_rule.kind,
                    action=task_rule.action,
                    function=task_rule.function,
                    title=task_rule.title.render(values, where=f"{where}: title"),
                    assignee=_assignee(task_rule.assignee, task_rule.function, payload, context),
                    due_at=task_rule.due.resolve(payload, context, where=f"{where}: due"),
                    priority=task_rule.priority.resolve(payload),
                    dedupe_key=task_rule.key.render(values, where=f"{where}: key", none_ok=False),
                    on_repeat=task_rule.on_repeat,
                    client_id=client_id,
                    source_event=event_type,
                    source_event_id=context.event_id,
                )
            )
        for close_rule in rule.closes:
            if not _all_hold(close_rule.when, payload):
                continue
            where = f"{event_type}: closes {close_rule.kind}"
            if close_rule.key.has_null(values):
                # a key built on a null matches no task: there is nothing to close
                continue
            closes.append(
                TaskClosure(
                    kind=close_rule.kind,
                    dedupe_key=close_rule.key.render(values, where=f"{where}: key", none_ok=False),
                    state=close_rule.state,
                    outcome=close_rule.outcome.render(values, where=f"{where}: outcome"),
                    final=close_rule.final,
                )
            )
        for esc_rule in rule.escalations:
            if not _all_hold(esc_rule.when, payload):
                continue
            where = f"{event_type}: escalation {esc_rule.key.source}"
            escalations.append(
                Escalation(
                    cause_key=esc_rule.key.render(values, where=f"{where}: key", none_ok=False),
                    reason=esc_rule.reason.render(values, where=f"{where}: reason"),
                    head=context.head,
                    function=esc_rule.function,
                    raised_at=context.now,
                    due_at=esc_rule.due.resolve(payload, context, where=f"{where}: due"),
                    source=event_type,
                    client_id=client_id,
                    priority=esc_rule.priority,
                )
            )
        for mail_rule in rule.mails:
            if not _all_hold(mail_rule.when, payload):
                continue
            where = f"{event_type}: mail {mail_rule.template}"
            recipient = _mail_recipient(mail_rule.to, payload, context)
            if recipient is None:
                # nowhere to send it: the mail becomes a task so the gap is seen and fixed
                tasks.append(
                    self._missing_email_task(event_type, mail_rule, values, client_id, context)
                )
                continue
            key = (
                mail_rule.key.render(values, where=f"{where}: key", none_ok=False)
                if mail_rule.key
                else None
            )
            mails.append(
                MailDraft(
                    template=mail_rule.template,
                    to=recipient,
                    context=dict(values),
                    dedupe_key=key,
                    attachments=mail_rule.attachments,
                    sensitive=mail_rule.sensitive,
                )
            )
        if rule.reassign is not None and client_id is not None:
            new = payload.get(rule.reassign.to_field)
            previous = payload.get(rule.reassign.from_field)
            if new and new != previous:
                reassignments.append(
                    Reassignment(
                        client_id=client_id,
                        previous=None if previous is None else str(previous),
                        new=str(new),
                    )
                )
        return Plan(
            event_type=event_type,
            tasks=tuple(tasks),
            closes=tuple(closes),
            escalations=tuple(escalations),
            mails=tuple(mails),
            reassignments=tuple(reassignments),
        )

    def sensitive_fields(self, event_type: str) -> frozenset[str]:
        """Payload fields of this event that must never be stored (one-time passwords)."""
        rule = self.events.get(event_type)
        if rule is None:
            return frozenset()
        return frozenset(name for mail in rule.mails for name in mail.sensitive)

    def overdue_escalations(
        self, tasks: Iterable[Task], context: PlanContext
    ) -> tuple[Escalation, ...]:
        """Escalations for open tasks past their due time (the caller drops known keys).

        Snoozed tasks are parked by a decision and wait for their snooze to end; the head's
        own tasks and escalations never escalate to the head.
        """
        found: list[Escalation] = []
        for task in tasks:
            if (
                task.state is not TaskState.OPEN
                or task.due_at >= context.now
                or task.kind == ESCALATION_KIND
                or task.assignee == context.head
            ):
                continue
            values = {
                "title": task.title,
                "assignee": task.assignee,
                "due_at": task.due_at,
                "kind": task.kind,
                "function": str(task.function),
                "client_id": task.client_id,
            }
            found.append(
                Escalation.for_overdue_task(
                    task,
                    head=context.head,
                    reason=self.overdue.reason.render(values, where="overdue: reason"),
                    now=context.now,
                    due_at=self.overdue.due.resolve({}, context, where="overdue: due"),
                )
            )
        return tuple(found)

    def _missing_email_task(
        self,
        event_type: str,
        mail_rule: MailRule,
        values: Mapping[str, Any],
        client_id: str | None,
        context: PlanContext,
    ) -> TaskDraft:
        rule = self.missing_email
        fill = {
            "template": mail_rule.template,
            "client_id": client_id,
            "client_name": values["client_name"],
        }
        return TaskDraft(
            kind=rule.kind,
            action=TaskAction.DO,
            function=rule.function,
            title=rule.title.render(fill, where="missing_email: title"),
            assignee=_assignee(Strategy.CLIENT_MANAGER, rule.function, values, context),
            due_at=rule.due.resolve({}, context, where="missing_email: due"),
            priority=rule.priority,
            dedupe_key=f"{rule.kind}:{client_id}:{mail_rule.template}",
            on_repeat=OnRepeat.KEEP,
            client_id=client_id,
            source_event=event_type,
            source_event_id=context.event_id,
        )


def _values(payload: Mapping[str, Any], context: PlanContext) -> dict[str, Any]:
    values = dict(payload)
    if values.get("client_name") is None:
        # client.registered calls it "name"; other events rely on the projection
        values["client_name"] = (
            payload.get("name") or context.client_name or f"клиент #{payload.get('client_id', '—')}"
        )
    return values


def _all_hold(conditions: tuple[Condition, ...], payload: Mapping[str, Any]) -> bool:
    return all(c.holds(payload) for c in conditions)


def _assignee(
    strategy: Strategy, function: Function, payload: Mapping[str, Any], context: PlanContext
) -> str:
    if strategy is Strategy.HEAD:
        return context.head
    if strategy is Strategy.CLIENT_MANAGER:
        # the projection first; the producer's snapshot covers a client it has not seen yet
        manager = context.client_manager or payload.get("manager")
        return str(manager) if manager else queue_of(function)
    if strategy is Strategy.LAWYER_FROM_PAYLOAD:
        lawyer = payload.get("lawyer")
        return str(lawyer) if lawyer else queue_of(function)
    return queue_of(function)


def _mail_recipient(
    to: MailTo, payload: Mapping[str, Any], context: PlanContext
) -> Recipient | None:
    if to is MailTo.HEAD:
        return Recipient(username=context.head)
    if to is MailTo.CLIENT_MANAGER:
        manager = context.client_manager or payload.get("manager")
        return Recipient(username=str(manager)) if manager else None
    email = payload.get("email") or context.client_email
    return Recipient(email=str(email)) if email else None


def _parse_anchor(raw: Any, *, where: str) -> datetime | date:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=MOSCOW)
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else _aware(text)
        except ValueError:
            pass
    raise PlanError(f"{where}: expected an ISO date or date-time, got {raw!r}")


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


# --- apply a plan to the stored tasks -----------------------------------------------------


def apply_plan(
    plan: Plan,
    active: Iterable[Task],
    now: datetime,
    new_id: Callable[[], UUID] = uuid4,
    finished: Iterable[tuple[str, str]] = (),
) -> TaskChanges:
    """Merge `plan` into the active tasks it concerns; return what changed.

    `active` holds the open and snoozed tasks with the plan's keys (and, for a reassignment,
    the client's active tasks). Closures run first, so an event that both ends and restarts
    a duty gets a fresh task. `finished` holds the (kind, key) of duties an earlier event
    ended for good: a late or re-ordered event never brings them back (no one calls a client
    who has paid).
    """
    require_aware("now", now)
    over = set(finished)
    by_key: dict[tuple[str, str], list[Task]] = {}
    tasks = [t for t in active if t.is_active]
    for task in tasks:
        if task.dedupe_key is not None:
            by_key.setdefault((task.kind, task.dedupe_key), []).append(task)
    changes = TaskChanges()

    for closure in plan.closes:
        for task in by_key.pop((closure.kind, closure.dedupe_key), []):
            if task.close_by_event(closure.state, now, closure.outcome):
                changes.closed.append(task)

    for draft in plan.tasks:
        if (draft.kind, draft.dedupe_key) in over:
            changes.skipped.append(draft)
            continue
        existing = by_key.get((draft.kind, draft.dedupe_key))
        if not existing:
            task = draft.to_task(new_id(), now)
            by_key[(draft.kind, draft.dedupe_key)] = [task]
            changes.created.append(task)
            continue
        if draft.on_repeat is OnRepeat.UPDATE:
            for task in existing:
                task.refresh(
                    at=now,
                    title=draft.title,
                    due_at=draft.due_at,
                    priority=draft.priority,
                    # a repeat never takes a task from the person holding it (the head may
                    # have given it to someone); only a queue task finds its person
                    assignee=draft.assignee if is_queue(task.assignee) else task.assignee,
                    source_event=draft.source_event,
                    source_event_id=draft.source_event_id,
                )
                if task not in changes.created:
                    changes.updated.append(task)

    for move in plan.reassignments:
        for task in tasks:
            if task.client_id != move.client_id or not task.is_active:
                continue
            moving = (
                is_queue(task.assignee) if move.previous is None else task.assignee == move.previous
            )
            if moving:
                task.reassign(move.new, now)
                changes.reassigned.append(task)
    return changes


# --- loading and validating the TOML ------------------------------------------------------


class _Table:
    """A TOML table being read: typed access, and an error for keys nobody read (typos)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise RuleError(f"{where}: expected a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where
        self.seen: set[str] = set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise RuleError(f"{self.where}: missing {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise RuleError(f"{self.where}: {key!r} must be {names}, got {value!r}")
        return value

    def choice(self, key: str, enum: type[StrEnum], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is default and default is not ...:
            return default
        try:
            return enum(value)
        except ValueError:
            known = ", ".join(m.value for m in enum)
            raise RuleError(f"{self.where}: unknown {key} {value!r} (known: {known})") from None

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise RuleError(f"{self.where}: unknown keys {', '.join(unknown)}")


def _parse_due(raw: Any, fields: frozenset[str], where: str) -> Due:
    table = _Table(raw, f"{where}: due")
    hours = table.get("working_hours", int, None)
    days = table.get("working_days", int, None)
    anchor = table.get("from", str, None)
    missing_raw = table.get("if_missing", dict, None)
    table.finish()
    if (hours is None) == (days is None):
        raise RuleError(f"{where}: due needs exactly one of working_hours, working_days")
    if anchor is not None and anchor not in fields:
        raise RuleError(f"{where}: due from {anchor!r} is not a field of this event")
    if missing_raw is not None and anchor is None:
        raise RuleError(f"{where}: due if_missing needs a 'from' field that may be missing")
    if_missing = None
    if missing_raw is not None:
        if_missing = _parse_due(missing_raw, frozenset(), f"{where}: if_missing")
    if hours is not None:
        return Due(amount=hours, unit="working_hours", anchor=anchor, if_missing=if_missing)
    return Due(amount=days, unit="working_days", anchor=anchor, if_missing=if_missing)


def _parse_priority(raw: Any, fields: frozenset[str], where: str) -> PriorityRule:
    if isinstance(raw, str):
        return PriorityRule(default=_priority(raw, where))
    table = _Table(raw, f"{where}: priority")
    by = table.get("by", str)
    if by not in fields:
        raise RuleError(f"{where}: priority by {by!r} is not a field of this event")
    mapping = table.get("map", dict)
    default = _priority(table.get("default", str, "normal"), where)
    table.finish()
    values = tuple((str(k), _priority(v, where)) for k, v in mapping.items())
    return PriorityRule(default=default, by=by, values=values)


def _priority(raw: Any, where: str) -> Priority:
    try:
        return Priority(raw)
    except ValueError:
        known = ", ".join(p.value for p in Priority)
        raise RuleError(f"{where}: unknown priority {raw!r} (known: {known})") from None


def _parse_when(raw: Any, fields: frozenset[str], where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    table = _Table(raw, f"{where}: when")
    conditions = []
    for name, value in table.data.items():
        if name not in fields:
            raise RuleError(f"{where}: when {name!r} is not a field of this event")
        values = tuple(value) if isinstance(value, list) else (value,)
        conditions.append(Condition(field=name, values=values))
    return tuple(conditions)


def _parse_task(raw: Any, fields: frozenset[str], where: str) -> TaskRule:
    table = _Table(raw, where)
    kind = table.get("kind", str)
    where = f"{where} ({kind})"
    table.where = where
    allowed = fields | DERIVED_FIELDS
    rule = TaskRule(
        kind=kind,
        action=table.choice("action", TaskAction),
        function=table.choice("function", Function),
        title=TextTemplate.parse(table.get("title", str), allowed=allowed, where=f"{where}: title"),
        assignee=table.choice("assignee", Strategy),
        due=_parse_due(table.get("due", dict), fields, where),
        priority=_parse_priority(table.get("priority", (str, dict), "normal"), fields, where),
        key=TextTemplate.parse(
            table.get("key", str), allowed=fields, where=f"{where}: key", formats=False
        ),
        on_repeat=table.choice("on_repeat", OnRepeat, OnRepeat.KEEP),
        when=_parse_when(table.get("when", dict, None), fields, where),
    )
    table.finish()
    if rule.assignee is Strategy.LAWYER_FROM_PAYLOAD and "lawyer" not in fields:
        raise RuleError(f"{where}: assignee lawyer_from_payload needs a 'lawyer' field")
    return rule


def _parse_close(raw: Any, fields: frozenset[str], where: str) -> CloseRule:
    table = _Table(raw, where)
    kind = table.get("kind", str)
    where = f"{where} ({kind})"
    table.where = where
    state = table.choice("state", TaskState)
    if state not in (TaskState.DONE, TaskState.CANCELLED):
        raise RuleError(f"{where}: an event closes a task as done or cancelled, not {state}")
    rule = CloseRule(
        kind=kind,
        key=TextTemplate.parse(
            table.get("key", str), allowed=fields, where=f"{where}: key", formats=False
        ),
        state=state,
        outcome=TextTemplate.parse(
            table.get("outcome", str), allowed=fields | DERIVED_FIELDS, where=f"{where}: outcome"
        ),
        when=_parse_when(table.get("when", dict, None), fields, where),
        final=table.get("final", bool, False),
    )
    table.finish()
    return rule


def _parse_escalation(
    raw: Any, fields: frozenset[str], where: str, default_due: Due
) -> EscalationRule:
    table = _Table(raw, where)
    key = TextTemplate.parse(
        table.get("key", str), allowed=fields, where=f"{where}: key", formats=False
    )
    where = f"{where} ({key.source})"
    table.where = where
    due_raw = table.get("due", dict, None)
    rule = EscalationRule(
        key=key,
        reason=TextTemplate.parse(
            table.get("reason", str), allowed=fields | DERIVED_FIELDS, where=f"{where}: reason"
        ),
        function=table.choice("function", Function),
        due=default_due if due_raw is None else _parse_due(due_raw, fields, where),
        priority=_priority(table.get("priority", str, "urgent"), where),
        when=_parse_when(table.get("when", dict, None), fields, where),
    )
    table.finish()
    return rule


def _parse_mail(raw: Any, fields: frozenset[str], where: str) -> MailRule:
    table = _Table(raw, where)
    template = table.get("template", str)
    where = f"{where} ({template})"
    table.where = where
    if template not in TEMPLATE_NAMES:
        known = ", ".join(sorted(TEMPLATE_NAMES))
        raise RuleError(f"{where}: unknown mail template {template!r} (known: {known})")
    key_raw = table.get("key", str, None)
    sensitive = tuple(table.get("sensitive", list, []))
    rule = MailRule(
        template=template,
        to=table.choice("to", MailTo),
        key=None
        if key_raw is None
        else TextTemplate.parse(key_raw, allowed=fields, where=f"{where}: key", formats=False),
        attachments=tuple(str(a) for a in table.get("attachments", list, [])),
        sensitive=tuple(str(s) for s in sensitive),
        when=_parse_when(table.get("when", dict, None), fields, where),
    )
    table.finish()
    if rule.to is MailTo.CLIENT and "client_id" not in fields and "email" not in fields:
        raise RuleError(f"{where}: a client mail needs a client_id or email field")
    return rule


def _parse_event(event_type: str, raw: Any, default_due: Due) -> EventRule:
    where = f"rule {event_type}"
    if not _EVENT_TYPE.match(event_type):
        raise RuleError(f"{where}: event type must look like service.entity.verb")
    table = _Table(raw, where)
    field_list = table.get("fields", list)
    if not all(isinstance(f, str) and _IDENTIFIER.match(f) for f in field_list):
        raise RuleError(f"{where}: fields must be a list of field names")
    fields = frozenset(field_list)

    def each(name: str) -> list[tuple[Any, str]]:
        items = table.get(name, list, [])
        return [(item, f"{where}: {name}[{i}]") for i, item in enumerate(items)]

    reassign = None
    reassign_raw = table.get("reassign", dict, None)
    if reassign_raw is not None:
        r = _Table(reassign_raw, f"{where}: reassign")
        reassign = ReassignRule(from_field=r.get("from", str), to_field=r.get("to", str))
        r.finish()
        for name in (reassign.from_field, reassign.to_field):
            if name not in fields:
                raise RuleError(f"{where}: reassign field {name!r} is not a field of this event")
    rule = EventRule(
        event_type=event_type,
        fields=fields,
        tasks=tuple(_parse_task(item, fields, w) for item, w in each("tasks")),
        closes=tuple(_parse_close(item, fields, w) for item, w in each("closes")),
        escalations=tuple(
            _parse_escalation(item, fields, w, default_due) for item, w in each("escalations")
        ),
        mails=tuple(_parse_mail(item, fields, w) for item, w in each("mails")),
        reassign=reassign,
    )
    table.finish()
    return rule


def parse_rules(data: Mapping[str, Any], *, source: str = "rules") -> RuleSet:
    """Validate parsed TOML into a `RuleSet`; every error names the rule it is about."""
    root = _Table(dict(data), source)
    if root.get("schema", int) != 1:
        raise RuleError(f"{source}: unsupported schema {data.get('schema')!r} (expected 1)")

    overdue_table = _Table(root.get("overdue", dict), "overdue")
    overdue = OverdueRule(
        reason=TextTemplate.parse(
            overdue_table.get("reason", str), allowed=OVERDUE_FIELDS, where="overdue: reason"
        ),
        due=_parse_due(overdue_table.get("due", dict), frozenset(), "overdue"),
        priority=_priority(overdue_table.get("priority", str, "urgent"), "overdue"),
    )
    overdue_table.finish()

    missing_table = _Table(root.get("missing_email", dict), "missing_email")
    missing = MissingEmailRule(
        kind=missing_table.get("kind", str),
        function=missing_table.choice("function", Function),
        title=TextTemplate.parse(
            missing_table.get("title", str),
            allowed=MISSING_EMAIL_FIELDS,
            where="missing_email: title",
        ),
        due=_parse_due(missing_table.get("due", dict), frozenset(), "missing_email"),
        priority=_priority(missing_table.get("priority", str, "normal"), "missing_email"),
    )
    missing_table.finish()

    events_table = _Table(root.get("events", dict), f"{source}: events")
    events = {
        event_type: _parse_event(event_type, raw, overdue.due)
        for event_type, raw in events_table.data.items()
    }
    events_table.seen.update(events)
    events_table.finish()
    root.finish()
    return RuleSet(events=events, overdue=overdue, missing_email=missing)


def load_rules(text: str, *, source: str = "rules") -> RuleSet:
    """Parse and validate rules from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: not valid TOML: {exc}") from exc
    return parse_rules(data, source=source)


@cache
def default_rules() -> RuleSet:
    """The rules shipped with the service (`notifications/task_rules.toml`), read once."""
    text = resources.files("notifications").joinpath(RULES_RESOURCE).read_text(encoding="utf-8")
    return load_rules(text, source=RULES_RESOURCE)


def plan(
    event_type: str,
    payload: Mapping[str, Any],
    context: PlanContext,
    rules: RuleSet | None = None,
) -> Plan:
    """What one event asks of people: tasks to create/update/close, escalations, mails."""
    return (rules or default_rules()).plan(event_type, payload, context)
