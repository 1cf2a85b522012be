"""the rate Slack was found to accept per Web API method, kept across restarts and instances

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Adds one table and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'learned_paces',
        sa.Column('method', sa.String(length=64), nullable=False),
        sa.Column('per_minute', sa.Float(), nullable=False),
        sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('method', name=op.f('pk_learned_paces')),
    )


def downgrade() -> None:
    op.drop_table('learned_paces')
