from clientops_shared.migrations import run_env
from contracts.adapters.orm import metadata
from contracts.config import ContractsSettings

run_env(metadata, ContractsSettings().database_url)
