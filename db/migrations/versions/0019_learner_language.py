"""learner language: the learner's own choice and the locale Slack reports

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Adds two nullable columns to learners and changes no existing row: a learner with neither
gets the workspace's default language, as every learner did before.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('learners') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('slack_locale', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('learners') as batch:
        batch.drop_column('slack_locale')
        batch.drop_column('language')
