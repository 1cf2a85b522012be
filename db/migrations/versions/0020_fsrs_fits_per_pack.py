"""FSRS fits per pack: a fit may be a pack's own

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Adds fsrs_fits.pack_id (null: the workspace's parameters, as every fit before was) and changes no
existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fsrs_fits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pack_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_fsrs_fits_pack_id'), ['pack_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fsrs_fits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fsrs_fits_pack_id'))
        batch_op.drop_column('pack_id')
