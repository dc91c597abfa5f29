"""client list indexes: (name, id) and (manager, name, id) for keyset pages

Revision ID: 7c2e4f9b1a63
Revises: 5007142c8677
Create Date: 2026-11-27 12:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '7c2e4f9b1a63'
down_revision: str | None = '5007142c8677'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("client_name_id_idx", "client", ["name", "id"])
    op.create_index("client_manager_name_id_idx", "client", ["manager", "name", "id"])


def downgrade() -> None:
    op.drop_index("client_manager_name_id_idx", table_name="client")
    op.drop_index("client_name_id_idx", table_name="client")
