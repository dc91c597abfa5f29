"""list indexes: my day by (assignee, due_at, id), the timeline by (client_id, at, event_id)

Revision ID: 5b1c9e7a2d40
Revises: f550443cbe9f
Create Date: 2026-11-27 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b1c9e7a2d40'
down_revision: str | None = 'f550443cbe9f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("task_assignee_due_idx", "task", ["assignee", "due_at", "id"],
                    postgresql_where=sa.text("state IN ('open', 'snoozed')"))
    op.drop_index("timeline_entry_client_at_idx", table_name="timeline_entry")
    op.create_index("timeline_entry_client_at_idx", "timeline_entry",
                    ["client_id", "at", "event_id"])


def downgrade() -> None:
    op.drop_index("timeline_entry_client_at_idx", table_name="timeline_entry")
    op.create_index("timeline_entry_client_at_idx", "timeline_entry", ["client_id", "at"])
    op.drop_index("task_assignee_due_idx", table_name="task")
