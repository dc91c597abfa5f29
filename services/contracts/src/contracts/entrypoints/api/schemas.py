from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field
from stdnum.ru import inn as stdnum_inn

from clientops_shared.types import NonNegativeMoney
from contracts.domain.model import ContractKind, ContractStatus, PaymentForm, VatMode


def _inn(value: str) -> str:
    value = value.strip()
    if not stdnum_inn.is_valid(value):
        raise ValueError("not a valid INN (10 or 12 digits with a correct checksum)")
    return value


Inn = Annotated[str, AfterValidator(_inn)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClientIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    inn: Inn
    kpp: str | None = Field(default=None, pattern=r"^\d{4}[\dA-Z]{2}\d{3}$")
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40)
    manager: str | None = Field(default=None, max_length=100)
    legal_address: str | None = None
    source: str | None = None


class ClientOut(BaseModel):
    id: uuid.UUID
    name: str
    inn: str
    kpp: str | None
    email: str | None
    phone: str | None
    manager: str | None
    legal_address: str | None


class SiteIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1)
    access_points: int = Field(default=0, ge=0, le=10000)
    server_format: str = Field(default="cloud", pattern="^(cloud|on_premise)$")
    equipment_summary: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


class SiteOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    address: str
    access_points: int
    server_format: str


class ContractIn(Strict):
    client_id: uuid.UUID
    kind: ContractKind
    starts_on: date
    ends_on: date | None = None
    monthly_fee: NonNegativeMoney
    auto_renew: bool = False
    standard: bool = True
    site_id: uuid.UUID | None = None
    vat_mode: VatMode = VatMode.ON_TOP
    payment_form: PaymentForm = PaymentForm.CASHLESS
    notice_days: int = Field(default=30, ge=0, le=365)
    emergency_sla_days: int | None = Field(default=None, ge=1, le=10)
    bill_from_install: bool = False
    replaces_id: uuid.UUID | None = None


class ContractOut(BaseModel):
    id: uuid.UUID
    number: str
    status: ContractStatus
    client_id: uuid.UUID
    kind: ContractKind
    starts_on: date
    ends_on: date | None
    signed_on: date | None
    monthly_fee: NonNegativeMoney
    vat_mode: VatMode
    payment_form: PaymentForm
    auto_renew: bool
    standard: bool
    site_id: uuid.UUID | None


class SignIn(Strict):
    signed_on: date


class SignOut(BaseModel):
    id: uuid.UUID
    number: str
    status: ContractStatus


class DecisionIn(Strict):
    reason: str | None = Field(default=None, max_length=2000)


class ExpiringOut(BaseModel):
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str
    manager: str | None
    ends_on: date
    days_left: int
    auto_renew: bool
    action: str
