"""Where a hosted Sprout keeps each workspace's records.

A Sprout installed in many workspaces keeps each workspace's records apart from every other's: on
PostgreSQL in a schema of its own (``<schema>_<team id>``, beside the schema that holds the installations;
the connection's ``search_path`` names it, so every statement Sprout runs, its migrations included, can
only reach that workspace's tables), on SQLite in a file of its own beside the main one
(``sprout.db`` → ``sprout.T0123ABC.db``). Which workspace a record belongs to is where it is: no query
can cross workspaces, because no connection can see two.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, column, select, table
from sqlalchemy.engine import URL, make_url

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
    schema = f"{search_path_of(url) or 'sprout'}_{team_id.lower()}"
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def installed_team_ids(engine: Engine, client_id: str) -> list[str]:
    """Every workspace the app ``client_id`` is installed in: the teams of slack-sdk's ``slack_bots`` rows
    (its SQLAlchemy installation store, migration 0007)."""
    bots = table("slack_bots", column("team_id"), column("client_id"))
    with engine.connect() as conn:
        return sorted(conn.execute(select(bots.c.team_id).where(bots.c.client_id == client_id)
                                   .where(bots.c.team_id.is_not(None)).distinct()).scalars())


__all__ = ["TEAM_ID", "NotAWorkspace", "installed_team_ids", "search_path_of", "workspace_database_url"]
