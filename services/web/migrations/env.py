from web.adapters.orm import metadata
from web.config import WebSettings
from clientops_shared.migrations import run_env

run_env(metadata, WebSettings().database_url)
