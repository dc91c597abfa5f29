"""Tables of the logistics database (SQLAlchemy Core: stock changes are conditional
set-wise updates, so nothing here is mapped onto classes)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from clientops_shared.db import make_metadata, shared_tables
from clientops_shared.projections import client_directory

metadata = make_metadata()
shared = shared_tables(metadata)
clients = client_directory(metadata)

MONEY = sa.Numeric(14, 2)
_now = sa.text("now()")
_empty = sa.text("'[]'::jsonb")


def _created() -> list[sa.Column[object]]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                      server_default=_now),
            sa.Column("created_by", sa.Text, nullable=False, server_default="system")]


item = sa.Table(
    "item", metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("tracking", sa.String(8), nullable=False),
    sa.Column("min_stock", sa.Integer, nullable=False, server_default="0"),
    sa.Column("low", sa.Boolean, nullable=False, server_default=sa.false()),
    *_created(),
    sa.CheckConstraint("min_stock >= 0", name="min_stock_not_negative"),
)

stock_balance = sa.Table(
    "stock_balance", metadata,
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), primary_key=True),
    sa.Column("location", sa.String(16), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
)

stock_serial = sa.Table(
    "stock_serial", metadata,
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), primary_key=True),
    sa.Column("serial", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reservation_id", UUID(as_uuid=True)),
    sa.Column("site_id", UUID(as_uuid=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

stock_move = sa.Table(
    "stock_move", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("moved_on", sa.Date, nullable=False, server_default=sa.text("CURRENT_DATE")),
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), nullable=False, index=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("serials", JSONB, nullable=False, server_default=_empty),
    sa.Column("from_location", sa.String(16)),
    sa.Column("to_location", sa.String(16)),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("ref", sa.Text),
    sa.Column("actor", sa.Text, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

reservation = sa.Table(
    "reservation", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), nullable=False, index=True),
    sa.Column("location", sa.String(16), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("serials", JSONB, nullable=False, server_default=_empty),
    sa.Column("work_order_id", UUID(as_uuid=True), index=True),
    sa.Column("shipment_id", UUID(as_uuid=True), index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    *_created(),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

journal_counter = sa.Table(
    "journal_counter", metadata,
    sa.Column("journal", sa.String(32), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

shipment = sa.Table(
    "shipment", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("site_id", UUID(as_uuid=True), nullable=False),
    sa.Column("work_order_id", UUID(as_uuid=True), index=True),
    sa.Column("carrier", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("address", sa.Text),
    sa.Column("contact_name", sa.Text),
    sa.Column("contact_phone", sa.String(32)),
    sa.Column("arrival_on", sa.Date),
    sa.Column("ships_on", sa.Date),
    sa.Column("shipped_on", sa.Date),
    sa.Column("delivered_on", sa.Date),
    sa.Column("received_by", sa.Text),
    sa.Column("carrier_order_id", sa.Text),
    sa.Column("tracking_number", sa.Text),
    sa.Column("tracking_url", sa.Text),
    sa.Column("carrier_status", sa.String(24)),
    sa.Column("carrier_status_raw", sa.Text),
    sa.Column("carrier_checked_at", sa.DateTime(timezone=True)),
    sa.Column("price", MONEY),
    *_created(),
)

shipment_line = sa.Table(
    "shipment_line", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("shipment_id", UUID(as_uuid=True), sa.ForeignKey("shipment.id"), nullable=False,
              index=True),
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("serials", JSONB, nullable=False, server_default=_empty),
    sa.Column("reservation_id", UUID(as_uuid=True), nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

courier_account = sa.Table(
    "courier_account", metadata,
    sa.Column("carrier", sa.String(16), primary_key=True),
    sa.Column("balance", MONEY),
    sa.Column("threshold", MONEY, nullable=False),
    sa.Column("low", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("checked_at", sa.DateTime(timezone=True)),
)

document_delivery = sa.Table(
    "document_delivery", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("journal_number", sa.String(32), nullable=False, unique=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("address", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("courier", sa.Text),
    sa.Column("courier_kind", sa.String(16)),
    sa.Column("handed_on", sa.Date),
    sa.Column("delivered_on", sa.Date),
    sa.Column("originals_due_on", sa.Date),
    sa.Column("reminded_on", sa.Date),
    sa.Column("escalated_on", sa.Date),
    sa.Column("returned_on", sa.Date),
    sa.Column("accounting_on", sa.Date),
    sa.Column("accounting_mark", sa.Text),
    *_created(),
)

delivery_document = sa.Table(
    "delivery_document", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("delivery_id", UUID(as_uuid=True), sa.ForeignKey("document_delivery.id"),
              nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("original_required", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("returned_on", sa.Date),
)

closing_document = sa.Table(
    "closing_document", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("shipment_id", UUID(as_uuid=True), unique=True),
    sa.Column("work_order_id", UUID(as_uuid=True), unique=True),
    sa.Column("number", sa.String(64)),
    sa.Column("amount", MONEY),
    sa.Column("expected_on", sa.Date, nullable=False),
    sa.Column("sent_on", sa.Date),
    sa.Column("signed_on", sa.Date),
    sa.Column("returned_on", sa.Date),
    sa.Column("reminded_on", sa.Date),
    sa.Column("escalated_on", sa.Date),
    *_created(),
)

received_document = sa.Table(
    "received_document", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("amount", MONEY),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("accounting_on", sa.Date),
    sa.Column("accounting_by", sa.Text),
    *_created(),
    sa.UniqueConstraint("client_id", "kind", "number", "issued_on",
                        name="received_document_once"),
)

supplier = sa.Table(
    "supplier", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("inn", sa.String(12), nullable=False, unique=True),
    sa.Column("contacts", JSONB, nullable=False, server_default=_empty),
    sa.Column("notes", sa.Text),
    *_created(),
)

supplier_price = sa.Table(
    "supplier_price", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("supplier_id", UUID(as_uuid=True), sa.ForeignKey("supplier.id"), nullable=False),
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("availability", sa.Text),
    *_created(),
    sa.UniqueConstraint("supplier_id", "item", "valid_from", name="supplier_price_once"),
    sa.CheckConstraint("price > 0", name="price_positive"),
)

purchase_order = sa.Table(
    "purchase_order", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("supplier_id", UUID(as_uuid=True), sa.ForeignKey("supplier.id"), nullable=False,
              index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("request_id", UUID(as_uuid=True)),
    sa.Column("expected_ship_on", sa.Date),
    sa.Column("invoice_number", sa.String(64)),
    sa.Column("invoice_issued_on", sa.Date),
    sa.Column("invoice_amount", MONEY),
    sa.Column("invoice_vat", MONEY),
    sa.Column("invoice_due_on", sa.Date),
    sa.Column("received_on", sa.Date),
    sa.Column("remote_acceptance", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("acceptance_note", sa.Text),
    sa.Column("overdue_flagged_on", sa.Date),
    sa.Column("note", sa.Text),
    *_created(),
)

purchase_order_line = sa.Table(
    "purchase_order_line", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("purchase_order.id"),
              nullable=False, index=True),
    sa.Column("item", sa.String(64), sa.ForeignKey("item.sku"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

purchase_attachment = sa.Table(
    "purchase_attachment", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("purchase_order.id"),
              nullable=False, index=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    *_created(),
)

purchase_request = sa.Table(
    "purchase_request", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("work_order_id", UUID(as_uuid=True), index=True),
    sa.Column("client_id", UUID(as_uuid=True)),
    sa.Column("site_id", UUID(as_uuid=True)),
    sa.Column("lines", JSONB, nullable=False),
    sa.Column("needed_by", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    *_created(),
)

goods_search = sa.Table(
    "goods_search", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("supplier_id", UUID(as_uuid=True), sa.ForeignKey("supplier.id")),
    sa.Column("notes", JSONB, nullable=False, server_default=_empty),
    *_created(),
)


def start_mappers() -> None:
    """Nothing mapped: logistics writes with SQLAlchemy Core (see the module docstring)."""
