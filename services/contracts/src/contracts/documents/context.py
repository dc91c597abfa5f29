"""What a document needs to know, as validated, immutable pydantic models.

These are the documents module's own input types: the service layer fills them from
the contracts domain (and from settings, for our company card), so the templates never
depend on ORM rows or API schemas. Requisites are validated here once, so a rendered
document never carries a mistyped INN or a bank account that does not match its BIK.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from clientops_shared.types import NonNegativeMoney
from contracts.domain.validation import (
    BankAccount,
    Bik,
    Inn,
    Kpp,
    Ogrn,
    PhoneE164,
    account_matches_bik,
    corr_account_matches_bik,
    is_sole_trader_inn,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


MAX_ACT_LINES = 200


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VatMode(StrEnum):
    ON_TOP = "on_top"  # the fee excludes VAT, VAT is added on top
    INCLUSIVE = "inclusive"  # the fee includes VAT
    EXEMPT = "exempt"  # no VAT (exempt supply or simplified tax system)


class PaymentForm(StrEnum):
    CASHLESS = "cashless"
    CASH = "cash"


class ContractKind(StrEnum):
    SUBSCRIPTION = "subscription"  # equipment on the client's site for a monthly fee
    PILOT = "pilot"  # time-boxed trial on the client's site
    MAINTENANCE = "maintenance"  # service maintenance of the client's equipment, with an SLA
    SUPPLY = "supply"  # we sell and deliver equipment: a price, not a monthly fee
    RENT = "rent"  # our terminal at the client's site: we pay the client (the site owner) rent


SERVICE_KINDS = frozenset({ContractKind.SUBSCRIPTION, ContractKind.PILOT, ContractKind.MAINTENANCE})
"""Kinds where we serve the client for a monthly fee: we are «Исполнитель», they «Заказчик»."""


class AmendmentKind(StrEnum):
    TERMINATION = "termination"
    EXTENSION = "extension"
    FEE_CHANGE = "fee_change"


class HandoverDirection(StrEnum):
    TO_CLIENT = "to_client"  # installation: we hand equipment over to the client's site
    FROM_CLIENT = "from_client"  # removal: the client returns our equipment


class Signatory(_Facts):
    """The person who signs for a party."""

    position: Text = Field(examples=["Генеральный директор"])
    full_name: Text = Field(examples=["Иванов Иван Иванович"])
    # Russian names decline; a person writes the genitive phrase once, we never guess it
    in_person_of: Text | None = Field(
        default=None, examples=["Генерального директора Иванова Ивана Ивановича"]
    )
    basis: Text = Field(default="Устава", examples=["Устава", "доверенности № 12 от 01.02.2026"])
    female: bool = False

    @property
    def short_name(self) -> str:
        """ "Иванов Иван Иванович" -> "Иванов И. И.", the form written under a signature."""
        surname, *given = self.full_name.split()
        initials = " ".join(f"{part[0]}." for part in given)
        return f"{surname} {initials}".strip()


class BankDetails(_Facts):
    bank_name: Text = Field(examples=["ПАО Сбербанк"])
    bik: Bik
    account: BankAccount
    corr_account: BankAccount

    @model_validator(mode="after")
    def _keys_match_bik(self) -> Self:
        if not account_matches_bik(self.account, self.bik):
            raise ValueError(f"account {self.account} does not match BIK {self.bik}")
        if not corr_account_matches_bik(self.corr_account, self.bik):
            raise ValueError(
                f"correspondent account {self.corr_account} does not match BIK {self.bik}"
            )
        return self


class CompanyCard(_Facts):
    """Our own legal details: the contractor in every document and the company card."""

    name: Text = Field(examples=["Общество с ограниченной ответственностью «Пример»"])
    short_name: Text = Field(examples=["ООО «Пример»"])
    inn: Inn
    kpp: Kpp
    ogrn: Ogrn
    address: Text
    postal_address: Text | None = None
    bank: BankDetails
    director: Signatory
    phone: PhoneE164 | None = None
    email: Text | None = None


class PartyDetails(_Facts):
    """The client: an organisation (10-digit INN, has a KPP) or a sole trader (12 digits)."""

    name: Text = Field(examples=["ООО «Ромашка»", "ИП Петров Пётр Петрович"])
    inn: Inn
    kpp: Kpp | None = None
    ogrn: Ogrn | None = None
    address: Text
    bank: BankDetails | None = None
    signatory: Signatory
    phone: PhoneE164 | None = None
    email: Text | None = None

    @property
    def is_sole_trader(self) -> bool:
        return is_sole_trader_inn(self.inn)

    @model_validator(mode="after")
    def _kpp_matches_kind(self) -> Self:
        # organisations always have a KPP and sole traders never do: a mismatch is a typo
        if self.is_sole_trader and self.kpp is not None:
            raise ValueError("a sole trader (12-digit INN) has no KPP")
        if not self.is_sole_trader and self.kpp is None:
            raise ValueError("KPP is required for an organisation (10-digit INN)")
        return self


class ContractFacts(_Facts):
    number: Text = Field(examples=["К-2026/015"])
    kind: ContractKind = ContractKind.SUBSCRIPTION
    signed_on: date
    starts_on: date
    ends_on: date | None = None  # None: an open-ended contract
    auto_renew: bool = True
    # the monthly fee; for rent the monthly rent we pay; for supply the contract price (once)
    monthly_fee: NonNegativeMoney
    vat_mode: VatMode
    vat_rate: Decimal = Field(default=Decimal("22"), gt=0, lt=100)
    payment_form: PaymentForm = PaymentForm.CASHLESS
    city: Text = "Москва"  # place of signing, printed as "г. Москва"
    site_address: Text  # for supply: where the equipment is delivered
    access_points: int = Field(ge=0)  # printed for the service kinds, which need one at least
    # written notice for a fee change, for termination and against auto-renewal; 0: none
    notice_days: int = Field(default=30, ge=0, le=365)
    # emergency visit within N business days (service kinds); None: no fixed term
    emergency_sla_days: int | None = Field(default=None, ge=1, le=365)
    bill_from_install: bool = False  # rent accrues from the installation date, not starts_on

    @field_validator("access_points")
    @classmethod
    def _service_has_access_points(cls, value: int, info: ValidationInfo) -> int:
        if value < 1 and info.data.get("kind", ContractKind.SUBSCRIPTION) in SERVICE_KINDS:
            raise ValueError("a service contract prints its site's access points: at least 1")
        return value

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise ValueError("ends_on must be after starts_on")
        if self.kind is ContractKind.SUPPLY and self.payment_form is PaymentForm.CASH:
            raise ValueError("a supply contract is paid cashless, against our invoice")
        return self


class AmendmentFacts(_Facts):
    """A supplementary agreement to a contract."""

    kind: AmendmentKind
    number: Text = Field(examples=["1"])
    signed_on: date
    effective_on: date
    new_fee: NonNegativeMoney | None = None
    new_ends_on: date | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Self:
        if self.kind is AmendmentKind.EXTENSION and self.new_ends_on is None:
            raise ValueError("an extension needs new_ends_on")
        if self.kind is AmendmentKind.FEE_CHANGE and self.new_fee is None:
            raise ValueError("a fee change needs new_fee")
        if self.kind is AmendmentKind.TERMINATION and (
            self.new_fee is not None or self.new_ends_on is not None
        ):
            raise ValueError("a termination takes neither new_fee nor new_ends_on")
        if self.new_ends_on is not None and self.new_ends_on <= self.effective_on:
            raise ValueError("new_ends_on must be after effective_on")
        return self


class EquipmentLine(_Facts):
    """One line of an acceptance act."""

    name: Text = Field(examples=["Терминал оплаты парковки"])
    serial: Text | None = None
    qty: int = Field(default=1, ge=1, le=100_000)
    unit_price: NonNegativeMoney | None = None  # appraised value, sets liability for loss

    @property
    def total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.qty


class HandoverFacts(_Facts):
    """An equipment hand-over: installation at or removal from the client's site."""

    number: Text
    handed_on: date
    direction: HandoverDirection = HandoverDirection.TO_CLIENT
    # a bound on the rendering work one request may ask for (3,000 lines took 70 s of CPU)
    lines: tuple[EquipmentLine, ...] = Field(min_length=1, max_length=MAX_ACT_LINES)
    work_order_no: Text | None = None


