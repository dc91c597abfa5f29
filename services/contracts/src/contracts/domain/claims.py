"""Claims and court cases (seed 000 §16): stages move forward only; decisions are attached."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from clientops_shared.errors import Conflict, InvalidInput


class ClaimStage(StrEnum):
    RECEIVED = "received"
    ANSWERED = "answered"
    NEGOTIATION = "negotiation"
    COURT = "court"
    RESOLVED = "resolved"
    LOST = "lost"


STAGE_ORDER = (ClaimStage.RECEIVED, ClaimStage.ANSWERED, ClaimStage.NEGOTIATION,
               ClaimStage.COURT)
CLOSED = frozenset({ClaimStage.RESOLVED, ClaimStage.LOST})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Claim:
    client_id: uuid.UUID
    subject: str
    received_on: date
    answer_due_on: date | None = None
    contract_id: uuid.UUID | None = None
    amount: Decimal | None = None
    description: str | None = None
    lawyer: str | None = None
    stage: ClaimStage = ClaimStage.RECEIVED
    stage_note: str | None = None
    churn_risk: bool = False
    closed_on: date | None = None
    opened_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.answer_due_on is not None and self.answer_due_on < self.received_on:
            raise InvalidInput("answer_due_on", "the answer cannot be due before the claim "
                               "was received")
        if self.amount is not None and self.amount < 0:
            raise InvalidInput("amount", "must not be negative")

    @property
    def closed(self) -> bool:
        return self.stage in CLOSED

    def move_to(self, stage: ClaimStage, on: date, note: str | None) -> ClaimStage:
        """Forward only: received → answered → negotiation → court → resolved | lost.

        Stages may be skipped (a claim settled at once is resolved from received); a closed
        claim stays closed.
        """
        if self.closed or stage == self.stage:
            raise Conflict(f"cannot move a claim in stage {self.stage} to {stage}",
                           current_state=str(self.stage))
        if stage not in CLOSED and STAGE_ORDER.index(stage) < STAGE_ORDER.index(self.stage):
            raise Conflict(f"a claim does not go back from {self.stage} to {stage}",
                           current_state=str(self.stage))
        previous, self.stage, self.stage_note = self.stage, stage, note
        if stage in CLOSED:
            self.closed_on = on
        return previous

    def assign_lawyer(self, lawyer: str | None) -> None:
        if self.closed:
            raise Conflict(f"the claim is closed ({self.stage})", current_state=str(self.stage))
        self.lawyer = lawyer

    def flag_churn_risk(self, churn_risk: bool) -> bool:
        changed = self.churn_risk != churn_risk
        self.churn_risk = churn_risk
        return changed
