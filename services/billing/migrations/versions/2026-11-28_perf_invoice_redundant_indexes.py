"""invoice: drop the client_id and period indexes, prefixes of (client_id, period DESC,
number) and (period DESC, number): every invoice the run writes paid for two more index
entries that no query needs

Revision ID: perf_invoice_redundant_indexes
Revises: paydesk_payment_list_idx
Create Date: 2026-11-28 09:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'perf_invoice_redundant_indexes'
down_revision: str | None = 'paydesk_payment_list_idx'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("invoice_client_id_idx", table_name="invoice")
    op.drop_index("invoice_period_idx", table_name="invoice")


def downgrade() -> None:
    op.create_index("invoice_period_idx", "invoice", ["period"])
    op.create_index("invoice_client_id_idx", "invoice", ["client_id"])
