"""messages to redraw: a click's record is kept before the ack, its message drawn after

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Adds one table and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_redraws',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('since', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('lesson', 'review', 'receipt')", name=op.f('ck_pending_redraws_kind')),
    sa.PrimaryKeyConstraint('kind', 'ref_id', name=op.f('pk_pending_redraws'))
    )
    with op.batch_alter_table('pending_redraws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_redraws_since'), ['since'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_redraws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_redraws_since'))
    op.drop_table('pending_redraws')
