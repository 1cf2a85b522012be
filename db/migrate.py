"""Alembic, driven from code: every schema change is a migration under db/migrations."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

# Alembic is imported where a migration is planned or run, not here: importing it (with Mako and
# Pygments) took 0.5 s of every 1.2 s command start, while a start at the current schema needs only
# one SELECT (``_at_head``).
if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# "SPROUTDB": instances starting together take turns to upgrade (a PostgreSQL advisory lock).
MIGRATION_LOCK_KEY = 0x53_50_52_4F_55_54_44_42


class UpgradeRefused(RuntimeError):
    """The upgrade would leave records that break the schema's rules; nothing was changed."""


def check_foreign_keys(conn) -> None:
    """On SQLite, refuse to commit a schema in which rows point at rows that do not exist."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if not broken:
        return
    counts: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fk in broken:
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    where = ", ".join(f"{n} in {table} (→ {parent})" for (table, parent), n in sorted(counts.items()))
    raise UpgradeRefused(
        f"upgrade stopped, nothing changed: {len(broken)} rows break a foreign key: {where}. "
        "PRAGMA foreign_key_check lists them; fix or remove them, then upgrade again."
    )


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def scripts() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def revisions() -> list[str]:
    """Every revision, oldest first."""
    return [rev.revision for rev in reversed(list(scripts().walk_revisions()))]


@dataclass(frozen=True)
class Step:
    revision: str
    title: str


@dataclass(frozen=True)
class Plan:
    """What an upgrade will do: the database's revision now, the target, and the steps between."""

    current: str | None
    target: str
    steps: tuple[Step, ...]

    def describe(self) -> str:
        if not self.steps:
            return f"the schema is at revision {self.current}: nothing to do"
        where = f"revision {self.current}" if self.current else "an empty database"
        lines = [f"upgrading from {where} to {self.target}: {len(self.steps)} migration(s), in one transaction"]
        lines += [f"  {step.revision}  {step.title}" for step in self.steps]
        return "\n".join(lines)


def plan(engine: Engine, revision: str = "head") -> Plan:
    directory = scripts()
    target = directory.get_current_head() if revision == "head" else revision
    current = current_revision(engine)
    steps = [
        Step(script.revision, (script.doc or "").strip().splitlines()[0] if script.doc else "")
        for script in reversed(list(directory.iterate_revisions(target, current or "base")))
    ] if current != target else []
    return Plan(current=current, target=target, steps=tuple(steps))


def upgrade(
    engine: Engine,
    revision: str = "head",
    *,
    backup: bool = True,
    report: Callable[[str], None] = log.info,
) -> Plan:
    """Bring the schema to ``revision`` and return what was done.

    Every pending migration runs in one transaction, so an upgrade that is killed or fails halfway
    leaves the database as it was, and the next start upgrades it from there. On SQLite foreign keys
    are off while the migrations recreate tables (a ``DROP TABLE`` would otherwise cascade into every
    child table's rows) and ``PRAGMA foreign_key_check`` must come back empty before the commit; and
    a file database that holds records is first copied beside itself (``sprout.db.bak-<revision>-<time>``).

    On PostgreSQL, several instances may start at once on a new database: without a lock both
    would create the same tables and one would die on a unique violation in the catalog. A
    session advisory lock, held on a connection of its own for the whole upgrade, makes them
    take turns; the second then finds the schema current and does nothing. SQLite is
    single-instance by design and needs no lock.
    """
    if revision == "head" and (head := _at_head(engine)) is not None:
        return Plan(current=head, target=head, steps=())  # the usual start: nothing to do, no lock needed
    if engine.dialect.name != "postgresql":
        return _upgrade(engine, revision, backup=backup, report=report)
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        lock.commit()  # the session lock outlives the transaction; no transaction stays open
        try:
            _create_schema_of_search_path(lock)
            return _upgrade(engine, revision, backup=backup, report=report)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            lock.commit()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


def head_revision() -> str:
    """The newest revision, read from the migration files without Alembic: the one no file names as its
    ``down_revision``. Sprout's history is one line; a fork (two heads) is left to Alembic to report."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((m.group(1), m.group(2)) for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        return scripts().get_current_head()  # Alembic says what is wrong
    return heads.pop()


def _at_head(engine: Engine) -> str | None:
    """The head revision when the database is already there (one SELECT), else None."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return None  # no version table yet (a new database or schema): the slow path creates it
    return head if rows == [head] else None


def _upgrade(engine: Engine, revision: str, *, backup: bool, report: Callable[[str], None]) -> Plan:
    todo = plan(engine, revision)
    if not todo.steps:
        return todo
    report(todo.describe())
    if backup and todo.current is not None:
        copy = backup_sqlite(engine, todo.current)
        if copy is not None:
            report(f"copied the database to {copy} before upgrading")
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
    report(f"the schema is at revision {todo.target}")
    return todo


def backup_sqlite(engine: Engine, revision: str) -> Path | None:
    """Copy a file SQLite database beside itself, consistently (SQLite's online backup, WAL included).

    The name says the revision it was at and when, so a rollback is: stop Sprout, put the copy back,
    run the version that made it. Returns None for PostgreSQL and in-memory databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    source = Path(database)
    if not source.exists():
        return None
    # A file name, not a decision: the wall clock is fine here.
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = source.with_name(f"{source.name}.bak-{revision}-{stamp}")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


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
