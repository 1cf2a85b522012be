"""FSRS parameters fitted to the workspace's reviews (review optimize)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Adds one table and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fsrs_fits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('parameters', sa.Text(), nullable=False),
        sa.Column('log_loss', sa.Float(), nullable=False),
        sa.Column('default_log_loss', sa.Float(), nullable=False),
        sa.Column('current_log_loss', sa.Float(), nullable=True),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.Column('learners', sa.Integer(), nullable=False),
        sa.Column('held_out_reviews', sa.Integer(), nullable=False),
        sa.Column('adopted', sa.Boolean(), nullable=False),
        sa.Column('rescheduled', sa.Integer(), nullable=False),
        sa.Column('fitted_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fsrs_fits')),
    )
    with op.batch_alter_table('fsrs_fits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fsrs_fits_fitted_at'), ['fitted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fsrs_fits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fsrs_fits_fitted_at'))
    op.drop_table('fsrs_fits')
