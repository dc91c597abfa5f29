"""token versions per user, token revocation, login throttle per account and address

Revision ID: 3dafad0396ff
Revises: befb0a9f0272
Create Date: 2026-11-27 11:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clientops_shared.migrations import create_token_revocation_v1, drop_token_revocation_v1

revision: str = '3dafad0396ff'
down_revision: str | None = 'befb0a9f0272'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_token_revocation_v1()
    op.add_column('user_account', sa.Column('token_version', sa.Integer(), server_default='0',
                                            nullable=False))
    op.create_table(
        'login_throttle',
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('login_throttle_pkey')),
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    op.drop_column('user_account', 'token_version')
    drop_token_revocation_v1()
