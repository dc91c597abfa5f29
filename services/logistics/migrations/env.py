from logistics.adapters.orm import metadata
from logistics.config import LogisticsSettings
from clientops_shared.migrations import run_env

run_env(metadata, LogisticsSettings().database_url)
