"""Issue 13 §5: timeline lines are written like the rest of the pages — amounts, dates,
periods in Russian, no abbreviations, no raw codes or event types."""

from __future__ import annotations

import pytest

from notifications.domain.timeline import summarize

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("event_type", "payload", "line"), [
    ("contracts.contract.signed",
     {"number": "2026-0001", "monthly_fee": "18300.00", "starts_on": "2026-12-01"},
     "Подписан договор № 2026-0001, абонентская плата 18 300,00 ₽ с 01.12.2026"),
    ("billing.invoice.issued", {"number": "СЧ-2026-12-0001", "total": "15250.00",
                                "period": "2026-12"},
     "Выставлен счёт № СЧ-2026-12-0001 на 15 250,00 ₽ за декабрь 2026"),
    ("billing.payment.received", {"amount": "1000.5", "reference": "п/п 12"},
     "Поступила оплата 1 000,50 ₽ (п/п 12)"),
    ("field_ops.work_order.created", {"kind": "install", "kind_label": "установка"},
     "Заявка на работы: установка"),
    ("contracts.claim.stage_changed", {"stage": "court"}, "Претензия: стадия «суд»"),
    ("field_ops.downtime.started", {"started_at": "2026-12-01T07:30:00+00:00"},
     "Простой оборудования с 01.12.2026 10:30"),
    ("billing.something.new", {}, "Событие в другой службе"),
])
def test_timeline_lines_read_as_russian(event_type: str, payload: dict[str, str],
                                        line: str) -> None:
    assert summarize(event_type, payload) == line
