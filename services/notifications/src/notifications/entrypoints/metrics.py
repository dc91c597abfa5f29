"""Notifications' business gauges for /metrics, refreshed from its database by a periodic
job: open tasks past their due time, and the mail queue by delivery state."""

from __future__ import annotations

from prometheus_client import Gauge

from clientops_shared.observability import SqlGauge

TASKS_OVERDUE = Gauge("clientops_tasks_overdue", "Open tasks past their due time",
                      ["service"])
MAIL_QUEUE = Gauge("clientops_mail_deliveries",
                   "Mail by delivery state (pending + sending = the queue's depth)",
                   ["service", "state"])

GAUGES = (
    SqlGauge(TASKS_OVERDUE, "SELECT count(*) FROM task WHERE state = 'open' AND due_at < now()"),
    SqlGauge(MAIL_QUEUE, """
        SELECT s.state, count(m.id)
        FROM (VALUES ('pending'), ('sending'), ('failed')) AS s(state)
        LEFT JOIN mail_delivery m ON m.state = s.state
        GROUP BY s.state"""),
)
