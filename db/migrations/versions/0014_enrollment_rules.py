"""enrollment rules: who gets which pack by channel, user group, department or team

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Adds two tables and a nullable column (learners.department); changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
    op.create_table(
        'enrollment_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=100), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('pack_id', sa.String(length=64), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('channel', 'group', 'department', 'team')",
                           name=op.f('ck_enrollment_rules_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_rules')),
        sa.UniqueConstraint('kind', 'target', 'pack_id', name=op.f('uq_enrollment_rules_kind_target_pack_id')),
    )
    op.create_table(
        'rule_enrollments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('enrolled', 'already')", name=op.f('ck_rule_enrollments_outcome')),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_rule_enrollments_learner_id_learners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rule_id'], ['enrollment_rules.id'],
                                name=op.f('fk_rule_enrollments_rule_id_enrollment_rules'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_enrollments')),
        sa.UniqueConstraint('rule_id', 'learner_id', name=op.f('uq_rule_enrollments_rule_id_learner_id')),
    )
    with op.batch_alter_table('rule_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_enrollments_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rule_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_enrollments_learner_id'))
    op.drop_table('rule_enrollments')
    op.drop_table('enrollment_rules')
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.drop_column('department')
