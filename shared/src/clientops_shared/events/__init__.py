"""Versioned event contracts: one module per producing service, one registry for all."""

from clientops_shared.events import billing, contracts, field_ops, logistics, notifications, web
from clientops_shared.events.base import REGISTRY, Envelope, Event, UnknownEvent

__all__ = ["REGISTRY", "Envelope", "Event", "UnknownEvent", "billing", "contracts",
           "field_ops", "logistics", "notifications", "web"]
