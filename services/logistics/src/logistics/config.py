from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class LogisticsSettings(ServiceSettings):
    """Logistics configuration. A carrier without its URL uses the in-memory fake."""

    model_config = SettingsConfigDict(env_prefix="LOGISTICS_", extra="ignore")

    service_name: str = "logistics"
    port: int = 8004

    warehouse_address: str = "Москва, бизнес-парк «Румянцево»"
    warehouse_phone: str = "+74950000000"
    scheduler_tick_seconds: float = 300.0
    carrier_poll_seconds: float = 600.0
    carrier_timeout_seconds: float = 10.0
    courier_balance_threshold: Decimal = Decimal("3000.00")
    originals_escalate_after_working_days: int = Field(default=3, ge=1, le=30)
    closing_remind_after_working_days: int = Field(default=5, ge=1, le=60)
    closing_escalate_after_working_days: int = Field(default=3, ge=1, le=30)

    dostavista_url: str | None = None
    dostavista_token: str = ""
    dostavista_callback_key: str = ""
    dostavista_vehicle_type_id: int = 7
    truck_vehicle_type_id: int = 1
    cdek_url: str | None = None
    cdek_client_id: str = ""
    cdek_client_secret: str = ""
    cdek_tariff_code: int = 137
    dellin_url: str | None = None
    dellin_appkey: str = ""
    dellin_login: str = ""
    dellin_password: str = ""
