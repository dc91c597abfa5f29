"""``python -m contracts``: serve the contracts API, its consumer and its outbox relay."""

from clientops_shared.serve import serve
from contracts.config import ContractsSettings

serve(ContractsSettings(), "contracts.bootstrap:build")
