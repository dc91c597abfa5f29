"""Tables of the billing database and their mapping onto the domain classes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import registry

from billing.domain import model
from clientops_shared.db import make_metadata, shared_tables

metadata = make_metadata()
shared = shared_tables(metadata)
mapper_registry = registry(metadata=metadata)

client_account = sa.Table(
    "client_account", metadata,
    sa.Column("client_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("inn", sa.String(12), nullable=False, index=True),
    sa.Column("email", sa.Text),
    sa.Column("manager", sa.Text, index=True),
)

subscription = sa.Table(
    "subscription", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("contract_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("contract_number", sa.Text, nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("monthly_fee", sa.Numeric(14, 2), nullable=False),
    sa.Column("vat_mode", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),
    sa.Column("bill_from_install", sa.Boolean, nullable=False),
    sa.Column("status", sa.Enum(model.SubscriptionStatus, native_enum=False, length=16,
                                values_callable=lambda e: [m.value for m in e],
                                name="subscriptionstatus"), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.ClientAccount, client_account)
    mapper_registry.map_imperatively(model.Subscription, subscription)
    _mapped = True
