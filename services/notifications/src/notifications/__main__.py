"""``python -m notifications``: serve the work queue API, its consumer and its outbox relay."""

from clientops_shared.serve import serve
from notifications.config import NotificationsSettings

serve(NotificationsSettings(), "notifications.bootstrap:build")
