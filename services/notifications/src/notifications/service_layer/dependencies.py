"""What the use cases need besides a unit of work; built once by bootstrap, faked in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from notifications.adapters.clock import Clock
from notifications.adapters.invoices import InvoicePdfSource
from notifications.adapters.mailer import Mailer
from notifications.domain.rules import RuleSet, WorkingCalendar


@dataclass
class Dependencies:
    rules: RuleSet
    head: str
    clock: Clock
    mailer: Mailer
    invoices: InvoicePdfSource
    calendar: WorkingCalendar
    staff_emails: dict[str, str] = field(default_factory=dict)
    mail_batch: int = 50
    digest_hour: int = 8
    regrouping_targets: tuple[str, ...] = ()
    workload_window_days: int = 30

    def now(self) -> datetime:
        return self.clock.now()
