from contracts.adapters.orm import metadata
from contracts.config import ContractsSettings
from clientops_shared.migrations import run_env

run_env(metadata, ContractsSettings().database_url)
