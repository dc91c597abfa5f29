from field_ops.adapters.orm import metadata
from field_ops.config import FieldOpsSettings
from clientops_shared.migrations import run_env

run_env(metadata, FieldOpsSettings().database_url)
