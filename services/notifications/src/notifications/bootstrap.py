"""The only place that reads settings and wires the notifications service together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.observability import sql_gauges_job
from clientops_shared.runtime import Periodic, ServiceRuntime
from notifications.adapters import orm
from notifications.adapters.clock import Clock, SystemClock
from notifications.adapters.invoices import HttpInvoicePdfSource, InvoicePdfSource
from notifications.adapters.mailer import Mailer, SmtpMailer
from notifications.config import NotificationsSettings
from notifications.domain.rules import WorkingCalendar, default_rules
from notifications.entrypoints import metrics
from notifications.entrypoints.api.routes import router
from notifications.entrypoints.messaging import build_handlers
from notifications.service_layer import jobs, mail
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


def build_dependencies(settings: NotificationsSettings, *, clock: Clock | None = None,
                       mailer: Mailer | None = None,
                       invoices: InvoicePdfSource | None = None) -> Dependencies:
    calendar = WorkingCalendar(extra_days_off=frozenset(settings.extra_days_off),
                               extra_working_days=frozenset(settings.extra_working_days))
    return Dependencies(
        rules=default_rules(),
        head=settings.head_username,
        clock=clock or SystemClock(),
        mailer=mailer or SmtpMailer(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender,
            use_tls=settings.smtp_use_tls, start_tls=settings.smtp_start_tls,
            username=settings.smtp_username, password=settings.smtp_password,
            timeout=settings.smtp_timeout),
        invoices=invoices or HttpInvoicePdfSource(
            settings.billing_url, settings.jwt_secret, path=settings.invoice_pdf_path),
        calendar=calendar,
        staff_emails=dict(settings.staff_emails),
        mail_batch=settings.mail_batch,
        digest_hour=settings.digest_hour,
        regrouping_targets=tuple(settings.regrouping_targets),
        workload_window_days=settings.workload_window_days,
    )


def build(settings: NotificationsSettings | None = None, *, clock: Clock | None = None,
          mailer: Mailer | None = None, invoices: InvoicePdfSource | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    orm.start_mappers()
    deps = build_dependencies(settings, clock=clock, mailer=mailer, invoices=invoices)
    runtime: ServiceRuntime[NotificationsUnitOfWork]

    async def send_mail() -> None:
        await mail.send_due_mail(runtime.uow, deps)

    async def sweep() -> None:
        await jobs.sweep_overdue(runtime.uow, deps)

    async def digests() -> None:
        await jobs.daily_digests(runtime.engine, runtime.uow, deps)

    periodic = [
        Periodic("mail-sender", settings.mail_poll_seconds, send_mail),
        Periodic("overdue-sweep", settings.escalation_poll_seconds, sweep),
        Periodic("daily-digest", settings.digest_poll_seconds, digests),
    ]
    runtime = ServiceRuntime(settings, orm.metadata, NotificationsUnitOfWork,
                             build_handlers(deps), periodic=periodic)
    runtime.periodic.append(Periodic("business-metrics", settings.metrics_poll_seconds,
                                     sql_gauges_job("notifications", runtime.engine,
                                                    metrics.GAUGES)))
    return runtime.create_app("ClientOps notifications", [router], deps=deps)
