"""Mentoring pairs: programmes, rounds, pairs and their members, "did you meet?" answers, opt-outs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Adds tables and changes no existing row.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pairing_programmes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=True),
        sa.Column('channel_id', sa.String(length=32), nullable=True),
        sa.Column('audience_key', sa.String(length=64), nullable=True),
        sa.Column('every_weeks', sa.SmallInteger(), nullable=False),
        sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_round_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'stopped')", name=op.f('ck_pairing_programmes_status')),
        sa.CheckConstraint('every_weeks BETWEEN 1 AND 12', name=op.f('ck_pairing_programmes_every_weeks')),
        sa.CheckConstraint('(cohort_id IS NULL AND channel_id IS NOT NULL) OR (cohort_id IS NOT NULL AND '
                           'channel_id IS NULL)', name=op.f('ck_pairing_programmes_audience')),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_pairing_programmes_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['learners.id'],
                                name=op.f('fk_pairing_programmes_created_by_learners'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_programmes')),
        sa.UniqueConstraint('audience_key', name=op.f('uq_pairing_programmes_audience_key')),
    )
    with op.batch_alter_table('pairing_programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_programmes_next_round_at'), ['next_round_at'], unique=False)
    op.create_table(
        'pairing_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('check_in_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['pairing_programmes.id'],
                                name=op.f('fk_pairing_rounds_programme_id_pairing_programmes'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_rounds')),
        sa.UniqueConstraint('programme_id', 'number', name=op.f('uq_pairing_rounds_programme_id_number')),
    )
    op.create_table(
        'pairs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=True),
        sa.Column('opened_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['pairing_rounds.id'], name=op.f('fk_pairs_round_id_pairing_rounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pairs')),
    )
    with op.batch_alter_table('pairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairs_round_id'), ['round_id'], unique=False)
    op.create_table(
        'pair_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pair_id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_pair_members_learner_id_learners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['pair_id'], ['pairs.id'], name=op.f('fk_pair_members_pair_id_pairs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_members')),
        sa.UniqueConstraint('pair_id', 'learner_id', name=op.f('uq_pair_members_pair_id_learner_id')),
    )
    with op.batch_alter_table('pair_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_members_learner_id'), ['learner_id'], unique=False)
    op.create_table(
        'pair_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pair_id', sa.Integer(), nullable=False),
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('met', sa.Boolean(), nullable=False),
        sa.Column('answered_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_pair_answers_learner_id_learners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['pair_id'], ['pairs.id'], name=op.f('fk_pair_answers_pair_id_pairs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_answers')),
        sa.UniqueConstraint('pair_id', 'learner_id', name=op.f('uq_pair_answers_pair_id_learner_id')),
    )
    with op.batch_alter_table('pair_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_answers_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_answers_learner_id'), ['learner_id'], unique=False)
    op.create_table(
        'pairing_preferences',
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('snoozed_until', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'],
                                name=op.f('fk_pairing_preferences_learner_id_learners'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('learner_id', name=op.f('pk_pairing_preferences')),
    )


def downgrade() -> None:
    op.drop_table('pairing_preferences')
    with op.batch_alter_table('pair_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_answers_learner_id'))
        batch_op.drop_index(batch_op.f('ix_pair_answers_answered_at'))
    op.drop_table('pair_answers')
    with op.batch_alter_table('pair_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_members_learner_id'))
    op.drop_table('pair_members')
    with op.batch_alter_table('pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairs_round_id'))
    op.drop_table('pairs')
    op.drop_table('pairing_rounds')
    with op.batch_alter_table('pairing_programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_programmes_next_round_at'))
    op.drop_table('pairing_programmes')
