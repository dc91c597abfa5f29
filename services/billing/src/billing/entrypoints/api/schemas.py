from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel

from clientops_shared.types import Money


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    contract_number: str
    client_id: uuid.UUID
    client_name: str | None
    kind: str
    monthly_fee: Money
    vat_mode: str
    starts_on: date
    ends_on: date | None
    status: str
