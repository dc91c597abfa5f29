"""client timeline indexes: (client_id, created_at, id) where a client's rows keep growing

Revision ID: perfread_0001
Revises: 6f3911f41bf3
Create Date: 2026-11-27 17:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'perfread_0001'
down_revision: str | None = '6f3911f41bf3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the timeline's page reads each table's newest rows of one client after the cursor
TABLES = ("interaction", "stored_document", "feedback")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"{table}_client_created_idx", table, ["client_id", "created_at", "id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"{table}_client_created_idx", table_name=table)
