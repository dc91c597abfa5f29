from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class LogisticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LOGISTICS_", extra="ignore")

    service_name: str = "logistics"
    port: int = 8004
