"""shared tables v2: per-aggregate event versions, applied versions, consumer failures

Revision ID: f550443cbe9f
Revises: 9623f5d70014
Create Date: 2026-11-27 11:30:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_shared_tables_v2, drop_shared_tables_v2

revision: str = 'f550443cbe9f'
down_revision: str | None = '9623f5d70014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_shared_tables_v2()


def downgrade() -> None:
    drop_shared_tables_v2()
