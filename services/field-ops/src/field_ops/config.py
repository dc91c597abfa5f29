from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class FieldOpsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIELD_OPS_", extra="ignore")

    service_name: str = "field_ops"
    port: int = 8003
    # how often the clock job (SLA breaches, downtime over 24 h) wakes
    clock_poll_seconds: float = 60.0
    metrics_poll_seconds: float = 30.0  # gauges for /metrics (how late the SLA timer is)
    # the cloud-admin panel (000 §6); without a URL the in-memory fake is used (dev, demo)
    cloud_admin_url: str | None = None
    cloud_admin_token: str = ""
    cloud_domain: str = "cloud.clientops.example"
