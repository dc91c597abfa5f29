"""Field-ops' gauges for /metrics, refreshed from its database by a periodic job: how late the
SLA timer is — the oldest emergency order past its deadline that the clock has not marked
breached yet (the same rows ``clock.breach_overdue_visits`` fires on), 0 when none waits."""

from __future__ import annotations

from prometheus_client import Gauge

from clientops_shared.observability import SqlGauge
from field_ops.domain.model import WorkOrderKind, WorkOrderStatus

SLA_TIMER_LATE = Gauge(
    "clientops_sla_timer_late_seconds",
    "How long the oldest SLA deadline that passed has waited for its breach to be marked "
    "(0: the clock is on time)", ["service"])

GAUGES = (
    SqlGauge(SLA_TIMER_LATE, f"""
        SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(due_at)), 0)
        FROM work_order
        WHERE kind = '{WorkOrderKind.EMERGENCY.value}' AND due_at <= now()
          AND sla_breached_at IS NULL
          AND status NOT IN ('{WorkOrderStatus.CANCELLED.value}',
                             '{WorkOrderStatus.REJECTED.value}')
          AND (completed_at IS NULL OR completed_at > due_at)"""),
)
