from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")

    service_name: str = "contracts"
    port: int = 8001
    expiring_thresholds: tuple[int, ...] = (60, 30, 7)
