"""contributions to packs proposed with /learn suggest and reviewed by facilitators

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Adds one table and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pack_contributions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('pack_id', sa.String(length=64), nullable=False),
        sa.Column('lesson_id', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('accepted_content', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('pack_version', sa.Integer(), nullable=True),
        sa.Column('submission_key', sa.String(length=64), nullable=False),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reviewed_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('question', 'link', 'lesson')", name=op.f('ck_pack_contributions_kind')),
        sa.CheckConstraint("state IN ('proposed', 'accepted', 'changed', 'declined')",
                           name=op.f('ck_pack_contributions_state')),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_pack_contributions_learner_id_learners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewer_id'], ['learners.id'],
                                name=op.f('fk_pack_contributions_reviewer_id_learners'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_contributions')),
        sa.UniqueConstraint('submission_key', name=op.f('uq_pack_contributions_submission_key')),
    )
    with op.batch_alter_table('pack_contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_contributions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_contributions_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_contributions_reviewed_at'), ['reviewed_at'], unique=False)
        batch_op.create_index('ix_pack_contributions_state_created_at', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pack_contributions', schema=None) as batch_op:
        batch_op.drop_index('ix_pack_contributions_state_created_at')
        batch_op.drop_index(batch_op.f('ix_pack_contributions_reviewed_at'))
        batch_op.drop_index(batch_op.f('ix_pack_contributions_learner_id'))
        batch_op.drop_index(batch_op.f('ix_pack_contributions_created_at'))
    op.drop_table('pack_contributions')
