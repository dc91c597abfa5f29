"""Work orders (seed 004 §2), the equipment they leave at a site, downtime incidents (004 §7).

Plain Python: the state machine and its rules; persistence is the adapters' business.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from clientops_shared.errors import Conflict, InvalidInput


def _now() -> datetime:
    return datetime.now(UTC)


class WorkOrderKind(StrEnum):
    INSTALL = "install"
    REMOVE = "remove"
    REPAIR = "repair"
    REINFORCE = "reinforce"
    REPLACE = "replace"
    REPAINT = "repaint"
    MAINTENANCE = "maintenance"
    EMERGENCY = "emergency"


KIND_LABELS: dict[str, str] = {
    "install": "Установка", "remove": "Снятие", "repair": "Ремонт", "reinforce": "Укрепление",
    "replace": "Замена", "repaint": "Покраска", "maintenance": "Техобслуживание",
    "emergency": "Аварийный выезд",
}


class WorkOrderStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    DONE = "done"
    NOT_DONE = "not_done"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[str, str] = {
    "draft": "Черновик", "approved": "Утверждена", "rejected": "Отклонена",
    "scheduled": "Назначена", "done": "Выполнена", "not_done": "Не выполнена",
    "cancelled": "Отменена",
}

FINAL = frozenset({WorkOrderStatus.DONE, WorkOrderStatus.CANCELLED, WorkOrderStatus.REJECTED})


class Outcome(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"


class EquipmentType(StrEnum):
    TERMINAL = "terminal"
    BARRIER = "barrier"
    TURNSTILE = "turnstile"
    BOOM = "boom"
    CONTROLLER = "controller"


EQUIPMENT_LABELS: dict[str, str] = {
    "terminal": "Терминал", "barrier": "Шлагбаум", "turnstile": "Турникет", "boom": "Стрела",
    "controller": "Контроллер",
}

# kinds whose completion puts equipment on the site / takes it off
INSTALLS = frozenset({WorkOrderKind.INSTALL})
REMOVES = frozenset({WorkOrderKind.REMOVE})


def journal_number(year: int, seq: int) -> str:
    """The journal's printed number: year and a gap-free sequence within it."""
    return f"{year}-{seq:04d}"


def illegal(order: WorkOrder, action: str) -> Conflict:
    label = STATUS_LABELS[order.status.value]
    return Conflict(f"Нельзя {action}: заявка в состоянии «{label}»",
                    current_state=order.status.value, current_state_label=label)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str


