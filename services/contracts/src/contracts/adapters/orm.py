"""Tables of the contracts database and their imperative mapping onto the domain classes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import registry

from clientops_shared.db import make_metadata, shared_tables, text_enum
from contracts.domain import claims, files, model, sales

metadata = make_metadata()
shared = shared_tables(metadata)
mapper_registry = registry(metadata=metadata)

_ts = sa.DateTime(timezone=True)


class _ValueObject(sa.types.TypeDecorator[Any]):
    """A frozen dataclass (or a tuple of them) stored as JSONB."""

    impl = JSONB
    cache_ok = True

    def __init__(self, cls: type, many: bool = False) -> None:
        super().__init__()
        self.cls, self.many = cls, many

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return [] if self.many else None
        if self.many:
            return [asdict(v) for v in value]
        return asdict(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return () if self.many else None
        if self.many:
            return tuple(self.load(v) for v in value)
        return self.load(value)

    def load(self, values: dict[str, Any]) -> Any:
        return self.cls(**values)


class _Contacts(_ValueObject):
    cache_ok = True

    def load(self, values: dict[str, Any]) -> Any:
        return model.ContactPerson(**{**values, "role": model.ContactRole(values["role"])})


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
    sa.Column("ogrn", sa.String(15)),
    sa.Column("postal_address", sa.Text),
    sa.Column("bank", _ValueObject(model.BankDetails)),
    sa.Column("signatory", _ValueObject(model.Signatory)),
    sa.Column("contacts", _Contacts(model.ContactPerson, many=True), nullable=False,
              server_default=sa.text("'[]'::jsonb")),
    sa.Column("last_contact_on", sa.Date),
    sa.Column("created_at", _ts, nullable=False),
)
sa.Index("client_name_lower_idx", sa.func.lower(client.c.name))
# the client list's order, whole and per manager: any page is an index range
sa.Index("client_name_id_idx", client.c.name, client.c.id)
sa.Index("client_manager_name_id_idx", client.c.manager, client.c.name, client.c.id)

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
    sa.Column("renewal_months", sa.Integer, nullable=False, server_default="12"),
    sa.Column("scheduled_visits", sa.Integer),
    sa.Column("visit_period", text_enum(model.VisitPeriod)),
    sa.Column("replaced_by_id", UUID(as_uuid=True), sa.ForeignKey("contract.id")),
    sa.Column("suspended_on", sa.Date),
    sa.Column("resume_on", sa.Date),
    sa.Column("terminated_on", sa.Date),
    sa.Column("termination_reason", sa.Text),
    sa.Column("pilot_outcome", text_enum(model.PilotOutcome)),
    sa.Column("pilot_note", sa.Text),
    sa.Column("pilot_ended_on", sa.Date),
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

amendment = sa.Table(
    "amendment", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("contract_id", UUID(as_uuid=True), sa.ForeignKey("contract.id"), nullable=False,
              index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", text_enum(model.AmendmentKind), nullable=False),
    sa.Column("status", text_enum(model.AmendmentStatus), nullable=False),
    sa.Column("signed_on", sa.Date, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("notice_on", sa.Date),
    sa.Column("previous_fee", sa.Numeric(14, 2), nullable=False),
    sa.Column("previous_ends_on", sa.Date),
    sa.Column("new_fee", sa.Numeric(14, 2)),
    sa.Column("new_ends_on", sa.Date),
    sa.Column("resume_on", sa.Date),
    sa.Column("reason", sa.Text),
    sa.Column("change_request_id", UUID(as_uuid=True)),
    sa.Column("replaced_by_id", UUID(as_uuid=True)),
    sa.Column("applied_on", sa.Date),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
    sa.UniqueConstraint("contract_id", "number"),
    sa.CheckConstraint("new_fee IS NULL OR new_fee >= 0", name="new_fee_not_negative"),
)
sa.Index("amendment_scheduled_idx", amendment.c.effective_on,
         postgresql_where=amendment.c.status == "scheduled")

change_request = sa.Table(
    "change_request", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("contract_id", UUID(as_uuid=True), sa.ForeignKey("contract.id"), nullable=False,
              index=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("kind", text_enum(model.ChangeRequestKind), nullable=False),
    sa.Column("state", text_enum(model.ChangeRequestState), nullable=False, index=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.Text),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("new_fee", sa.Numeric(14, 2)),
    sa.Column("new_ends_on", sa.Date),
    sa.Column("effective_on", sa.Date),
    sa.Column("notice_on", sa.Date),
    sa.Column("resume_on", sa.Date),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_on", sa.Date),
    sa.Column("decision_reason", sa.Text),
    sa.Column("amendment_id", UUID(as_uuid=True), sa.ForeignKey("amendment.id")),
    sa.Column("submitted_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)

# one row per contract, term (its end date) and threshold: that expiring notice was sent
expiry_notice = sa.Table(
    "expiry_notice", metadata,
    sa.Column("contract_id", UUID(as_uuid=True), sa.ForeignKey("contract.id"),
              primary_key=True),
    sa.Column("ends_on", sa.Date, primary_key=True),
    sa.Column("threshold_days", sa.Integer, primary_key=True),
    sa.Column("notified_on", sa.Date, nullable=False),
    sa.Column("created_at", _ts, nullable=False, server_default=sa.text("now()")),
)

claim = sa.Table(
    "claim", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("contract_id", UUID(as_uuid=True), sa.ForeignKey("contract.id")),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("amount", sa.Numeric(14, 2)),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("answer_due_on", sa.Date),
    sa.Column("lawyer", sa.Text, index=True),
    sa.Column("stage", text_enum(claims.ClaimStage), nullable=False, index=True),
    sa.Column("stage_note", sa.Text),
    sa.Column("churn_risk", sa.Boolean, nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.Column("opened_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
    sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
)

deal = sa.Table(
    "deal", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("equipment", sa.Text),
    sa.Column("amount", sa.Numeric(14, 2)),
    sa.Column("stage", text_enum(sales.DealStage), nullable=False, index=True),
    sa.Column("owner", sa.Text, index=True),
    sa.Column("handed_to_sales", sa.Boolean, nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("closed_on", sa.Date),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
    sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
)

feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("kind", text_enum(sales.FeedbackKind), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("recorded_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)

interaction = sa.Table(
    "interaction", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("channel", text_enum(sales.Channel), nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("contact_name", sa.Text),
    sa.Column("recorded_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)

# the client timeline's page: the newest rows of one client after the cursor
for _table in (interaction, feedback):
    sa.Index(f"{_table.name}_client_created_idx", _table.c.client_id, _table.c.created_at,
             _table.c.id)

stored_document = sa.Table(
    "stored_document", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("client.id"), nullable=False,
              index=True),
    sa.Column("contract_id", UUID(as_uuid=True), sa.ForeignKey("contract.id"), index=True),
    sa.Column("claim_id", UUID(as_uuid=True), sa.ForeignKey("claim.id"), index=True),
    sa.Column("kind", text_enum(files.DocumentKind), nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False, unique=True),
    sa.Column("uploaded_by", sa.Text),
    sa.Column("created_at", _ts, nullable=False),
)
sa.Index("stored_document_client_created_idx", stored_document.c.client_id,
         stored_document.c.created_at, stored_document.c.id)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Client, client)
    mapper_registry.map_imperatively(model.Site, site)
    mapper_registry.map_imperatively(model.Contract, contract)
    mapper_registry.map_imperatively(model.Amendment, amendment)
    mapper_registry.map_imperatively(model.ChangeRequest, change_request)
    mapper_registry.map_imperatively(claims.Claim, claim)
    mapper_registry.map_imperatively(sales.Deal, deal)
    mapper_registry.map_imperatively(sales.Feedback, feedback)
    mapper_registry.map_imperatively(sales.Interaction, interaction)
    mapper_registry.map_imperatively(files.StoredDocument, stored_document)
    _mapped = True
