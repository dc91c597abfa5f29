"""Tables of the billing database and their mapping onto the domain classes.

Subscriptions (with their fee schedule and suspensions) are mapped onto the domain classes;
the invoice ledger is written set-based with SQLAlchemy Core (the monthly run inserts
thousands of rows per batch), so those tables are not mapped.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import registry, relationship

from billing.domain import model
from clientops_shared.db import make_metadata, shared_tables

metadata = make_metadata()
shared = shared_tables(metadata)
mapper_registry = registry(metadata=metadata)

MONEY = sa.Numeric(14, 2)
_now = sa.text("now()")


def _uuid_pk() -> sa.Column[object]:
    return sa.Column("id", UUID(as_uuid=True), primary_key=True)


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
    sa.Column("monthly_fee", MONEY, nullable=False),
    sa.Column("vat_mode", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),
    sa.Column("bill_from_install", sa.Boolean, nullable=False),
    sa.Column("auto_renew", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("payment_form", sa.Text, nullable=False, server_default="cashless"),
    sa.Column("site_id", UUID(as_uuid=True), index=True),
    sa.Column("service_start", sa.Date),
    sa.Column("terminated_on", sa.Date),
    sa.Column("installed_on", sa.Date),
    sa.Column("converted_to", UUID(as_uuid=True)),
    sa.Column("status", sa.Enum(model.SubscriptionStatus, native_enum=False, length=16,
                                values_callable=lambda e: [m.value for m in e],
                                name="subscriptionstatus"), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
)

subscription_fee = sa.Table(
    "subscription_fee", metadata,
    _uuid_pk(),
    sa.Column("subscription_id", UUID(as_uuid=True),
              sa.ForeignKey("subscription.id", ondelete="CASCADE"), nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("monthly_fee", MONEY, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.UniqueConstraint("subscription_id", "effective_from"),
    sa.CheckConstraint("monthly_fee >= 0", name="fee_not_negative"),
)

subscription_suspension = sa.Table(
    "subscription_suspension", metadata,
    _uuid_pk(),
    sa.Column("subscription_id", UUID(as_uuid=True),
              sa.ForeignKey("subscription.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("suspended_from", sa.Date, nullable=False),
    sa.Column("resume_on", sa.Date),
    sa.CheckConstraint("resume_on IS NULL OR resume_on > suspended_from", name="resume_after"),
)

# --- the invoice ledger ---------------------------------------------------------------------

invoice = sa.Table(
    "invoice", metadata,
    _uuid_pk(),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("contract_id", UUID(as_uuid=True), nullable=False),
    sa.Column("contract_number", sa.Text, nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("period", sa.String(7), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("corrects_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id")),
    sa.Column("vat_mode", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("vat", MONEY, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False, server_default="0"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("paid_on", sa.Date),
    sa.Column("run_id", UUID(as_uuid=True)),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    # exactly once: one invoice (and one credit note) per contract, period and revision; the
    # monthly run only ever writes revision 0, corrections the next revision
    sa.UniqueConstraint("contract_id", "period", "kind", "revision",
                        name="invoice_contract_period_key"),
    sa.CheckConstraint("paid >= 0", name="paid_not_negative"),
)
sa.Index("invoice_open_idx", invoice.c.due_on,
         postgresql_where=invoice.c.status.in_(("issued", "partially_paid")))
# the invoice list's order (newest period first, then by number), for keyset pages
sa.Index("invoice_period_number_idx", invoice.c.period.desc(), invoice.c.number)
sa.Index("invoice_client_period_number_idx", invoice.c.client_id, invoice.c.period.desc(),
         invoice.c.number)

invoice_line = sa.Table(
    "invoice_line", metadata,
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.SmallInteger, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("service_from", sa.Date, nullable=False),
    sa.Column("service_to", sa.Date, nullable=False),
    sa.Column("days", sa.SmallInteger, nullable=False),
    sa.Column("days_in_month", sa.SmallInteger, nullable=False),
    sa.Column("fee", MONEY, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("vat_rate", sa.Numeric(5, 2)),
    sa.Column("vat", MONEY, nullable=False),
    sa.Column("total", MONEY, nullable=False),
)

invoice_counter = sa.Table(
    "invoice_counter", metadata,
    sa.Column("series", sa.Text, primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

invoice_run = sa.Table(
    "invoice_run", metadata,
    _uuid_pk(),
    sa.Column("period", sa.String(7), nullable=False, index=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("issued", sa.Integer, nullable=False, server_default="0"),
    sa.Column("skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    # invoices found already issued (by an earlier, interrupted or concurrent run)
    sa.Column("already", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lock_key", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("error", sa.Text),
)

invoice_run_failure = sa.Table(
    "invoice_run_failure", metadata,
    sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("invoice_run.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("contract_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("contract_number", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

invoice_adjustment = sa.Table(
    "invoice_adjustment", metadata,
    _uuid_pk(),
    sa.Column("contract_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("for_period", sa.String(7), nullable=False),
    sa.Column("about_invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id")),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("vat_rate", sa.Numeric(5, 2)),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("vat", MONEY, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("applied_invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

# --- payments ---------------------------------------------------------------------------------

bank_statement = sa.Table(
    "bank_statement", metadata,
    _uuid_pk(),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("filename", sa.Text),
    sa.Column("encoding", sa.Text, nullable=False),
    sa.Column("date_from", sa.Date),
    sa.Column("date_to", sa.Date),
    sa.Column("summary", JSONB, nullable=False),
    sa.Column("imported_by", sa.Text, nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

payment = sa.Table(
    "payment", metadata,
    _uuid_pk(),
    sa.Column("source", sa.Text, nullable=False),
    # a payment order seen in two overlapping statements is one payment
    sa.Column("bank_key", sa.Text, unique=True),
    sa.Column("statement_id", UUID(as_uuid=True), sa.ForeignKey("bank_statement.id")),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("payer_inn", sa.String(12)),
    sa.Column("payer_name", sa.Text),
    sa.Column("purpose", sa.Text),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), index=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("match_method", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

# the payments list's order (newest first), for keyset pages
sa.Index("payment_paid_on_id_idx", payment.c.paid_on.desc(), payment.c.id.desc())

payment_allocation = sa.Table(
    "payment_allocation", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("payment_id", UUID(as_uuid=True), sa.ForeignKey("payment.id"), nullable=False,
              index=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), nullable=False,
              index=True),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

# --- dunning ----------------------------------------------------------------------------------

dunning_reminder = sa.Table(
    "dunning_reminder", metadata,
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), primary_key=True),
    sa.Column("reminded_on", sa.Date, primary_key=True),
    sa.Column("days_overdue", sa.Integer, nullable=False),
    sa.Column("reminder_count", sa.Integer, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("outstanding", MONEY, nullable=False),
)

dunning_note = sa.Table(
    "dunning_note", metadata,
    _uuid_pk(),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), nullable=False,
              index=True),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("promised_on", sa.Date),
    sa.Column("comment", sa.Text),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

# --- site rent (we pay site owners) ---------------------------------------------------------

rent_agreement = sa.Table(
    "rent_agreement", metadata,
    _uuid_pk(),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("owner_name", sa.Text, nullable=False),
    sa.Column("owner_inn", sa.String(12), nullable=False),
    sa.Column("owner_account", sa.String(20)),
    sa.Column("owner_bic", sa.String(9)),
    sa.Column("owner_bank", sa.Text),
    sa.Column("site_id", UUID(as_uuid=True), index=True),
    sa.Column("site_name", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    # opened by a signed rent contract (we are Арендатор): its terms follow the contract's
    # events; terminals paid = max(contracted, installed) — installed from field-ops' events
    sa.Column("contract_id", UUID(as_uuid=True), unique=True),
    sa.Column("contracted_terminals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("installed_terminals", sa.Integer, nullable=False, server_default="0"),
)

rent_term = sa.Table(
    "rent_term", metadata,
    sa.Column("agreement_id", UUID(as_uuid=True),
              sa.ForeignKey("rent_agreement.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("terminals", sa.Integer, nullable=False),
    sa.Column("amount_per_terminal", MONEY, nullable=False),
    sa.Column("payment_form", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.CheckConstraint("terminals >= 0", name="terminals_not_negative"),
    sa.CheckConstraint("amount_per_terminal >= 0", name="amount_not_negative"),
)

rent_registry = sa.Table(
    "rent_registry", metadata,
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("rows", JSONB, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

cash_route = sa.Table(
    "cash_route", metadata,
    _uuid_pk(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("courier", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

cash_route_stop = sa.Table(
    "cash_route_stop", metadata,
    sa.Column("route_id", UUID(as_uuid=True), sa.ForeignKey("cash_route.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("agreement_id", UUID(as_uuid=True), sa.ForeignKey("rent_agreement.id"),
              primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.UniqueConstraint("route_id", "position"),
)

cash_route_month = sa.Table(
    "cash_route_month", metadata,
    _uuid_pk(),
    sa.Column("route_id", UUID(as_uuid=True), sa.ForeignKey("cash_route.id"), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("requested_by", sa.Text),
    sa.Column("requested_at", sa.DateTime(timezone=True)),
    sa.Column("permission_no", sa.Text),
    sa.Column("permitted_by", sa.Text),
    sa.Column("permitted_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("route_id", "period"),
)

cash_route_item = sa.Table(
    "cash_route_item", metadata,
    sa.Column("route_month_id", UUID(as_uuid=True),
              sa.ForeignKey("cash_route_month.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agreement_id", UUID(as_uuid=True), sa.ForeignKey("rent_agreement.id"),
              primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("paid_on", sa.Date),
    sa.Column("receipt_kind", sa.Text),
    sa.Column("receipt_no", sa.Text),
    sa.Column("courier_note", sa.Text),
    sa.Column("confirmed_by", sa.Text),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
)

# --- payables (supplier and carrier invoices) and PlanFact --------------------------------------

supplier_invoice = sa.Table(
    "supplier_invoice", metadata,
    _uuid_pk(),
    sa.Column("supplier_name", sa.Text, nullable=False),
    sa.Column("supplier_inn", sa.String(12), nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("vat", MONEY, nullable=False),
    sa.Column("due_on", sa.Date),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("approved_by", sa.Text),
    sa.Column("requested_by", sa.Text),
    sa.Column("paid_on", sa.Date),
    sa.Column("reason", sa.Text),
    sa.Column("planfact_operation_id", sa.Text),
    sa.Column("planfact_state", sa.Text, nullable=False, server_default="pending"),
    sa.Column("planfact_error", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("supplier_inn", "number", "issued_on"),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

# --- exports to 1C ------------------------------------------------------------------------------

onec_export = sa.Table(
    "onec_export", metadata,
    _uuid_pk(),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("counts", JSONB, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.ClientAccount, client_account)
    fees = mapper_registry.map_imperatively(model.FeeEntry, subscription_fee)
    suspensions = mapper_registry.map_imperatively(model.SuspensionEntry,
                                                   subscription_suspension)
    mapper_registry.map_imperatively(model.Subscription, subscription, properties={
        "fees": relationship(fees, lazy="selectin", cascade="all, delete-orphan"),
        "suspensions": relationship(suspensions, lazy="selectin",
                                    cascade="all, delete-orphan"),
    })
    _mapped = True
