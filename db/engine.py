"""Engines and units of work."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine tuned for Sprout's concurrency on SQLite and PostgreSQL.

    SQLite: WAL so readers never block the writer, a busy timeout, foreign keys on,
    and ``BEGIN IMMEDIATE`` so two threads that read-then-write queue for the write
    lock instead of one failing with "database is locked" halfway through.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if parsed.database and parsed.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def ping(engine: Engine) -> bool | str:
    """True when the database answers; otherwise why not, in one line (for /healthz)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return (reason[0] if reason else type(exc).__name__)[:300]
    return True


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be a Sprout database URL, or None if it can."""
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"{url!r} is not a database URL like sqlite:///sprout.db or postgresql+psycopg://user@host/db"
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        return f"uses {backend!r}; Sprout supports sqlite and postgresql"
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        return "for PostgreSQL use the psycopg 3 driver: postgresql+psycopg://…"
    return None


def unreachable(exc: BaseException) -> str | None:
    """One line on why the database cannot be used, when ``exc`` says it cannot be reached or opened
    (a server that does not answer, a refused login, an SQLite file that cannot be created); None for
    anything else, which is a bug to show in full."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"cannot be reached or opened: {reason[0] if reason else type(exc).__name__}"


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve right now (down, restarting, locked, out of
    connections) rather than that Sprout has a bug: worth "try again in a minute", not a traceback."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout)
