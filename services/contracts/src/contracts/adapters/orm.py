"""Tables of the contracts database and their imperative mapping onto the domain classes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import registry

from clientops_shared.db import make_metadata, shared_tables, text_enum
from contracts.domain import model

metadata = make_metadata()
shared = shared_tables(metadata)
mapper_registry = registry(metadata=metadata)

_ts = sa.DateTime(timezone=True)


client = sa.Table(
    "client", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("inn", sa.String(12), nullable=False, unique=True),
    sa.Column("kpp", sa.String(9)),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("manager", sa.Text, index=True),
    sa.Column("legal_address", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)

site = sa.Table(
    "site", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("access_points", sa.Integer, nullable=False, server_default="0"),
    sa.Column("server_format", sa.Text, nullable=False, server_default="cloud"),
    sa.Column("equipment_summary", sa.Text),
    sa.Column("contact_name", sa.Text),
    sa.Column("contact_phone", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)

contract = sa.Table(
    "contract", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("site_id", UUID(as_uuid=True), sa.ForeignKey("site.id")),
    sa.Column("kind", text_enum(model.ContractKind), nullable=False),
    sa.Column("status", text_enum(model.ContractStatus), nullable=False, index=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, index=True),
    sa.Column("signed_on", sa.Date),
    sa.Column("monthly_fee", sa.Numeric(14, 2), nullable=False),
    sa.Column("vat_mode", text_enum(model.VatMode), nullable=False),
    sa.Column("payment_form", text_enum(model.PaymentForm), nullable=False),
    sa.Column("auto_renew", sa.Boolean, nullable=False),
    sa.Column("standard", sa.Boolean, nullable=False),
    sa.Column("notice_days", sa.Integer, nullable=False),
    sa.Column("emergency_sla_days", sa.Integer),
    sa.Column("bill_from_install", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("replaces_id", UUID(as_uuid=True), sa.ForeignKey("contract.id")),
    sa.Column("decided_by", sa.Text),
    sa.Column("decision_reason", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
    sa.CheckConstraint("monthly_fee >= 0", name="fee_not_negative"),
    sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
)

# Contract numbers are unique per year (2026-0001); the row lock on the year serialises them.
contract_number_seq = sa.Table(
    "contract_number_seq", metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Client, client)
    mapper_registry.map_imperatively(model.Site, site)
    mapper_registry.map_imperatively(model.Contract, contract)
    _mapped = True
