"""clients' requests: the journal (client_request) and its per-year counter

Revision ID: requests_client_requests
Revises: 22d766b306ff
Create Date: 2026-11-28 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = 'requests_client_requests'
down_revision: str | None = '22d766b306ff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "client_request",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("client_id", UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("function", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.Column("registered_at", _ts, nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("answered_by", sa.Text),
        sa.Column("answered_at", _ts),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_request")),
        sa.UniqueConstraint("number", name=op.f("uq_client_request_number")),
    )
    op.create_index("client_request_client_idx", "client_request",
                    ["client_id", "registered_at"])
    op.create_index("client_request_open_idx", "client_request", ["function", "registered_at"],
                    postgresql_where=sa.text("state = 'open'"))
    op.create_table(
        "request_journal",
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_request_journal")),
    )


def downgrade() -> None:
    op.drop_table("request_journal")
    op.drop_index("client_request_open_idx", table_name="client_request")
    op.drop_index("client_request_client_idx", table_name="client_request")
    op.drop_table("client_request")
