"""Where a hosted Sprout keeps each workspace's records.

A Sprout installed in many workspaces keeps each workspace's records apart from every other's: on
PostgreSQL in a schema of its own (``<schema>_<team id>``, beside the schema that holds the installations;
the connection's ``search_path`` names it and nothing else, so every statement Sprout runs, its migrations
included, can only reach that workspace's tables), on SQLite in a file of its own beside the main one
(``sprout.db`` → ``sprout.T0123ABC.db``). Which workspace a record belongs to is where it is: no query
can cross workspaces, because no connection can see two at once.

On PostgreSQL every workspace shares one pool of connections (:class:`WorkspaceDatabases`), so a hosted
Sprout needs the same few connections for fifty workspaces as for one: a connection handed to a workspace
is switched to its schema first (``SET search_path``, committed, so no later rollback can undo it), and
only when it last served another.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from sqlalchemy import Engine, column, event, select, table, text
from sqlalchemy.engine import URL, make_url

from db.engine import make_engine

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,40}$")  # Slack workspace (T…) and Enterprise Grid org (E…) ids
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


class NotAWorkspace(ValueError):
    pass


def search_path_of(url: URL) -> str | None:
    """The first schema the URL's ``options=-csearch_path=…`` names, if it names one."""
    options = url.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    found = _SEARCH_PATH.search(options or "")
    return found.group(1).strip('"') if found else None


def workspace_database_url(base_url: str, team_id: str) -> str:
    """The database URL of ``team_id``'s records, given the hosted Sprout's own ``DATABASE_URL``."""
    if not TEAM_ID.match(team_id or ""):
        raise NotAWorkspace(f"{team_id!r} is not a Slack workspace id like T0123ABCD")
    url = make_url(base_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise NotAWorkspace("a hosted Sprout on SQLite needs a database file, not an in-memory database")
        path = Path(url.database)
        return url.set(database=str(path.with_name(f"{path.stem}.{team_id}{path.suffix or '.db'}"))).render_as_string(
            hide_password=False)
    return url.update_query_dict({"options": f"-csearch_path={workspace_schema(url, team_id)}"}).render_as_string(
        hide_password=False)


def workspace_schema(url: URL, team_id: str) -> str:
    """The PostgreSQL schema of ``team_id``'s records, beside the one ``url`` uses."""
    if not TEAM_ID.match(team_id or ""):
        raise NotAWorkspace(f"{team_id!r} is not a Slack workspace id like T0123ABCD")
    return f"{search_path_of(url) or 'sprout'}_{team_id.lower()}"


SCHEMA_OPTION = "sprout_workspace_schema"  # an execution option: the schema a connection must see


class WorkspaceDatabases:
    """The main database (installations) and an engine for each workspace's records.

    PostgreSQL: one pool for all; ``engine_for(team)`` is the main engine with the workspace's schema as an
    execution option, which each connection is switched to as it is handed out. SQLite: a file, and an
    engine, per workspace."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self._parsed = make_url(url)
        self.postgres = self._parsed.get_backend_name() == "postgresql"
        self.main = make_engine(url, pool_size=pool_size if self.postgres else 4)
        self._files: dict[str, Engine] = {}
        self._lock = threading.Lock()
        if self.postgres:
            _switch_schemas(self.main, default=_path_sql(search_path_of(self._parsed)))

    def engine_for(self, team_id: str) -> Engine:
        if self.postgres:
            return self.main.execution_options(**{SCHEMA_OPTION: workspace_schema(self._parsed, team_id)})
        with self._lock:
            engine = self._files.get(team_id)
            if engine is None:
                engine = self._files[team_id] = make_engine(workspace_database_url(self.url, team_id), pool_size=3)
            return engine

    def release(self, team_id: str) -> None:
        """A workspace no longer served: its SQLite file is closed (PostgreSQL's pool is everyone's)."""
        with self._lock:
            engine = self._files.pop(team_id, None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        with self._lock:
            files, self._files = list(self._files.values()), {}
        for engine in files:
            engine.dispose()
        self.main.dispose()


def drop_schema(engine: Engine, schema: str) -> None:
    """Drop a PostgreSQL schema and the hosted workspaces' schemas beside it (``<schema>_<team>``), one
    transaction each: a schema's tables take many locks."""
    with engine.connect() as conn:
        beside = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
                              {"prefix": schema.replace("_", "\\_") + "\\_%"}).scalars().all()
    for name in [*beside, schema]:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def _path_sql(schema: str | None) -> str:
    if schema is None:
        return '"$user", public'
    return '"' + schema.replace('"', "") + '"'


def _switch_schemas(engine: Engine, *, default: str) -> None:
    @event.listens_for(engine, "connect")
    def _new_connection(_dbapi_connection, record) -> None:
        record.info["sprout_search_path"] = None  # a new (or re-made) connection: switch it before use

    @event.listens_for(engine, "engine_connect")
    def _to_workspace(conn) -> None:
        schema = conn.get_execution_options().get(SCHEMA_OPTION)
        wanted = _path_sql(schema) if schema else default
        fairy = conn.connection
        if fairy.info.get("sprout_search_path") == wanted:
            return
        dbapi = fairy.dbapi_connection
        cursor = dbapi.cursor()
        try:
            cursor.execute(f"SET search_path TO {wanted}")
        finally:
            cursor.close()
        dbapi.commit()  # committed: a rollback later in this connection's life cannot take it back
        fairy.info["sprout_search_path"] = wanted


def installed_team_ids(engine: Engine, client_id: str) -> list[str]:
    """Every workspace the app ``client_id`` is installed in: the teams of slack-sdk's ``slack_bots`` rows
    (its SQLAlchemy installation store, migration 0007)."""
    bots = table("slack_bots", column("team_id"), column("client_id"))
    with engine.connect() as conn:
        return sorted(conn.execute(select(bots.c.team_id).where(bots.c.client_id == client_id)
                                   .where(bots.c.team_id.is_not(None)).distinct()).scalars())


__all__ = ["TEAM_ID", "NotAWorkspace", "WorkspaceDatabases", "drop_schema", "installed_team_ids", "search_path_of",
           "workspace_database_url", "workspace_schema"]
