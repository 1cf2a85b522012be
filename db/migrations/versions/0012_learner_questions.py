"""questions learners typed to Sprout's DM and passed to the facilitators

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Adds one table and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'learner_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('message_ts', sa.String(length=32), nullable=False),
        sa.Column('thread_ts', sa.String(length=32), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('passed_to', sa.String(length=32), nullable=False),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_questions_learner_id_learners'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_questions')),
        sa.UniqueConstraint('channel_id', 'message_ts', name=op.f('uq_learner_questions_channel_id_message_ts')),
    )
    with op.batch_alter_table('learner_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_questions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_questions_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learner_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_questions_learner_id'))
        batch_op.drop_index(batch_op.f('ix_learner_questions_created_at'))
    op.drop_table('learner_questions')
