"""payment list index: (paid_on desc, id desc) for keyset pages of the payments desk

Revision ID: paydesk_payment_list_idx
Revises: 3d9a6c1e8f27
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "paydesk_payment_list_idx"
down_revision: str | None = "3d9a6c1e8f27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "payment_paid_on_id_idx", "payment", [sa.text("paid_on DESC"), sa.text("id DESC")]
    )


def downgrade() -> None:
    op.drop_index("payment_paid_on_id_idx", table_name="payment")
