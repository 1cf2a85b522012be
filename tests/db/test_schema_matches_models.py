"""The migrations build exactly the schema db/models.py describes, on SQLite and PostgreSQL: a model changed
without a migration (or a migration that drifted from its model) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.models import Base

# Made by hand in migrations (full-text search) or from slack-sdk's own definitions (migration 0007).
NOT_MODELLED = ("lesson_fts", "slack_", "alembic_version")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(NOT_MODELLED):
        return False
    if type_ == "index" and name == "ix_lesson_index_search":
        return False
    return not (type_ == "column" and name == "search" and getattr(obj, "table", None) is not None
                and obj.table.name == "lesson_index")


def test_the_migrated_schema_is_the_models_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
