"""``python -m logistics``: serve the logistics API, its consumer and its outbox relay."""

from clientops_shared.serve import serve
from logistics.config import LogisticsSettings

serve(LogisticsSettings(), "logistics.bootstrap:build")
