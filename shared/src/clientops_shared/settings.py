"""Service settings: pydantic-settings with one env prefix per service.

Values shared by all services (broker URL, PostgreSQL server, JWT secret) fall back to the
common ``CLIENTOPS_*`` variables, so one export configures every service on a dev box or CI.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEV_JWT_SECRET = "clientops-dev-secret-change-me-in-production-0123456789"
DEV_MODE_FLAG = "CLIENTOPS_DEV_MODE"
MIN_SECRET_LENGTH = 32


class InsecureSettings(RuntimeError):
    """The process would run with a secret anyone can read; it refuses to start."""


def dev_mode() -> bool:
    """``CLIENTOPS_DEV_MODE=1``: set by ``make run``, the Procfile and the pytest plugin."""
    return os.environ.get(DEV_MODE_FLAG) == "1"


def check_secrets(settings: ServiceSettings) -> None:
    """Refuse the public development JWT secret (or a short one) outside development.

    Anyone can read the development secret in this repository and mint an ``admin`` token
    with it, so a service started without the explicit dev flag refuses it.
    """
    if dev_mode():
        return
    if settings.jwt_secret == DEV_JWT_SECRET:
        raise InsecureSettings(
            f"{settings.service_name}: refusing to start with the public development JWT "
            f"secret. Set CLIENTOPS_JWT_SECRET to a long random secret (e.g. `openssl rand "
            f"-hex 32`), or {DEV_MODE_FLAG}=1 on a development machine.")
    if len(settings.jwt_secret) < MIN_SECRET_LENGTH:
        raise InsecureSettings(
            f"{settings.service_name}: CLIENTOPS_JWT_SECRET is shorter than "
            f"{MIN_SECRET_LENGTH} characters; use a long random secret.")


def common(name: str, default: str) -> str:
    return os.environ.get(f"CLIENTOPS_{name}", default)


def database_url(database: str, server_dsn: str | None = None) -> str:
    """The asyncpg URL of ``database`` on the server named by ``CLIENTOPS_PG_DSN``."""
    parts = urlsplit(server_dsn or common("PG_DSN", DEFAULT_PG_DSN))
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{database}", parts.query, ""))


class ServiceSettings(BaseSettings):
    """Base for every service's settings; subclasses set ``env_prefix`` and ``service_name``."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    database: str | None = Field(default=None,
                                 description="database name; default clientops_<service>")
    database_url_override: str | None = Field(default=None, alias="DATABASE_URL")
    amqp_url: str = Field(default_factory=lambda: common("AMQP_URL", DEFAULT_AMQP_URL))
    jwt_secret: str = Field(default_factory=lambda: common("JWT_SECRET", DEV_JWT_SECRET))
    delivery_limit: int = 5
    db_pool_size: int = Field(default=5, ge=1, le=100,
                              description="database connections kept open (plus 5 overflow)")
    consumer_prefetch: int | None = Field(
        default=None, ge=1, le=1000,
        description="events handled at once; None (the default): the pool size (each handler "
        "in flight holds a connection, more would queue on the pool and time out). Order does "
        "not depend on it: the steps of an aggregate (client, contract, invoice, work order, "
        "shipment, equipment, downtime, request) apply in version order whatever the prefetch")
    consumer_group: int = Field(
        default=1, ge=1, le=100,
        description="events in flight handled together in one transaction, at most (1: each "
        "in its own); a burst then pays one BEGIN and one COMMIT per group")
    retry_delays: tuple[float, ...] = Field(
        default=(1.0, 5.0, 30.0, 120.0, 600.0),
        description="back-off of a transiently failing event (seconds), then the DLQ")
    consumer_pause_max_seconds: float = Field(
        default=300.0, description="how long the consumer holds an event while its database "
        "is down before counting it as a failed attempt")
    outbox_poll_seconds: float = 0.2
    # how often the broker's state, queue lag and DLQ depth are refreshed for /metrics
    queue_watch_seconds: float = 15.0
    outbox_batch: int = 100
    otlp_endpoint: str | None = Field(
        default_factory=lambda: os.environ.get("CLIENTOPS_OTLP_ENDPOINT"))
    log_level: str = Field(default_factory=lambda: common("LOG_LEVEL", "INFO"))
    log_json: bool = Field(default_factory=lambda: common("LOG_JSON", "1") == "1")
    consumers_enabled: bool = True
    relay_enabled: bool = True
    jobs_enabled: bool = True
    timezone: str = "Europe/Moscow"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return database_url(self.database or f"clientops_{self.service_name.replace('-', '_')}")
