"""Billing's business gauges for /metrics, refreshed from its database by a periodic job:
invoices issued per month, payments matched and unmatched, months whose last invoice run
failed (the on-call's "invoice run failed" alert)."""

from __future__ import annotations

from prometheus_client import Gauge

from clientops_shared.observability import SqlGauge

INVOICES_ISSUED = Gauge("clientops_invoices_issued", "Invoices issued for a month (Moscow)",
                        ["service", "period"])
PAYMENTS = Gauge("clientops_payments", "Payments by match status", ["service", "status"])
FAILED_RUNS = Gauge("clientops_invoice_run_failed_periods",
                    "Months whose latest invoice run failed or was interrupted", ["service"])

GAUGES = (
    SqlGauge(INVOICES_ISSUED, """
        SELECT p.period, count(i.id)
        FROM (VALUES (to_char(now() AT TIME ZONE 'Europe/Moscow', 'YYYY-MM')),
                     (to_char((now() AT TIME ZONE 'Europe/Moscow') - interval '1 month',
                              'YYYY-MM'))) AS p(period)
        LEFT JOIN invoice i ON i.period = p.period AND i.kind = 'invoice'
        GROUP BY p.period"""),
    SqlGauge(PAYMENTS, """
        SELECT s.status, count(p.id)
        FROM (VALUES ('matched'), ('unmatched')) AS s(status)
        LEFT JOIN payment p ON p.status = s.status
        GROUP BY s.status"""),
    SqlGauge(FAILED_RUNS, """
        SELECT count(*) FROM (
            SELECT DISTINCT ON (period) status FROM invoice_run
            ORDER BY period, started_at DESC) AS latest
        WHERE latest.status IN ('failed', 'interrupted')"""),
)
