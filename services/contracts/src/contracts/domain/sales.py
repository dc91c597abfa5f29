"""Small records on a client's timeline: upsell deals, feedback, and contact with the client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from clientops_shared.errors import Conflict


def _now() -> datetime:
    return datetime.now(UTC)


class DealStage(StrEnum):
    NEW = "new"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    WON = "won"
    LOST = "lost"


@dataclass(eq=False)
class Deal:
    """An upsell (seed 000 §14): handed to a sales manager, or kept by the client's manager."""

    client_id: uuid.UUID
    title: str
    equipment: str | None = None
    amount: Decimal | None = None
    stage: DealStage = DealStage.NEW
    owner: str | None = None
    handed_to_sales: bool = False
    notes: str | None = None
    closed_on: date | None = None
    created_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)

    @property
    def closed(self) -> bool:
        return self.stage in (DealStage.WON, DealStage.LOST)

    def move_to(self, stage: DealStage, on: date) -> DealStage:
        if self.closed or stage == self.stage:
            raise Conflict(f"cannot move a deal in stage {self.stage} to {stage}",
                           current_state=str(self.stage))
        previous, self.stage = self.stage, stage
        if self.closed:
            self.closed_on = on
        return previous

    def hand_over(self, to: str) -> None:
        if self.closed:
            raise Conflict(f"the deal is closed ({self.stage})", current_state=str(self.stage))
        self.owner, self.handed_to_sales = to, True


class FeedbackKind(StrEnum):
    FEEDBACK = "feedback"  # how it works for them
    WISH = "wish"  # «хотелки»: what they would like
    TESTIMONIAL_REQUEST = "testimonial_request"  # a thank-you letter asked for
    CASE_STUDY = "case_study"  # material for a marketing case


@dataclass(eq=False)
class Feedback:
    client_id: uuid.UUID
    kind: FeedbackKind
    text: str
    recorded_on: date
    recorded_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)


class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    MESSENGER = "messenger"


@dataclass(eq=False)
class Interaction:
    """A contact with the client (a call, a letter): the expiring report's "last contact"."""

    client_id: uuid.UUID
    channel: Channel
    on: date
    summary: str
    contact_name: str | None = None
    recorded_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=_now)
