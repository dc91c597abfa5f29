"""my day's index in the page's order: (assignee, due_at, priority rank desc, id)

Revision ID: perfread_0002
Revises: requests_client_requests
Create Date: 2026-11-27 18:05:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'perfread_0002'
down_revision: str | None = 'requests_client_requests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the same expression as notifications.adapters.orm.PRIORITY_RANK (values written out)
RANK = ("CASE WHEN (priority = 'low') THEN 0 WHEN (priority = 'normal') THEN 1 "
        "WHEN (priority = 'high') THEN 2 WHEN (priority = 'urgent') THEN 3 END")


def upgrade() -> None:
    op.execute(f"CREATE INDEX task_assignee_due_rank_idx ON task "
               f"(assignee, due_at, ({RANK}) DESC, id) WHERE state IN ('open', 'snoozed')")
    op.drop_index("task_assignee_due_idx", table_name="task")


def downgrade() -> None:
    op.execute("CREATE INDEX task_assignee_due_idx ON task (assignee, due_at, id) "
               "WHERE state IN ('open', 'snoozed')")
    op.drop_index("task_assignee_due_rank_idx", table_name="task")
