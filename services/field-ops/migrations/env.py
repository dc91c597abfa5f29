from clientops_shared.migrations import run_env
from field_ops.adapters.orm import metadata
from field_ops.config import FieldOpsSettings

run_env(metadata, FieldOpsSettings().database_url)
