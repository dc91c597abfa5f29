from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class FieldOpsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIELD_OPS_", extra="ignore")

    service_name: str = "field_ops"
    port: int = 8003
