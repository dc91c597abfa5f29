from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    service_name: str = "web"
    port: int = 8000
    token_ttl_minutes: int = 720
    lockout_after: int = 5
    lockout_minutes: int = 15
    seed_demo_users: bool = False  # dev and tests only: the demo passwords are public
