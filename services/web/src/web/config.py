from __future__ import annotations

import os
from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clientops_shared.settings import ServiceSettings
from web.domain.model import Throttle

# the services the desks compose: name -> (env prefix, default port)
UPSTREAMS: dict[str, tuple[str, int]] = {
    "contracts": ("CONTRACTS_", 8001),
    "billing": ("BILLING_", 8002),
    "field_ops": ("FIELD_OPS_", 8003),
    "logistics": ("LOGISTICS_", 8004),
    "notifications": ("NOTIFICATIONS_", 8005),
}


def upstream_urls() -> dict[str, str]:
    """``<PREFIX>URL`` if set, else ``http://127.0.0.1:<PREFIX>PORT`` (as the dev tools do)."""
    return {name: (os.environ.get(f"{prefix}URL")
                   or f"http://127.0.0.1:{os.environ.get(f'{prefix}PORT', port)}").rstrip("/")
            for name, (prefix, port) in UPSTREAMS.items()}


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    service_name: str = "web"
    port: int = 8000
    # access tokens are short-lived; a page session re-mints its token while it is used
    token_ttl_minutes: int = Field(default=15, ge=1, le=15)
    # log-in back-off (no lock an attacker could trigger): per account and per client address
    login_account_free_failures: int = 5
    login_account_max_wait_seconds: int = 60
    # an office behind one address shares this: generous, and the wait stays short
    login_address_free_failures: int = 30
    login_address_max_wait_seconds: int = 60
    login_backoff_base_seconds: float = 1.0
    seed_demo_users: bool = False  # dev and tests only: the demo passwords are public
    session_minutes: int = 720
    # the session cookie is sent over HTTPS only; browsers treat http://127.0.0.1 and
    # http://localhost as secure too, so this stays on for local runs and the browser tests
    cookie_secure: bool = True
    upstream_timeout_seconds: float = 10.0
    document_timeout_seconds: float = Field(default=60.0, gt=0, le=600)  # PDF/DOCX/XLSX
    upstreams: dict[str, str] = Field(default_factory=upstream_urls)

    def throttle(self) -> Throttle:
        return Throttle(account_free=self.login_account_free_failures,
                        account_cap=timedelta(seconds=self.login_account_max_wait_seconds),
                        address_free=self.login_address_free_failures,
                        address_cap=timedelta(seconds=self.login_address_max_wait_seconds),
                        base=timedelta(seconds=self.login_backoff_base_seconds))
