"""invoice list indexes: (period desc, number) and (client_id, period desc, number) for keyset
pages

Revision ID: 3d9a6c1e8f27
Revises: 84af7630bc5c
Create Date: 2026-11-27 12:25:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3d9a6c1e8f27'
down_revision: str | None = '84af7630bc5c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("invoice_period_number_idx", "invoice", [sa.text("period DESC"), "number"])
    op.create_index("invoice_client_period_number_idx", "invoice",
                    ["client_id", sa.text("period DESC"), "number"])


def downgrade() -> None:
    op.drop_index("invoice_client_period_number_idx", table_name="invoice")
    op.drop_index("invoice_period_number_idx", table_name="invoice")
