"""token revocation: the highest token version per user from web.user.* events

Revision ID: 4700a37cc7fa
Revises: 4cd5f94c2fef
Create Date: 2026-11-27 11:40:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_token_revocation_v1, drop_token_revocation_v1

revision: str = '4700a37cc7fa'
down_revision: str | None = '4cd5f94c2fef'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_token_revocation_v1()


def downgrade() -> None:
    drop_token_revocation_v1()
