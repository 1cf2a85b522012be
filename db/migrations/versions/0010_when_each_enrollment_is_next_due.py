"""when each enrollment is next due, so an idle tick reads no enrollment at all

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Adds ``enrollments.next_due_at`` (indexed with ``status``) and ``enrollments.schedule_changes``, the table
``planned_schedules`` (each pack's schedule as the planner last saw it), and triggers that clear an
enrollment's ``next_due_at`` whenever something it was computed from changes: the learner's time zones,
lesson time and days, pause, resume and active flag; the enrollment's status, enrollment time and start
date; a scheduled delivery removed. Existing rows keep every value; their ``next_due_at`` starts empty,
which the planner reads as "not worked out yet" and fills at its next tick — it cannot be backfilled here,
because it depends on the packs' schedules (files) and the default time zone (a setting).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

LEARNER_INPUTS = ("timezone", "slack_timezone", "delivery_time", "delivery_days", "paused_until", "resumed_at",
                  "active")
ENROLLMENT_INPUTS = ("status", "enrolled_at", "starts_on")
CLEAR = "next_due_at = NULL, schedule_changes = schedule_changes + 1"


def _changed(columns, *, postgresql: bool) -> str:
    differs = "IS DISTINCT FROM" if postgresql else "IS NOT"
    return " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in columns)


def upgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_due_at', db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('schedule_changes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_enrollments_due', ['status', 'next_due_at'], unique=False)
    op.create_table(
        'planned_schedules',
        sa.Column('pack_id', sa.String(length=64), nullable=False),
        sa.Column('basis', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('pack_id', name=op.f('pk_planned_schedules')),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION sprout_learner_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN UPDATE enrollments SET {CLEAR} WHERE learner_id = NEW.id; RETURN NULL; END $$""")
        op.execute(f"""
            CREATE TRIGGER learner_schedule_changed AFTER UPDATE ON learners FOR EACH ROW
            WHEN ({_changed(LEARNER_INPUTS, postgresql=True)}) EXECUTE FUNCTION sprout_learner_schedule_changed()""")
        op.execute("""
            CREATE FUNCTION sprout_enrollment_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.next_due_at := NULL; NEW.schedule_changes := OLD.schedule_changes + 1; RETURN NEW; END $$""")
        op.execute(f"""
            CREATE TRIGGER enrollment_schedule_changed BEFORE UPDATE ON enrollments FOR EACH ROW
            WHEN ({_changed(ENROLLMENT_INPUTS, postgresql=True)})
            EXECUTE FUNCTION sprout_enrollment_schedule_changed()""")
        op.execute(f"""
            CREATE FUNCTION sprout_scheduled_delivery_removed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN UPDATE enrollments SET {CLEAR} WHERE id = OLD.enrollment_id; RETURN NULL; END $$""")
        op.execute("""
            CREATE TRIGGER scheduled_delivery_removed AFTER DELETE ON deliveries FOR EACH ROW
            WHEN (OLD.kind = 'scheduled') EXECUTE FUNCTION sprout_scheduled_delivery_removed()""")
    else:
        op.execute(f"""
            CREATE TRIGGER learner_schedule_changed AFTER UPDATE ON learners FOR EACH ROW
            WHEN {_changed(LEARNER_INPUTS, postgresql=False)}
            BEGIN UPDATE enrollments SET {CLEAR} WHERE learner_id = NEW.id; END""")
        op.execute(f"""
            CREATE TRIGGER enrollment_schedule_changed AFTER UPDATE ON enrollments FOR EACH ROW
            WHEN {_changed(ENROLLMENT_INPUTS, postgresql=False)}
            BEGIN UPDATE enrollments SET {CLEAR} WHERE id = NEW.id; END""")
        op.execute(f"""
            CREATE TRIGGER scheduled_delivery_removed AFTER DELETE ON deliveries FOR EACH ROW
            WHEN OLD.kind = 'scheduled'
            BEGIN UPDATE enrollments SET {CLEAR} WHERE id = OLD.enrollment_id; END""")


def downgrade() -> None:
    for trigger, table in (("learner_schedule_changed", "learners"), ("enrollment_schedule_changed", "enrollments"),
                           ("scheduled_delivery_removed", "deliveries")):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if op.get_bind().dialect.name == "postgresql"
                                                           else ""))
    if op.get_bind().dialect.name == "postgresql":
        for function in ("sprout_learner_schedule_changed", "sprout_enrollment_schedule_changed",
                         "sprout_scheduled_delivery_removed"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table('planned_schedules')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_due')
        batch_op.drop_column('schedule_changes')
        batch_op.drop_column('next_due_at')
