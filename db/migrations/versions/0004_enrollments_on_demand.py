"""enrollments may be on demand (lessons pulled by search, no schedule)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrollments_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_enrollments_status'), "status IN ('active', 'completed', 'left', 'on_demand')"
        )


def downgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrollments_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_enrollments_status'), "status IN ('active', 'completed', 'left')")
