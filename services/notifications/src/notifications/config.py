from datetime import date

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    port: int = 8005
    head_username: str = "head"
    # every event lands here: a burst (the invoice run's 20k invoices) is handled in groups of
    # up to 10 events per transaction, one group per pool connection (NOTIFICATIONS_CONSUMER_GROUP)
    consumer_group: int = Field(default=10, ge=1, le=100)

    # SMTP relay (a local aiosmtpd in dev and tests; the real relay by configuration)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "ClientOps <noreply@clientops.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    smtp_start_tls: bool = False
    smtp_timeout: float = 30.0
    mail_poll_seconds: float = 5.0
    mail_batch: int = 50

    # billing serves invoice PDFs; notifications fetches them with a service token
    billing_url: str = "http://127.0.0.1:8002"
    invoice_pdf_path: str = "/api/invoices/{invoice_id}/pdf"

    # staff e-mail addresses known before the admin fills the staff directory
    # (NOTIFICATIONS_STAFF_EMAILS='{"head": "head@example.ru"}'); the directory table wins
    staff_emails: dict[str, str] = Field(default_factory=dict)

    escalation_poll_seconds: float = 60.0
    digest_poll_seconds: float = 300.0
    metrics_poll_seconds: float = 30.0  # business gauges for /metrics
    digest_hour: int = Field(default=8, ge=0, le=23)  # Moscow time, working days only

    # this year's decree changes to the production calendar
    extra_days_off: list[date] = Field(default_factory=list)
    extra_working_days: list[date] = Field(default_factory=list)

    # people the regrouping report may move functions to (the under-loaded senior manager)
    regrouping_targets: list[str] = Field(default_factory=list)
    workload_window_days: int = Field(default=30, ge=1)