@dataclass(eq=False)
class WorkOrder:
    client_id: uuid.UUID
    site_id: uuid.UUID
    kind: WorkOrderKind
    description: str
    created_by: str
    contract_id: uuid.UUID | None = None
    status: WorkOrderStatus = WorkOrderStatus.DRAFT
    origin: str = "manual"
    awaiting_goods: bool = False
    incident_id: uuid.UUID | None = None
    journal_year: int | None = None
    journal_seq: int | None = None
    journal_number: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    decision_reason: str | None = None
    visit_on: date | None = None
    window: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    technician: str | None = None
    contractor_id: uuid.UUID | None = None
    agreed_price: Decimal | None = None
    reschedule_count: int = 0
    not_done_reason: str | None = None
    completed_on: date | None = None
    completed_at: datetime | None = None
    due_by: date | None = None
    due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)

    # --- 004 §2.2–2.3: the head signs it; it is registered in the journal ----------------
    def check_approvable(self) -> None:
        """Checked before a journal number is taken, so a refusal costs no number."""
        if self.status is not WorkOrderStatus.DRAFT:
            raise illegal(self, "утвердить")

    def approve(self, *, by: str, year: int, seq: int, at: datetime) -> None:
        self.check_approvable()
        self.status = WorkOrderStatus.APPROVED
        self.approved_by, self.approved_at = by, at
        self.journal_year, self.journal_seq = year, seq
        self.journal_number = journal_number(year, seq)
        self.updated_at = at

    def reject(self, *, by: str, reason: str, at: datetime) -> None:
        if self.status is not WorkOrderStatus.DRAFT:
            raise illegal(self, "отклонить")
        self.status = WorkOrderStatus.REJECTED
        self.approved_by, self.approved_at, self.decision_reason = by, at, reason
        self.updated_at = at

    # --- 2.4 / 2.11: date, window and the site contact agreed; moved again when not done ---
    def schedule(self, *, visit_on: date, window: str | None, contact: Contact,
                 technician: str | None, today: date, at: datetime,
                 contractor_id: uuid.UUID | None = None,
                 agreed_price: Decimal | None = None) -> bool:
        """Returns True when this is a reschedule (counted per order)."""
        if self.status not in (WorkOrderStatus.APPROVED, WorkOrderStatus.SCHEDULED,
                               WorkOrderStatus.NOT_DONE):
            raise illegal(self, "назначить выезд")
        if self.awaiting_goods:
            raise Conflict("Нельзя назначить выезд: оборудование ещё не доставлено",
                           current_state=self.status.value,
                           current_state_label=STATUS_LABELS[self.status.value],
                           awaiting_goods=True)
        if visit_on < today:
            raise InvalidInput("visit_on", "дата выезда уже прошла")
        if (technician is None) == (contractor_id is None):
            raise InvalidInput("technician", "укажите техника или подрядчика (одного из двух)")
        again = self.status is not WorkOrderStatus.APPROVED
        if again:
            self.reschedule_count += 1
        self.status = WorkOrderStatus.SCHEDULED
        self.visit_on, self.window, self.technician = visit_on, window, technician
        self.contractor_id, self.agreed_price = contractor_id, agreed_price
        self.contact_name, self.contact_phone = contact.name, contact.phone
        self.not_done_reason = None
        self.updated_at = at
        return again

    # --- 2.10: the technician's end-of-day report ----------------------------------------
    def report(self, *, outcome: Outcome, reason: str | None, on: date, at: datetime) -> None:
        if self.status is not WorkOrderStatus.SCHEDULED:
            raise illegal(self, "отчитаться о выезде")
        if outcome is Outcome.NOT_DONE:
            if not reason:
                raise InvalidInput("reason", "укажите причину, по которой работы не выполнены")
            self.status = WorkOrderStatus.NOT_DONE
            self.not_done_reason = reason
        else:
            self.status = WorkOrderStatus.DONE
            self.completed_on, self.completed_at = on, at
        self.updated_at = at

    def cancel(self, *, reason: str, at: datetime) -> None:
        if self.status in FINAL:
            raise illegal(self, "отменить")
        self.status = WorkOrderStatus.CANCELLED
        self.decision_reason = reason
        self.updated_at = at

    def goods_delivered(self, at: datetime) -> None:
        self.awaiting_goods = False
        self.updated_at = at

    @property
    def open(self) -> bool:
        return self.status not in FINAL


class IncidentState(StrEnum):
    OPEN = "open"
    CAUSE_FOUND = "cause_found"
    RESOLVED = "resolved"


INCIDENT_LABELS: dict[str, str] = {
    "open": "Открыт", "cause_found": "Причина выяснена", "resolved": "Устранён",
}


class IncidentSource(StrEnum):
    MONITORING = "monitoring"
    CLIENT = "client"
    MANUAL = "manual"


@dataclass(eq=False)
class DowntimeIncident:
    client_id: uuid.UUID
    site_id: uuid.UUID
    started_at: datetime
    source: IncidentSource
    reported_by: str
    serial: str | None = None
    description: str | None = None
    state: IncidentState = IncidentState.OPEN
    cause: str | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def _conflict(self, action: str) -> Conflict:
        label = INCIDENT_LABELS[self.state.value]
        return Conflict(f"Нельзя {action}: простой в состоянии «{label}»",
                        current_state=self.state.value, current_state_label=label)

    def record_cause(self, cause: str) -> None:
        if self.state is IncidentState.RESOLVED:
            raise self._conflict("записать причину")
        self.cause = cause
        self.state = IncidentState.CAUSE_FOUND

    def resolve(self, at: datetime, cause: str | None) -> None:
        if self.state is IncidentState.RESOLVED:
            raise self._conflict("закрыть")
        if at < self.started_at:
            raise InvalidInput("resolved_at", "простой не может закончиться раньше начала")
        if cause:
            self.cause = cause
        self.state = IncidentState.RESOLVED
        self.resolved_at = at
