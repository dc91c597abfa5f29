"""``python -m billing``: serve the billing API, its consumer and its outbox relay."""

from billing.config import BillingSettings
from clientops_shared.serve import serve

serve(BillingSettings(), "billing.bootstrap:build")
