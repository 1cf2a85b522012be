"""content health: lessons retired, lesson links checked, flags an author marked handled

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Adds three tables and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retired_lessons',
        sa.Column('pack_id', sa.String(length=64), nullable=False),
        sa.Column('lesson_id', sa.String(length=64), nullable=False),
        sa.Column('retired_by', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('retired_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pack_id', 'lesson_id', name=op.f('pk_retired_lessons')),
    )
    op.create_table(
        'link_checks',
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('failing_since', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('checked_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('url', name=op.f('pk_link_checks')),
    )
    op.create_table(
        'handled_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('pack_id', sa.String(length=64), nullable=False),
        sa.Column('lesson_id', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=2000), nullable=False),
        sa.Column('handled_by', sa.String(length=64), nullable=False),
        sa.Column('handled_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handled_flags')),
        sa.UniqueConstraint('kind', 'pack_id', 'lesson_id', 'subject', name=op.f('uq_handled_flags_kind_pack_id_lesson_id_subject')),
    )


def downgrade() -> None:
    op.drop_table('handled_flags')
    op.drop_table('link_checks')
    op.drop_table('retired_lessons')
