"""invoice run: how many invoices a run found already issued

Revision ID: ae6b50d82e17
Revises: 5a8eb537ffeb
Create Date: 2026-11-27 11:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ae6b50d82e17'
down_revision: str | None = '5a8eb537ffeb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('invoice_run', sa.Column('already', sa.Integer(), server_default='0',
                                           nullable=False))


def downgrade() -> None:
    op.drop_column('invoice_run', 'already')
