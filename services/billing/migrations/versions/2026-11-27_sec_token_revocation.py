"""token revocation: the highest token version per user from web.user.* events

Revision ID: e02bf9be4064
Revises: ae6b50d82e17
Create Date: 2026-11-27 11:40:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_token_revocation_v1, drop_token_revocation_v1

revision: str = 'e02bf9be4064'
down_revision: str | None = 'ae6b50d82e17'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_token_revocation_v1()


def downgrade() -> None:
    drop_token_revocation_v1()
