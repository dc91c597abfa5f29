from billing.adapters.orm import metadata
from billing.config import BillingSettings
from clientops_shared.migrations import run_env

run_env(metadata, BillingSettings().database_url)
