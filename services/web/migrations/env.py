from clientops_shared.migrations import run_env
from web.adapters.orm import metadata
from web.config import WebSettings

run_env(metadata, WebSettings().database_url)
