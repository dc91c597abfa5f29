"""Clients, sites, contracts and their amendments: plain Python, no I/O.

The contract lifecycle is a small state machine; every illegal move raises ``Conflict`` naming
the current state so the API can answer 409 with it::

    draft ─(non-standard)→ pending_approval → approved | rejected (→ pending_approval again)
    draft | approved ─sign→ signed ─start date→ active ⇄ suspended
    signed | active | suspended → terminated (termination, or replaced by a re-signed contract)
    signed | active | suspended → expired (end date passed without auto-renewal)

Amendments carry effective dates. Recording one checks it against the contract at once (an
illegal one is refused and nothing is written); its effect on the contract's state happens on
its effective date: at once when that date has come, else by the daily job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from clientops_shared.errors import Conflict, InvalidInput


class ContractKind(StrEnum):
    SUBSCRIPTION = "subscription"
    SUPPLY = "supply"
    RENT = "rent"
    MAINTENANCE = "maintenance"
    PILOT = "pilot"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SIGNED = "signed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"


IN_FORCE = (ContractStatus.SIGNED, ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
"""Signed and not yet ended: the states amendments, renewals and expiry notices apply to."""


class VatMode(StrEnum):
    ON_TOP = "on_top"
    INCLUSIVE = "inclusive"
    EXEMPT = "exempt"


class PaymentForm(StrEnum):
    CASHLESS = "cashless"
    CASH = "cash"


class ServerFormat(StrEnum):
    CLOUD = "cloud"
    ON_PREMISE = "on_premise"


class VisitPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class ContactRole(StrEnum):
    DIRECTOR = "director"
    ACCOUNTANT = "accountant"
    TECHNICAL = "technical"
    SITE = "site"
    LEGAL = "legal"
    OTHER = "other"


class ClientSource(StrEnum):
    INBOUND = "inbound"
    REFERRAL = "referral"
    SALES = "sales"
    PARTNER = "partner"
    TENDER = "tender"
    OTHER = "other"


class PilotOutcome(StrEnum):
    CONVERTED = "converted"  # the client pays: a paid contract replaces the pilot
    SUCCESS = "success"  # the client wants to continue; the paid contract is being prepared
    DECLINED = "declined"  # the client does not continue: equipment comes back


def _now() -> datetime:
    return datetime.now(UTC)


MAX_MONTHLY_FEE = Decimal("100000000.00")
"""No monthly fee (or rent) above 100 million roubles: a typo, not a contract."""


def check_fee(kind: ContractKind, fee: Decimal, field_name: str) -> None:
    """A subscription is never free (a free trial is a pilot); no monthly fee is absurd."""
    if kind == ContractKind.SUBSCRIPTION and fee == 0:
        raise InvalidInput(field_name, "Абонентская плата должна быть больше нуля "
                                       "(бесплатный период оформляется пилотом).")
    if kind != ContractKind.SUPPLY and fee > MAX_MONTHLY_FEE:
        raise InvalidInput(field_name, "Ежемесячная плата не может быть больше "
                                       "100 000 000,00 ₽ — проверьте сумму.")


# --- value objects -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactPerson:
    """Somebody at the client: who they are for us (role) and how to reach them."""

    name: str
    role: ContactRole = ContactRole.OTHER
    phone: str | None = None  # E.164
    email: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class BankDetails:
    bank_name: str
    bik: str
    account: str
    corr_account: str


@dataclass(frozen=True)
class Signatory:
    """Who signs for the client, as documents print it."""

    position: str
    full_name: str
    in_person_of: str | None = None  # genitive phrase, written by a person, never guessed
    basis: str = "Устава"
    female: bool = False


# --- aggregates --------------------------------------------------------------------------


@dataclass(eq=False)
class Client:
    name: str
    inn: str
    email: str | None = None
    kpp: str | None = None
    phone: str | None = None
    manager: str | None = None
    legal_address: str | None = None
    source: str | None = None
    ogrn: str | None = None
    postal_address: str | None = None
    bank: BankDetails | None = None
    signatory: Signatory | None = None
    contacts: tuple[ContactPerson, ...] = ()
    last_contact_on: date | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def reassign(self, manager: str | None) -> str | None:
        previous, self.manager = self.manager, manager
        return previous

    def contacted(self, on: date) -> None:
        if self.last_contact_on is None or on > self.last_contact_on:
            self.last_contact_on = on


@dataclass(eq=False)
class Site:
    client_id: uuid.UUID
    name: str
    address: str
    access_points: int = 0
    server_format: str = "cloud"
    equipment_summary: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)


class AmendmentKind(StrEnum):
    FEE_CHANGE = "fee_change"
    EXTENSION = "extension"
    SUSPENSION = "suspension"
    TERMINATION = "termination"


class AmendmentStatus(StrEnum):
    SCHEDULED = "scheduled"  # recorded; its effective date has not come yet
    APPLIED = "applied"
    VOID = "void"  # its date came but the contract had already left the state it needs


@dataclass(eq=False)
class Amendment:
    """A supplementary agreement: what changes, from when, and what it was before."""

    contract_id: uuid.UUID
    number: int
    kind: AmendmentKind
    signed_on: date
    effective_on: date
    previous_fee: Decimal
    previous_ends_on: date | None = None
    notice_on: date | None = None
    new_fee: Decimal | None = None
    new_ends_on: date | None = None
    resume_on: date | None = None
    reason: str | None = None
    change_request_id: uuid.UUID | None = None
    replaced_by_id: uuid.UUID | None = None
    status: AmendmentStatus = AmendmentStatus.SCHEDULED
    applied_on: date | None = None
    created_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)


@dataclass(eq=False)
class Contract:
    client_id: uuid.UUID
    number: str
    kind: ContractKind
    starts_on: date
    monthly_fee: Decimal
    ends_on: date | None = None
    auto_renew: bool = False
    standard: bool = True
    site_id: uuid.UUID | None = None
    vat_mode: VatMode = VatMode.ON_TOP
    payment_form: PaymentForm = PaymentForm.CASHLESS
    notice_days: int = 30
    emergency_sla_days: int | None = None
    bill_from_install: bool = False
    replaces_id: uuid.UUID | None = None
    status: ContractStatus = ContractStatus.DRAFT
    signed_on: date | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    renewal_months: int = 12
    scheduled_visits: int | None = None
    visit_period: VisitPeriod | None = None
    replaced_by_id: uuid.UUID | None = None
    suspended_on: date | None = None
    resume_on: date | None = None
    terminated_on: date | None = None
    termination_reason: str | None = None
    pilot_outcome: PilotOutcome | None = None
    pilot_note: str | None = None
    pilot_ended_on: date | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise InvalidInput("ends_on", "the contract cannot end before it starts")
        if self.monthly_fee < 0:
            raise InvalidInput("monthly_fee", "must not be negative")
        check_fee(self.kind, self.monthly_fee, "monthly_fee")
        if self.kind == ContractKind.PILOT and self.ends_on is None:
            raise InvalidInput("ends_on", "a pilot has an end date")
        if self.kind == ContractKind.PILOT and self.auto_renew:
            raise InvalidInput("auto_renew", "a pilot is not renewed automatically; convert it")
        if (self.scheduled_visits is None) != (self.visit_period is None):
            raise InvalidInput("visit_period",
                               "scheduled_visits and visit_period go together")

    # --- helpers ---------------------------------------------------------------------------
    def _refuse(self, action: str) -> Conflict:
        return Conflict(f"cannot {action} a contract in state {self.status}",
                        current_state=str(self.status))

    def _require(self, action: str, *allowed: ContractStatus) -> None:
        if self.status not in allowed:
            raise self._refuse(action)

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    # --- approval and signing --------------------------------------------------------------
    def submit_for_approval(self) -> None:
        if self.standard:
            raise Conflict(f"a standard contract needs no approval (it is {self.status})",
                           current_state=str(self.status))
        if self.status not in (ContractStatus.DRAFT, ContractStatus.REJECTED):
            raise self._refuse("submit for approval")
        self.status = ContractStatus.PENDING_APPROVAL

    def approve(self, by: str, reason: str | None = None) -> None:
        if self.status != ContractStatus.PENDING_APPROVAL:
            raise self._refuse("approve")
        self.status, self.decided_by, self.decision_reason = ContractStatus.APPROVED, by, reason

    def reject(self, by: str, reason: str) -> None:
        if self.status != ContractStatus.PENDING_APPROVAL:
            raise self._refuse("reject")
        if not reason.strip():
            raise InvalidInput("reason", "a rejection states its reason")
        self.status, self.decided_by, self.decision_reason = ContractStatus.REJECTED, by, reason

    def sign(self, signed_on: date, today: date | None = None) -> ContractStatus:
        """Signed contracts become active on their start date (at once if it has come).

        ``today`` counts too: a contract signed with an earlier date (a scan arriving late)
        whose start date has already passed is active, not waiting for tomorrow's job.
        """
        allowed = (ContractStatus.DRAFT,) if self.standard else (ContractStatus.APPROVED,)
        if self.status not in allowed:
            if not self.standard and self.status in (ContractStatus.DRAFT,
                                                     ContractStatus.PENDING_APPROVAL,
                                                     ContractStatus.REJECTED):
                raise Conflict("a non-standard contract must be approved by the head before "
                               f"signing; it is {self.status}", current_state=str(self.status))
            raise self._refuse("sign")
        if self.ends_on is not None and signed_on > self.ends_on:
            raise InvalidInput("signed_on", "the contract would be signed after it ends")
        self.signed_on = signed_on
        self.status = (ContractStatus.ACTIVE if self.starts_on <= max(signed_on,
                                                                      today or signed_on)
                       else ContractStatus.SIGNED)
        return self.status

    def activate(self, on: date) -> bool:
        if self.status == ContractStatus.SIGNED and self.starts_on <= on:
            self.status = ContractStatus.ACTIVE
            return True
        return False

    # --- suspension, termination, expiry, renewal ------------------------------------------
    def suspend(self, effective_on: date, resume_on: date | None) -> None:
        self._require("suspend", ContractStatus.ACTIVE)
        self.status = ContractStatus.SUSPENDED
        self.suspended_on, self.resume_on = effective_on, resume_on

    def resume(self, on: date) -> None:
        self._require("resume", ContractStatus.SUSPENDED)
        if self.suspended_on is not None and on < self.suspended_on:
            raise InvalidInput("effective_on", f"the suspension began on {self.suspended_on}")
        self.status = ContractStatus.ACTIVE
        self.suspended_on = self.resume_on = None

    def terminate(self, effective_on: date, reason: str | None) -> None:
        self._require("terminate", *IN_FORCE)
        self.status = ContractStatus.TERMINATED
        self.terminated_on, self.termination_reason = effective_on, reason

    def expire(self, on: date) -> bool:
        """Past its end date without renewal: expired (``ends_on`` was the last day)."""
        if self.in_force and self.ends_on is not None and self.ends_on < on:
            self.status = ContractStatus.EXPIRED
            return True
        return False

    def renew(self) -> tuple[date, date]:
        """Start the next term the day after the current one ends, as long as the last."""
        if not self.auto_renew or self.ends_on is None:
            raise Conflict("only a contract with auto-renewal and an end date renews itself "
                           f"(it is {self.status})", current_state=str(self.status))
        self._require("renew", *IN_FORCE)
        starts = self.ends_on + timedelta(days=1)
        self.ends_on = add_months(self.ends_on, self.renewal_months)
        return starts, self.ends_on

    def replaced_by(self, successor: Contract) -> None:
        self.replaced_by_id = successor.id

    # --- amendments --------------------------------------------------------------------------
    def earliest_fee_change(self, notice_on: date) -> date:
        return notice_on + timedelta(days=self.notice_days)

    def plan_amendment(self, *, number: int, kind: AmendmentKind, signed_on: date,
                       effective_on: date | None, notice_on: date | None = None,
                       new_fee: Decimal | None = None, new_ends_on: date | None = None,
                       resume_on: date | None = None, reason: str | None = None,
                       created_by: str | None = None) -> Amendment:
        """Check an amendment against this contract and record it (not yet applied)."""
        what = {AmendmentKind.FEE_CHANGE: "change the fee of",
                AmendmentKind.EXTENSION: "extend",
                AmendmentKind.SUSPENSION: "suspend",
                AmendmentKind.TERMINATION: "terminate"}[kind]
        if kind == AmendmentKind.SUSPENSION:
            self._require(what, ContractStatus.ACTIVE)
        else:
            self._require(what, *IN_FORCE)
        if new_fee is not None and new_fee < 0:
            raise InvalidInput("new_fee", "must not be negative")
        if new_fee is not None:
            check_fee(self.kind, new_fee, "new_fee")
        if kind == AmendmentKind.FEE_CHANGE:
            if new_fee is None:
                raise InvalidInput("new_fee", "a fee change names the new fee")
            notice_on = notice_on or signed_on
            earliest = self.earliest_fee_change(notice_on)
            if effective_on is None:
                effective_on = earliest
            if effective_on < earliest:
                raise InvalidInput(
                    "effective_on",
                    f"a fee change takes effect no earlier than {earliest.isoformat()}: the "
                    f"client was notified on {notice_on.isoformat()} and the contract requires "
                    f"{self.notice_days} days' notice; {effective_on.isoformat()} is too early")
        elif kind == AmendmentKind.EXTENSION:
            if self.ends_on is None:
                raise Conflict("an open-ended contract has nothing to extend (it is "
                               f"{self.status})", current_state=str(self.status))
            if new_ends_on is None or new_ends_on <= self.ends_on:
                raise InvalidInput("new_ends_on", "an extension moves the end date later than "
                                   f"{self.ends_on.isoformat()}")
            if effective_on is None:
                effective_on = self.ends_on + timedelta(days=1)
        elif effective_on is None:
            effective_on = signed_on
        if kind == AmendmentKind.SUSPENSION and resume_on is not None \
                and resume_on <= effective_on:
            raise InvalidInput("resume_on", "the contract resumes after the suspension begins")
        if effective_on < self.starts_on:
            raise InvalidInput("effective_on", "the amendment would take effect before the "
                               f"contract starts ({self.starts_on.isoformat()})")
        if self.ends_on is not None and effective_on > self.ends_on and \
                kind != AmendmentKind.EXTENSION:
            raise InvalidInput("effective_on", "the contract ends on "
                               f"{self.ends_on.isoformat()}, before the amendment would apply")
        amendment = Amendment(
            contract_id=self.id, number=number, kind=kind, signed_on=signed_on,
            effective_on=effective_on, previous_fee=self.monthly_fee,
            previous_ends_on=self.ends_on, notice_on=notice_on, new_fee=new_fee,
            new_ends_on=new_ends_on, resume_on=resume_on, reason=reason, created_by=created_by)
        if kind == AmendmentKind.EXTENSION:
            # the new end date holds from signing: renewal reminders stop at once
            assert new_ends_on is not None
            self.ends_on = new_ends_on
            if new_fee is None:
                amendment.status, amendment.applied_on = AmendmentStatus.APPLIED, signed_on
        return amendment

    def apply(self, amendment: Amendment, on: date) -> bool:
        """The amendment's effective date has come: change the contract. False: void."""
        if amendment.status != AmendmentStatus.SCHEDULED:
            return amendment.status == AmendmentStatus.APPLIED
        applied = False
        if amendment.kind in (AmendmentKind.FEE_CHANGE, AmendmentKind.EXTENSION):
            if self.in_force and amendment.new_fee is not None:
                self.monthly_fee = amendment.new_fee
                applied = True
        elif amendment.kind == AmendmentKind.SUSPENSION:
            if self.status == ContractStatus.ACTIVE:
                self.suspend(amendment.effective_on, amendment.resume_on)
                applied = True
        elif amendment.kind == AmendmentKind.TERMINATION and self.in_force:
            self.terminate(amendment.effective_on, amendment.reason)
            applied = True
        amendment.status = AmendmentStatus.APPLIED if applied else AmendmentStatus.VOID
        amendment.applied_on = on
        return applied

    # --- pilots ------------------------------------------------------------------------------
    def end_pilot(self, on: date, outcome: PilotOutcome | None, note: str | None) -> bool:
        """Record a pilot's end (and outcome). True when this call ended it."""
        if self.kind != ContractKind.PILOT:
            raise Conflict(f"only a pilot has an outcome (this {self.kind} contract is "
                           f"{self.status})", current_state=str(self.status))
        ended_now = False
        if self.in_force:
            self.status = ContractStatus.EXPIRED
            self.pilot_ended_on = on
            ended_now = True
        elif self.status != ContractStatus.EXPIRED:
            raise self._refuse("end the pilot of")
        if self.pilot_ended_on is None:
            self.pilot_ended_on = self.ends_on
        if outcome is not None:
            if self.pilot_outcome == PilotOutcome.CONVERTED and outcome != PilotOutcome.CONVERTED:
                raise Conflict("the pilot was already converted to a paid contract (it is "
                               f"{self.status})", current_state=str(self.status))
            self.pilot_outcome = outcome
        if note is not None:
            self.pilot_note = note
        return ended_now


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


class ChangeRequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ChangeRequestKind(StrEnum):
    FEE_CHANGE = "fee_change"
    EXTENSION = "extension"
    SUSPENSION = "suspension"
    TERMINATION = "termination"
    OTHER = "other"  # anything else: the head decides, nothing changes by itself


@dataclass(eq=False)
class ChangeRequest:
    """A client's request to change a contract's terms, decided by the head."""

    contract_id: uuid.UUID
    client_id: uuid.UUID
    kind: ChangeRequestKind
    summary: str
    received_on: date
    new_fee: Decimal | None = None
    new_ends_on: date | None = None
    effective_on: date | None = None
    notice_on: date | None = None
    resume_on: date | None = None
    details: str | None = None
    state: ChangeRequestState = ChangeRequestState.PENDING
    decided_by: str | None = None
    decided_on: date | None = None
    decision_reason: str | None = None
    amendment_id: uuid.UUID | None = None
    submitted_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def decide(self, *, approve: bool, by: str, on: date, reason: str | None) -> None:
        if self.state != ChangeRequestState.PENDING:
            raise Conflict(f"the request was already {self.state}",
                           current_state=str(self.state))
        if not approve and not (reason or "").strip():
            raise InvalidInput("reason", "a rejection states its reason")
        self.state = ChangeRequestState.APPROVED if approve else ChangeRequestState.REJECTED
        self.decided_by, self.decided_on, self.decision_reason = by, on, reason

    @property
    def amendment_kind(self) -> AmendmentKind | None:
        if self.kind == ChangeRequestKind.OTHER:
            return None
        return AmendmentKind(self.kind.value)
