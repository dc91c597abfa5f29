"""Events published by the field-ops service."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from clientops_shared.events.base import Event


class WorkOrderCreated(Event):
    TYPE = "field_ops.work_order.created"
    work_order_id: uuid.UUID
    journal_no: str
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    kind: str
    needs_approval: bool = False
    due_by: date | None = None


class WorkOrderScheduled(Event):
    TYPE = "field_ops.work_order.scheduled"
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    scheduled_for: datetime


class WorkOrderCompleted(Event):
    TYPE = "field_ops.work_order.completed"
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    completed_on: date


class WorkOrderFailed(Event):
    TYPE = "field_ops.work_order.failed"
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    reason: str


class EquipmentInstalled(Event):
    TYPE = "field_ops.equipment.installed"
    equipment_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    contract_id: uuid.UUID | None = None
    installed_on: date


class EquipmentRemoved(EquipmentInstalled):
    TYPE = "field_ops.equipment.removed"


class VisitSlaBreached(Event):
    TYPE = "field_ops.visit.sla_breached"
    work_order_id: uuid.UUID
    client_id: uuid.UUID
    due_by: date


class DowntimeStarted(Event):
    TYPE = "field_ops.downtime.started"
    incident_id: uuid.UUID
    client_id: uuid.UUID
    site_id: uuid.UUID | None = None
    started_at: datetime


class DowntimeEscalated(DowntimeStarted):
    TYPE = "field_ops.downtime.escalated"


class DowntimeResolved(Event):
    TYPE = "field_ops.downtime.resolved"
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
