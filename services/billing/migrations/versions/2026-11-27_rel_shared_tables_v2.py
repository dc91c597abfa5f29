"""shared tables v2: per-aggregate event versions, applied versions, consumer failures

Revision ID: 5a8eb537ffeb
Revises: efe5baf7a02b
Create Date: 2026-11-27 11:30:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_shared_tables_v2, drop_shared_tables_v2

revision: str = '5a8eb537ffeb'
down_revision: str | None = 'efe5baf7a02b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_shared_tables_v2()


def downgrade() -> None:
    drop_shared_tables_v2()
