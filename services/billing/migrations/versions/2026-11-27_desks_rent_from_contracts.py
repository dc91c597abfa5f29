"""rent from contracts: a signed rent contract opens the site owner's rent agreement

Revision ID: 84af7630bc5c
Revises: e02bf9be4064
Create Date: 2026-11-27 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '84af7630bc5c'
down_revision: str | None = 'e02bf9be4064'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('rent_agreement', sa.Column('contract_id', sa.UUID(), nullable=True))
    op.add_column('rent_agreement', sa.Column('contracted_terminals', sa.Integer(),
                                              server_default='0', nullable=False))
    op.add_column('rent_agreement', sa.Column('installed_terminals', sa.Integer(),
                                              server_default='0', nullable=False))
    op.create_unique_constraint(op.f('rent_agreement_contract_id_key'), 'rent_agreement',
                                ['contract_id'])


def downgrade() -> None:
    op.drop_constraint(op.f('rent_agreement_contract_id_key'), 'rent_agreement', type_='unique')
    op.drop_column('rent_agreement', 'installed_terminals')
    op.drop_column('rent_agreement', 'contracted_terminals')
    op.drop_column('rent_agreement', 'contract_id')
