"""Alembic, driven from code: every schema change is a migration under db/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# "SPROUTDB": instances starting together take turns to upgrade (a PostgreSQL advisory lock).
MIGRATION_LOCK_KEY = 0x53_50_52_4F_55_54_44_42


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``.

    On PostgreSQL, several instances may start at once on a new database: without a lock both
    would create the same tables and one would die on a unique violation in the catalog. A
    session advisory lock, held on a connection of its own for the whole upgrade, makes them
    take turns; the second then finds the schema current and does nothing. SQLite is
    single-instance by design and needs no lock.
    """
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        lock.commit()  # the session lock outlives the transaction; no transaction stays open
        try:
            _create_schema_of_search_path(lock)
            command.upgrade(alembic_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            lock.commit()


def _create_schema_of_search_path(conn) -> None:
    """A connection whose ``search_path`` names a schema that does not exist yet (a hosted Sprout's new
    workspace) gets it, so the tables are made there and not in whichever schema comes next."""
    if conn.execute(text("SELECT current_schema()")).scalar() is not None:
        return
    first = conn.execute(text("SHOW search_path")).scalar().split(",")[0].strip().strip('"')
    if first and first != "$user":
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{first.replace(chr(34), "")}"'))
        conn.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
