"""Tables of the field-ops database and the imperative mapping onto the domain classes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import registry

from clientops_shared.db import make_metadata, shared_tables, text_enum
from clientops_shared.projections import client_directory
from field_ops.domain import model

metadata = make_metadata()
shared = shared_tables(metadata)
clients = client_directory(metadata)
mapper_registry = registry(metadata=metadata)

_ts = sa.DateTime(timezone=True)

# --- projections of contracts' data ---------------------------------------------------------
sites = sa.Table(
    "site_directory", metadata,
    sa.Column("site_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False, server_default=""),
    sa.Column("access_points", sa.Integer, nullable=False, server_default="0"),
    sa.Column("server_format", sa.Text),
    sa.Column("contact_name", sa.Text),
    sa.Column("contact_phone", sa.Text),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
)

contract_terms = sa.Table(
    "contract_terms", metadata,
    sa.Column("contract_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True)),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("emergency_sla_days", sa.Integer),
    sa.Column("scheduled_visits", sa.Integer),
    sa.Column("visit_period", sa.Text),
    sa.Column("terminated_on", sa.Date),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
)

# --- who may be sent to a site --------------------------------------------------------------
technicians = sa.Table(
    "technician", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
)

# --- the journal: one counter row per year, locked by the approving transaction -----------
journal_counter = sa.Table(
    "journal_counter", metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

work_order = sa.Table(
    "work_order", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("contract_id", UUID(as_uuid=True), index=True),
    sa.Column("kind", text_enum(model.WorkOrderKind), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("status", text_enum(model.WorkOrderStatus), nullable=False, index=True),
    sa.Column("origin", sa.Text, nullable=False, server_default="manual"),
    sa.Column("awaiting_goods", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("incident_id", UUID(as_uuid=True)),
    sa.Column("journal_year", sa.Integer),
    sa.Column("journal_seq", sa.Integer),
    sa.Column("journal_number", sa.Text, unique=True),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", _ts),
    sa.Column("decision_reason", sa.Text),
    sa.Column("visit_on", sa.Date, index=True),
    sa.Column("window", sa.Text),
    sa.Column("contact_name", sa.Text),
    sa.Column("contact_phone", sa.Text),
    sa.Column("technician", sa.Text, index=True),
    sa.Column("contractor_id", UUID(as_uuid=True), index=True),
    sa.Column("agreed_price", sa.Numeric(12, 2)),
    sa.Column("reschedule_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_done_reason", sa.Text),
    sa.Column("completed_on", sa.Date),
    sa.Column("completed_at", _ts),
    sa.Column("due_by", sa.Date),
    sa.Column("due_at", _ts),
    sa.Column("sla_breached_at", _ts),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.UniqueConstraint("journal_year", "journal_seq", name="work_order_journal_uq"),
)

# an order created by an event (contract signed / terminated) exists once per (origin, source)
work_order_source = sa.Table(
    "work_order_source", metadata,
    sa.Column("origin", sa.Text, primary_key=True),
    sa.Column("source_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), nullable=False),
)

work_order_report = sa.Table(
    "work_order_report", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("visit_on", sa.Date),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("equipment", JSONB, nullable=False, server_default="[]"),
    sa.Column("works", JSONB, nullable=False, server_default="[]"),
    sa.Column("reported_by", sa.Text, nullable=False),
    sa.Column("reported_at", _ts, nullable=False, server_default=sa.func.now()),
)

work_order_problem = sa.Table(
    "work_order_problem", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("reported_by", sa.Text, nullable=False),
    sa.Column("reported_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Column("decision", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", _ts),
)

# --- equipment register per site -------------------------------------------------------------
equipment = sa.Table(
    "equipment", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("contract_id", UUID(as_uuid=True)),
    sa.Column("type", text_enum(model.EquipmentType), nullable=False),
    sa.Column("serial", sa.Text, nullable=False),
    sa.Column("installed_on", sa.Date, nullable=False),
    sa.Column("removed_on", sa.Date),
    sa.Column("installed_by", UUID(as_uuid=True)),
    sa.Column("removed_by", UUID(as_uuid=True)),
    sa.Index("equipment_serial_in_place_uq", "serial", unique=True,
             postgresql_where=sa.text("removed_on IS NULL")),
)

downtime_incident = sa.Table(
    "downtime_incident", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("serial", sa.Text),
    sa.Column("source", text_enum(model.IncidentSource), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("reported_by", sa.Text, nullable=False),
    sa.Column("started_at", _ts, nullable=False),
    sa.Column("state", text_enum(model.IncidentState), nullable=False, index=True),
    sa.Column("cause", sa.Text),
    sa.Column("resolved_at", _ts),
    sa.Column("escalated_at", _ts),
    sa.Column("created_at", _ts, nullable=False),
)

# --- maintenance plans (000 §11) -------------------------------------------------------------
maintenance_plan = sa.Table(
    "maintenance_plan", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("contract_id", UUID(as_uuid=True), unique=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True), nullable=False),
    sa.Column("visits", sa.Integer, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),
    sa.Column("lead_days", sa.Integer, nullable=False, server_default="14"),
    sa.Column("works", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
)

maintenance_visit = sa.Table(
    "maintenance_visit", metadata,
    sa.Column("plan_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("planned_on", sa.Date, primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), nullable=False),
)

parts_request = sa.Table(
    "parts_request", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("lines", JSONB, nullable=False),
    sa.Column("needed_by", sa.Date),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requested_at", _ts, nullable=False, server_default=sa.func.now()),
)

# --- contractors (000 §18) -------------------------------------------------------------------
contractor = sa.Table(
    "contractor", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("inn", sa.String(12)),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("contract_number", sa.Text),
    sa.Column("contract_signed_on", sa.Date),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
)

contractor_price = sa.Table(
    "contractor_price", metadata,
    sa.Column("contractor_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("service", text_enum(model.WorkOrderKind), primary_key=True),
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("price", sa.Numeric(12, 2), nullable=False),
    sa.Column("note", sa.Text),
)

# --- onboarding (000 §6, 7) ------------------------------------------------------------------
cloud_tenant = sa.Table(
    "cloud_tenant", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("contract_id", UUID(as_uuid=True)),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("url", sa.Text, unique=True),
    sa.Column("login", sa.Text),
    sa.Column("tenant_ref", sa.Text),
    sa.Column("support_account", sa.Text),
    sa.Column("requested_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Column("provisioned_at", _ts),
    sa.Column("provisioned_by", sa.Text),
)

training_session = sa.Table(
    "training_session", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("starts_at", _ts, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("topic", sa.Text),
    sa.Column("meeting_url", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("reschedule_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("recording_url", sa.Text),
    sa.Column("feedback", sa.Text),
    sa.Column("questionnaire", JSONB),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now()),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.WorkOrder, work_order)
    mapper_registry.map_imperatively(model.DowntimeIncident, downtime_incident)
    _mapped = True
