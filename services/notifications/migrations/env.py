from clientops_shared.migrations import run_env
from notifications.adapters.orm import metadata
from notifications.config import NotificationsSettings

run_env(metadata, NotificationsSettings().database_url)
