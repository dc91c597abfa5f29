"""token revocation: the highest token version per user from web.user.* events

Revision ID: 6f3911f41bf3
Revises: 7c2e4f9b1a63
Create Date: 2026-11-27 11:40:00
"""
from collections.abc import Sequence

from clientops_shared.migrations import create_token_revocation_v1, drop_token_revocation_v1

revision: str = '6f3911f41bf3'
down_revision: str | None = '7c2e4f9b1a63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_token_revocation_v1()


def downgrade() -> None:
    drop_token_revocation_v1()
