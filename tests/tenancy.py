"""A tripwire for workspace isolation: every SQL statement Sprout runs that reads or writes a workspace's
records must say which workspace (``team_id``) for every such table it names.

The test suite listens to every engine's statements (tests/conftest.py) and fails a test whose code ran
a statement that does not: a forgotten ``WHERE team_id = …`` in a query, or an INSERT that leaves the
workspace out, is caught by whichever test exercises it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re

_QUOTE = r'"?'
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FROM = re.compile(
    rf"\b(?:FROM|JOIN)\s+{_QUOTE}({_NAME}){_QUOTE}(?:\s+(?:AS\s+)?{_QUOTE}(?!(?:ON|WHERE|JOIN|LEFT|RIGHT|INNER|"
    rf"OUTER|CROSS|GROUP|ORDER|LIMIT|UNION|FOR|SET|USING|NATURAL|FULL|OFFSET|HAVING|WINDOW|RETURNING)\b)"
    rf"({_NAME}){_QUOTE})?",
    re.IGNORECASE,
)
_UPDATE = re.compile(rf"^\s*UPDATE\s+{_QUOTE}({_NAME}){_QUOTE}", re.IGNORECASE)
_DELETE = re.compile(rf"^\s*DELETE\s+FROM\s+{_QUOTE}({_NAME}){_QUOTE}", re.IGNORECASE)
_INSERT = re.compile(rf"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+{_QUOTE}({_NAME}){_QUOTE}\s*\(([^)]*)\)",
                     re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET|SHOW|VACUUM|"
                  r"ANALYZE|SELECT\s+pg_|SELECT\s+1\b|SELECT\s+CAST\(pg_)", re.IGNORECASE)


def workspace_tables() -> frozenset[str]:
    """Every table with a ``team_id`` column: the workspaces' records (content shared by all workspaces,
    such as the lesson index, and the processes' heartbeats have none)."""
    from db.models import Base

    return frozenset(name for name, table in Base.metadata.tables.items() if "team_id" in table.c)


def unscoped_tables(statement: str, tables: frozenset[str]) -> list[str]:
    """The workspace ``tables`` that ``statement`` uses without naming their ``team_id`` (empty: fine)."""
    if _DDL.match(statement):
        return []

    def _shared(table: str) -> bool:
        return table.lower() not in tables

    missing: list[str] = []
    insert = _INSERT.match(statement)
    if insert and not _shared(insert.group(1)):
        columns = [c.strip().strip('"').lower() for c in insert.group(2).split(",")]
        if "team_id" not in columns:
            missing.append(insert.group(1))
    for pattern in (_UPDATE, _DELETE):
        target = pattern.match(statement)
        if target and not _shared(target.group(1)) and not re.search(
                rf"\b{_QUOTE}{target.group(1)}{_QUOTE}\.{_QUOTE}team_id\b|\bteam_id\s*(=|IN)\b", statement,
                re.IGNORECASE):
            missing.append(target.group(1))
    for match in _FROM.finditer(statement):
        table, alias = match.group(1), match.group(2) or match.group(1)
        if _shared(table):
            continue
        if not re.search(rf"\b{_QUOTE}{re.escape(alias)}{_QUOTE}\.{_QUOTE}team_id\b", statement, re.IGNORECASE):
            missing.append(table if alias == table else f"{table} AS {alias}")
    return missing


__all__ = ["unscoped_tables", "workspace_tables"]
