"""token revocation: the highest token version per user from web.user.* events

Revision ID: 22d766b306ff
Revises: 5b1c9e7a2d40
Create Date: 2026-11-27 11:40:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_token_revocation_v1, drop_token_revocation_v1

revision: str = '22d766b306ff'
down_revision: str | None = '5b1c9e7a2d40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_token_revocation_v1()


def downgrade() -> None:
    drop_token_revocation_v1()
