"""Request and response bodies of the field-ops API (field names are the public contract)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from clientops_shared.types import PositiveMoney
from field_ops.domain.maintenance import VisitPeriod
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
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                       pattern=r"^https?://[^\s]+$")]
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
    technician: Username | None = None
    contractor_id: uuid.UUID | None = None


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
    works: list[Text] = Field(default_factory=list, max_length=50)

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


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_id: uuid.UUID
    site_id: uuid.UUID | None = None
    visits: int = Field(ge=1, le=31)
    period: VisitPeriod
    starts_on: BoundedDate
    ends_on: BoundedDate | None = None
    lead_days: int = Field(default=14, ge=0, le=90)
    works: Text | None = None


class PartLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: ShortText
    quantity: int = Field(ge=1, le=10_000)


class PartsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[PartLine] = Field(min_length=1, max_length=50)
    needed_by: BoundedDate | None = None


class ContractorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText
    inn: Annotated[str, StringConstraints(pattern=r"^(\d{10}|\d{12})$")] | None = None
    phone: Phone | None = None
    email: Annotated[str, StringConstraints(max_length=200,
                                            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    contract_number: ShortText | None = None
    contract_signed_on: BoundedDate | None = None
    active: bool = True


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: WorkOrderKind
    price: PositiveMoney
    effective_from: BoundedDate
    note: ShortText | None = None


class UrlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subdomain: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                                pattern=r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")]


class QuestionnaireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    server_format: Literal["cloud", "on_premise"]
    equipment: ShortText
    integration: bool
    access_points: int = Field(ge=0, le=10_000)


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: uuid.UUID
    starts_at: Moment
    duration_minutes: int = Field(default=60, ge=15, le=480)
    topic: ShortText | None = None
    meeting_url: Url | None = None


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: Moment


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recording_url: Url | None = None


class TrainingNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recording_url: Url | None = None
    feedback: Text | None = None
    questionnaire: QuestionnaireIn | None = None
