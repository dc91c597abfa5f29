"""Events published by the field-ops service."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from clientops_shared.events.base import Event


class WorkOrderCreated(Event):
    TYPE = "field_ops.work_order.created"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    journal_no: str
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    kind: str
    needs_approval: bool = False
    due_by: date | None = None
    # additive (v1): the Russian name of the kind, the contract, what to do, the SLA moment
    kind_label: str | None = None
    contract_id: uuid.UUID | None = None
    description: str | None = None
    due_at: datetime | None = None


class WorkOrderApproved(Event):
    """The head signed the order; it is registered in the journal under ``journal_no``."""

    TYPE = "field_ops.work_order.approved"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    journal_no: str
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    kind: str
    approved_by: str


class WorkOrderRejected(Event):
    TYPE = "field_ops.work_order.rejected"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    decided_by: str
    reason: str


class WorkOrderCancelled(Event):
    TYPE = "field_ops.work_order.cancelled"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    reason: str


class WorkOrderProblemReported(Event):
    """004 §2.9: the technician hit a problem on site; the head decides."""

    TYPE = "field_ops.work_order.problem_reported"
    AGGREGATE = ("work_order", "work_order_id")
    problem_id: uuid.UUID
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    journal_no: str | None = None
    description: str
    reported_by: str


class WorkOrderProblemDecided(Event):
    TYPE = "field_ops.work_order.problem_decided"
    AGGREGATE = ("work_order", "work_order_id")
    problem_id: uuid.UUID
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    decision: str
    decided_by: str


class WorkOrderScheduled(Event):
    TYPE = "field_ops.work_order.scheduled"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    scheduled_for: datetime
    # additive (v1): who goes, when, whom to call on site (collection and tech services' notice)
    journal_no: str | None = None
    kind: str | None = None
    kind_label: str | None = None
    site_id: uuid.UUID | None = None
    visit_on: date | None = None
    window: str | None = None
    technician: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    reschedule_count: int = 0
    contractor_id: uuid.UUID | None = None
    contractor_name: str | None = None


class WorkOrderCompleted(Event):
    TYPE = "field_ops.work_order.completed"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    completed_on: date
    # additive (v1)
    site_id: uuid.UUID | None = None
    kind: str | None = None
    journal_no: str | None = None


class WorkOrderFailed(Event):
    TYPE = "field_ops.work_order.failed"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    reason: str
    # additive (v1)
    journal_no: str | None = None
    reschedule_count: int = 0


class EquipmentInstalled(Event):
    TYPE = "field_ops.equipment.installed"
    AGGREGATE = ("equipment", "equipment_id")
    equipment_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    contract_id: uuid.UUID | None = None
    installed_on: date
    # additive (v1): what stands there
    type: str | None = None
    serial: str | None = None
    work_order_id: uuid.UUID | None = None


class EquipmentRemoved(EquipmentInstalled):
    """``installed_on`` carries the day it was REMOVED (billing's rent changes from that day)."""

    TYPE = "field_ops.equipment.removed"


class VisitSlaBreached(Event):
    TYPE = "field_ops.visit.sla_breached"
    AGGREGATE = ("work_order", "work_order_id")
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    due_by: date
    # additive (v1): the exact moment the window closed (midnight Moscow after ``due_by``)
    due_at: datetime | None = None
    journal_no: str | None = None


class DowntimeStarted(Event):
    TYPE = "field_ops.downtime.started"
    AGGREGATE = ("downtime", "incident_id")
    incident_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    started_at: datetime


class DowntimeEscalated(DowntimeStarted):
    TYPE = "field_ops.downtime.escalated"


class PartsRequested(Event):
    """Parts a maintenance visit or repair needs and we lack: logistics buys or ships them."""

    TYPE = "field_ops.parts.requested"
    AGGREGATE = ("work_order", "work_order_id")
    request_id: uuid.UUID
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    lines: list[dict[str, str | int]]
    needed_by: date | None = None


class DowntimeResolved(Event):
    TYPE = "field_ops.downtime.resolved"
    AGGREGATE = ("downtime", "incident_id")
    incident_id: uuid.UUID
    client_id: uuid.UUID
    cause: str | None = None


class TrainingScheduled(Event):
    """An onboarding training was booked (or moved): the client gets an invitation."""

    TYPE = "field_ops.training.scheduled"
    session_id: uuid.UUID
    client_id: uuid.UUID
    starts_at: datetime
    topic: str | None = None
    duration_minutes: int | None = None
    meeting_url: str | None = None


class TrainingCompleted(Event):
    TYPE = "field_ops.training.completed"
    session_id: uuid.UUID
    client_id: uuid.UUID


class CloudTenantProvisioned(Event):
    TYPE = "field_ops.cloud_tenant.provisioned"
    client_id: uuid.UUID
    url: str
    login: str
    # additive (v1): a one-time first-login secret for the credentials mail; consumers mail it
    # once and never store it (notifications masks it everywhere it keeps data)
    password: str | None = None
    setup_url: str | None = None
