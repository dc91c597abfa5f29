from notifications.adapters.orm import metadata
from notifications.config import NotificationsSettings
from clientops_shared.migrations import run_env

run_env(metadata, NotificationsSettings().database_url)
