from clientops_shared.migrations import run_env
from logistics.adapters.orm import metadata
from logistics.config import LogisticsSettings

run_env(metadata, LogisticsSettings().database_url)
