"""languages shown and stemmed search: which language each lesson, answer and review was shown in, and a
search index with one row per lesson and language, stemmed in that language

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Records: three nullable ``language`` columns (deliveries, answers, reviews); no existing row changes, a
NULL meaning "recorded before languages were".

Search: ``lesson_index`` gains ``language`` (every existing row is a pack's own lesson: 'en', the only
language a pack had until 0019 was read) and the stems SQLite's FTS5 indexes (db.stemming), and its
unique key becomes (pack, lesson, language). SQLite's ``lesson_fts`` is rebuilt over the stems with
``unicode61`` (it was ``porter unicode61`` over the text: English stemming only); PostgreSQL's ``search``
tsvector is regenerated in each row's language's configuration. No row is lost: the index is filled from
the rows it has, and Sprout re-syncs it from the packs at start.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

from db.stemming import stemmed, ts_config_case


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_TRIGGERS = ('lesson_index_ai', 'lesson_index_ad', 'lesson_index_au')


def _fts(columns: tuple[str, str, str], tokenize: str) -> list[str]:
    t, b, q = columns
    new = f"new.id, new.{t}, new.{b}, new.{q}"
    old = f"'delete', old.id, old.{t}, old.{b}, old.{q}"
    return [
        f"CREATE VIRTUAL TABLE lesson_fts USING fts5({t}, {b}, {q}, content='lesson_index', content_rowid='id', "
        f"tokenize='{tokenize}')",
        f"CREATE TRIGGER lesson_index_ai AFTER INSERT ON lesson_index BEGIN "
        f"INSERT INTO lesson_fts(rowid, {t}, {b}, {q}) VALUES ({new}); END",
        f"CREATE TRIGGER lesson_index_ad AFTER DELETE ON lesson_index BEGIN "
        f"INSERT INTO lesson_fts(lesson_fts, rowid, {t}, {b}, {q}) VALUES ({old}); END",
        f"CREATE TRIGGER lesson_index_au AFTER UPDATE ON lesson_index BEGIN "
        f"INSERT INTO lesson_fts(lesson_fts, rowid, {t}, {b}, {q}) VALUES ({old}); "
        f"INSERT INTO lesson_fts(rowid, {t}, {b}, {q}) VALUES ({new}); END",
        "INSERT INTO lesson_fts(lesson_fts) VALUES ('rebuild')",
    ]


def _tsvector(config: str) -> str:
    return ("ALTER TABLE lesson_index ADD COLUMN search tsvector GENERATED ALWAYS AS ("
            f"setweight(to_tsvector({config}, coalesce(title, '')), 'A') || "
            f"setweight(to_tsvector({config}, coalesce(body, '')), 'B') || "
            f"setweight(to_tsvector({config}, coalesce(questions, '')), 'C')) STORED")


def _drop_search(sqlite: bool) -> None:
    """The full-text objects over lesson_index: FTS5's table and triggers, or PostgreSQL's column and index."""
    if sqlite:
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS lesson_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_lesson_index_search")
        op.execute("ALTER TABLE lesson_index DROP COLUMN IF EXISTS search")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in ('deliveries', 'answers', 'reviews'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))

    _drop_search(sqlite)
    with op.batch_alter_table('lesson_index') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))
        for column in ('title_stems', 'body_stems', 'questions_stems'):
            batch.add_column(sa.Column(column, sa.Text(), server_default='', nullable=False))
        batch.drop_constraint('uq_lesson_index_pack_id_lesson_id', type_='unique')
        batch.create_unique_constraint('uq_lesson_index_pack_id_lesson_id_language', ['pack_id', 'lesson_id', 'language'])

    index = sa.table('lesson_index', sa.column('id', sa.Integer), sa.column('language', sa.String),
                     sa.column('title', sa.Text), sa.column('body', sa.Text), sa.column('questions', sa.Text),
                     sa.column('title_stems', sa.Text), sa.column('body_stems', sa.Text),
                     sa.column('questions_stems', sa.Text))
    bind = op.get_bind()
    rows = bind.execute(sa.select(index.c.id, index.c.language, index.c.title, index.c.body, index.c.questions)).all()
    for row in rows:
        bind.execute(index.update().where(index.c.id == row.id).values(
            title_stems=stemmed(row.title, row.language), body_stems=stemmed(row.body, row.language),
            questions_stems=stemmed(row.questions, row.language)))

    if sqlite:
        for statement in _fts(('title_stems', 'body_stems', 'questions_stems'), 'unicode61 remove_diacritics 2'):
            op.execute(statement)
    else:
        op.execute(_tsvector(ts_config_case('language')))
        op.execute("CREATE INDEX ix_lesson_index_search ON lesson_index USING gin (search)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    _drop_search(sqlite)
    # One row per lesson again: its pack's own language is the row kept (the lowest id, written first).
    op.execute("DELETE FROM lesson_index WHERE id NOT IN (SELECT min(id) FROM lesson_index GROUP BY pack_id, lesson_id)")
    with op.batch_alter_table('lesson_index') as batch:
        batch.drop_constraint('uq_lesson_index_pack_id_lesson_id_language', type_='unique')
        batch.create_unique_constraint('uq_lesson_index_pack_id_lesson_id', ['pack_id', 'lesson_id'])
        for column in ('questions_stems', 'body_stems', 'title_stems', 'language'):
            batch.drop_column(column)
    if sqlite:
        for statement in _fts(('title', 'body', 'questions'), 'porter unicode61'):
            op.execute(statement)
    else:
        op.execute(_tsvector("'english'"))
        op.execute("CREATE INDEX ix_lesson_index_search ON lesson_index USING gin (search)")
    for table in ('reviews', 'answers', 'deliveries'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('language')
