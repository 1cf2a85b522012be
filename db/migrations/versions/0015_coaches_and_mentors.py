"""coaches and mentors: two roles, and each learner's coach with their choice to share notes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Widens the CHECK on ``learners.role`` to admit 'coach' and 'mentor' (every stored role stays allowed) and
adds ``coach_assignments``. On SQLite the learners table is recreated (batch mode, foreign keys off as for
every migration, see db/migrations/env.py): every row is copied, and the triggers on it (0010's
``learner_schedule_changed``), which SQLite drops with the old table, are made again from their own
stored SQL. PostgreSQL changes the constraint in place.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('learner', 'manager', 'facilitator', 'admin')"
NEW_ROLES = "role IN ('learner', 'manager', 'facilitator', 'admin', 'coach', 'mentor')"


def _learner_triggers() -> list[str]:
    """SQLite: the CREATE TRIGGER statements of the triggers on ``learners``, as stored."""
    if op.get_bind().dialect.name != "sqlite":
        return []
    return list(op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'learners' AND sql IS NOT NULL "
        "ORDER BY name").scalars())


def _roles(check: str) -> None:
    triggers = _learner_triggers()
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_learners_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_learners_role'), check)
    for statement in triggers:
        op.execute(statement)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        'coach_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('coach_id', sa.Integer(), nullable=False),
        sa.Column('shares_notes', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('sharing_changed_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('assigned_by', sa.String(length=64), nullable=False),
        sa.Column('assigned_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['coach_id'], ['learners.id'], name=op.f('fk_coach_assignments_coach_id_learners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'],
                                name=op.f('fk_coach_assignments_learner_id_learners'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coach_assignments')),
        sa.UniqueConstraint('learner_id', name=op.f('uq_coach_assignments_learner_id')),
    )
    with op.batch_alter_table('coach_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coach_assignments_coach_id'), ['coach_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coach_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coach_assignments_coach_id'))
    op.drop_table('coach_assignments')
    # Coaches and mentors become learners again: the narrower constraint would refuse them.
    op.execute("UPDATE learners SET role = 'learner' WHERE role IN ('coach', 'mentor')")
    _roles(OLD_ROLES)
