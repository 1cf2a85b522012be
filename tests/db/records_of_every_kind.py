"""Fill a database at any schema revision with records of every kind, and read them back.

The filler reads the schema it finds (tables, columns, foreign keys, CHECK constraints) rather than
knowing each revision by heart, so a migration added later is covered without touching this file:
every table gets ``ROWS`` rows, each foreign key points at a row of its parent, every value a CHECK
constraint allows is used, and each column's value differs from row to row so that unique
constraints hold and a row that moved or lost a column shows up when contents are compared.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    inspect,
)

ROWS = 6
BASE = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)

# Tables the migrations make that hold no records of their own (Alembic's, full-text shadows).
NOT_RECORDS = ("alembic_version", "lesson_fts")

# Columns whose text Sprout parses: a realistic value instead of "column-3".
MEANINGFUL = {
    "tz": lambda i: ("Europe/Paris", "America/New_York", "Asia/Tokyo")[i % 3],
    "timezone": lambda i: ("Europe/Paris", "UTC")[i % 2],
    "digest_day": lambda i: ("mon", "fri")[i % 2],
    "digest_time": lambda i: f"{8 + i % 3:02d}:30",
    "schedule_time": lambda i: f"{8 + i % 3:02d}:00",
    "local_time": lambda i: f"{8 + i % 3:02d}:00",
    "email": lambda i: f"person{i}@example.com",
    "language": lambda i: ("de", "en")[i % 2],
    "slack_locale": lambda i: ("de-DE", "en-GB")[i % 2],
}


def record_tables(conn: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if not t.name.startswith(NOT_RECORDS)]


def _choices(conn: Connection, table: Table) -> dict[str, list[Any]]:
    """The values each CHECK-constrained column may take, read from the constraints' text."""
    allowed: dict[str, list[Any]] = {}
    for check in inspect(conn).get_check_constraints(table.name):
        sql = check["sqltext"]
        for column, values in re.findall(r"\(?\b(\w+)\)?(?:::text)?\s+IN\s*\(([^)]*)\)", sql, flags=re.I):
            allowed[column] = re.findall(r"'([^']*)'", values)
        for column, values in re.findall(r"\b(\w+)(?:::\w+)?\s*=\s*ANY\s*\(\s*ARRAY\[([^\]]*)\]", sql, flags=re.I):
            allowed[column] = re.findall(r"'([^']*)'", values)
        for column, low, high in re.findall(r"\(?\b(\w+)\)?\s+BETWEEN\s+(\d+)\s+AND\s+(\d+)", sql, flags=re.I):
            allowed[column] = list(range(int(low), int(high) + 1))
        for column, low, high in re.findall(r"\b(\w+)\s*>=\s*(\d+)\)?\s+AND\s+\(?\w+\s*<=\s*(\d+)", sql, flags=re.I):
            allowed[column] = list(range(int(low), int(high) + 1))
    return allowed


def _value(table: Table, column, i: int, choices: dict[str, list[Any]]) -> Any:
    name = column.name
    if name in choices and choices[name]:
        return choices[name][i % len(choices[name])]
    if name in MEANINGFUL:
        return MEANINGFUL[name](i)
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return 100 + i
    if isinstance(kind, Float | Numeric):
        return 0.25 + i
    if isinstance(kind, DateTime):
        return BASE + dt.timedelta(days=i, minutes=7 * i)
    if isinstance(kind, Date):
        return (BASE + dt.timedelta(days=i)).date()
    if isinstance(kind, JSON):
        return {"row": i, "of": table.name}
    if isinstance(kind, String | Text):
        if name.endswith(("payload", "_json", "blocks", "metadata", "options", "detail")):
            return json.dumps({"row": i, "of": table.name})
        length = getattr(kind, "length", None)
        text = f"{name}-{i}" if not length or length >= len(f"{name}-{i}") else f"{name[: max(1, length - 3)]}{i}"
        return text[:length] if length else text
    return f"{name}-{i}"


# Columns a CHECK constraint allows only one of at a time: (table, (first, second)). Even rows fill the first
# and leave the second empty; odd rows the other way round, so both shapes are carried through upgrades.
ONE_OF = {"pairing_programmes": ("cohort_id", "channel_id")}


def fill(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Write ``ROWS`` rows into every table and return what was written, table by table."""
    written: dict[str, list[dict[str, Any]]] = {}
    for table in record_tables(conn):
        choices = _choices(conn, table)
        parents = {
            fk.parent.name: fk.column.table.name for fk in table.foreign_keys
        }
        rows = []
        for i in range(ROWS):
            row: dict[str, Any] = {}
            for column in table.columns:
                if column.computed is not None:
                    continue  # a generated column (PostgreSQL's search vector) is the database's to fill
                if column.name in parents:
                    parent = written.get(parents[column.name])
                    key = next(iter(fk.column.name for fk in column.foreign_keys))
                    row[column.name] = parent[i % len(parent)][key] if parent else None
                elif column.primary_key and isinstance(column.type, Integer):
                    row[column.name] = i + 1
                else:
                    row[column.name] = _value(table, column, i, choices)
            if table.name in ONE_OF:
                row[ONE_OF[table.name][1 - i % 2]] = None
            rows.append(row)
        conn.execute(table.insert(), rows)
        written[table.name] = rows
    _advance_sequences(conn)
    return written


def _advance_sequences(conn: Connection) -> None:
    """On PostgreSQL the ids were given explicitly: move each serial past them, as real inserts would."""
    if conn.dialect.name != "postgresql":
        return
    for table in record_tables(conn):
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement is not False:
                sequence = conn.exec_driver_sql(
                    "SELECT pg_get_serial_sequence(%(t)s, %(c)s)", {"t": table.name, "c": column.name}
                ).scalar()
                if sequence:
                    conn.exec_driver_sql(f"SELECT setval('{sequence}', (SELECT max({column.name}) FROM {table.name}))")


def read_all(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every record table, in primary-key order."""
    contents = {}
    for table in record_tables(conn):
        order = list(table.primary_key.columns) or list(table.columns)
        contents[table.name] = [dict(r._mapping) for r in conn.execute(table.select().order_by(*order))]
    return contents