def handover_gaps(kind: ContractKind, handover: HandoverFacts) -> list[tuple[str, str]]:
    """What a hand-over act of a ``kind`` contract lacks, as (field, message) pairs.

    A rent act hands our terminal over for placement at the site owner's site and back:
    each terminal is identified by its serial number. A supply act hands equipment over
    to the buyer (returns are not an acceptance act) and states its cost in words.
    """
    gaps: list[tuple[str, str]] = []
    if kind is ContractKind.RENT:
        gaps += [
            (f"lines.{i}.serial", "a terminal placed at a rented site needs its serial number")
            for i, line in enumerate(handover.lines)
            if line.serial is None
        ]
    if kind is ContractKind.SUPPLY:
        if handover.direction is not HandoverDirection.TO_CLIENT:
            gaps.append(("direction", "a supply act hands equipment over to the buyer"))
        gaps += [
            (f"lines.{i}.unit_price", "a supply act states the price of what is handed over")
            for i, line in enumerate(handover.lines)
            if line.unit_price is None
        ]
    return gaps


class DocumentContext(_Facts):
    """Everything any template may use; each template declares which parts it needs."""

    company: CompanyCard
    client: PartyDetails | None = None
    contract: ContractFacts | None = None
    amendment: AmendmentFacts | None = None
    handover: HandoverFacts | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        contract, amendment = self.contract, self.amendment
        if (
            contract is not None
            and contract.kind is ContractKind.RENT
            and contract.payment_form is PaymentForm.CASHLESS
            and self.client is not None
            and self.client.bank is None
        ):
            raise ValueError("cashless rent is paid into the site owner's account: client.bank")
        if contract is not None and amendment is not None:
            if amendment.effective_on < contract.starts_on:
                raise ValueError("the amendment takes effect before the contract starts")
            if (
                amendment.kind is AmendmentKind.EXTENSION
                and contract.ends_on is not None
                and amendment.new_ends_on is not None
                and amendment.new_ends_on <= contract.ends_on
            ):
                raise ValueError("an extension must move ends_on later than the contract's")
        if contract is not None and self.handover is not None:
            gaps = handover_gaps(contract.kind, self.handover)
            if gaps:
                raise ValueError("; ".join(f"handover.{field}: {msg}" for field, msg in gaps))
        return self
