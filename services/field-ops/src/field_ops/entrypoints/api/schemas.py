"""Request and response bodies of the field-ops API (field names are the public contract)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from field_ops.domain.model import (
    EquipmentType,
    IncidentSource,
    Outcome,
    WorkOrderKind,
)

EARLIEST = date(2000, 1, 1)


def _bounded_date(value: date) -> date:
    if not EARLIEST <= value <= date.today() + timedelta(days=5 * 366):
        raise ValueError("дата вне допустимого диапазона (2000-01-01 … сегодня + 5 лет)")
    return value


def _bounded_moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("укажите часовой пояс (например, 2026-11-27T10:00:00+03:00)")
    _bounded_date(value.astimezone(UTC).date())
    return value


BoundedDate = Annotated[date, AfterValidator(_bounded_date)]
Moment = Annotated[datetime, AfterValidator(_bounded_moment)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True,
                                         pattern=r"^\+?[0-9][0-9()\- ]{4,30}$")]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                            pattern=r"^[A-Za-z0-9_.@-]+$")]
Serial = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                          pattern=r"^[A-Za-z0-9А-Яа-яЁё_./-]+$")]
Window = Annotated[str, StringConstraints(strip_whitespace=True,
                                          pattern=r"^\d{2}:\d{2}\s*[-–]\s*\d{2}:\d{2}$")]


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: uuid.UUID
    site_id: uuid.UUID
    kind: WorkOrderKind
    description: Text
    contract_id: uuid.UUID | None = None
    awaiting_goods: bool = False


class WorkOrderCreatedOut(BaseModel):
    id: uuid.UUID
    status: str
    status_label: str
    due_by: date | None = None
    due_at: datetime | None = None


class ApprovedOut(BaseModel):
    id: uuid.UUID
    status: str
    status_label: str
    journal_number: str


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText
    phone: Phone


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visit_on: BoundedDate
    window: Window | None = None
    site_contact: Contact
    technician: Username


class StatusOut(BaseModel):
    id: uuid.UUID
    status: str
    status_label: str
    reschedule_count: int = 0
    journal_number: str | None = None


class EquipmentItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: EquipmentType
    serial: Serial
    action: Literal["install", "remove"] | None = None


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    reason: Text | None = None
    equipment: list[EquipmentItem] = Field(default_factory=list, max_length=50)

    def equipment_items(self) -> list[dict[str, Any]]:
        return [i.model_dump(mode="json", exclude_none=True) for i in self.equipment]


class ProblemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Text


class ProblemDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Text


class TechnicianIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    full_name: ShortText
    phone: Phone | None = None
    active: bool = True


class DowntimeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: uuid.UUID
    serial: Serial | None = None
    started_at: Moment
    source: IncidentSource
    description: Text | None = None


class DowntimeCreatedOut(BaseModel):
    id: uuid.UUID
    state: str
    state_label: str


class CauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cause: Text


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolved_at: Moment | None = None
    cause: Text | None = None


class IncidentOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: WorkOrderKind
    description: Text


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: Moment | None = None
