from __future__ import annotations

from alembic import context

from db.engine import make_engine
from db.migrate import check_foreign_keys
from db.models import Base

config = context.config
target_metadata = Base.metadata

# Full-text search objects are created by hand in migrations (FTS5 virtual tables, tsvector columns).
HAND_MADE = ("lesson_fts",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(HAND_MADE):
        return False
    if type_ == "index" and name == "ix_lesson_index_search":
        return False
    return not (type_ == "column" and name == "search" and getattr(obj, "table", None) is not None
                and obj.table.name == "lesson_index")


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Every pending migration in one transaction, begun here, so that an upgrade killed or failing
    halfway leaves the database as it was (PostgreSQL and SQLite both have transactional DDL).

    SQLite: ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is turned off on this
    connection before the transaction begins (batch mode recreates tables, and with foreign keys on,
    dropping the old table would delete every child row) and back on after; the foreign keys are
    checked before the commit instead, and a violation rolls everything back."""
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                                  include_object=include_object,
                                  on_version_apply=config.attributes.get("on_version_apply", ()))
                context.run_migrations()
                if sqlite:
                    check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
