"""one active certificate per learner and pack; when a learner's Home tab was last published

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two answers at once could each issue a certificate: keep the newest active one of each pair.
    op.execute(
        "UPDATE certificates SET status = 'renewed' WHERE status = 'active' AND id NOT IN "
        "(SELECT max(id) FROM certificates WHERE status = 'active' GROUP BY learner_id, pack_id)"
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('uq_certificates_active', ['learner_id', 'pack_id'], unique=True,
                              sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_published_at', db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.drop_column('home_published_at')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_active', sqlite_where=sa.text("status = 'active'"),
                            postgresql_where=sa.text("status = 'active'"))
