"""Engines and units of work."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

# The execution option of a connection that only reads (``reading``).
READS_ONLY = "sprout_reads_only"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine tuned for Sprout's concurrency on SQLite and PostgreSQL.

    SQLite: WAL so readers never block the writer, a busy timeout, foreign keys on,
    and ``BEGIN IMMEDIATE`` so two threads that read-then-write queue for the write
    lock instead of one failing with "database is locked" halfway through. A connection
    opened with ``reading`` begins a deferred transaction instead: a snapshot of the
    database that neither waits for the write lock nor holds it.
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

        writers = _WriterQueue(timeout=30)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            if conn.get_execution_options().get(READS_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            writers.enter(conn.info)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writers.leave(conn.info)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn) -> None:
            writers.leave(conn.info)

        @event.listens_for(engine.pool, "checkin")
        def _sqlite_checkin(_dbapi_connection, record) -> None:
            writers.leave(record.info)  # a connection given back in a transaction: the pool rolled it back

        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class _WriterQueue:
    """This process's writers to one SQLite database, in line for its write lock.

    SQLite lets one transaction write at a time; the others wait in its busy handler, which polls with
    sleeps of up to 100 ms, in no order. Under a burst of clicks, fifty threads polling for the lock took
    longer than the writes themselves. Here they queue on a lock of this process instead and each starts
    the moment the one before it ends; SQLite's busy timeout is left for the other processes (a ``tick``
    from cron beside ``run``). A thread that opens a second write transaction while it holds one does not
    queue behind itself: SQLite refuses it after its busy timeout, as before."""

    _HOLDS = "sprout_writer"

    def __init__(self, *, timeout: float) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._timeout = timeout

    def enter(self, info: dict) -> None:
        if self._owner == threading.get_ident():
            return
        if not self._lock.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError("database is locked (no turn to write within "
                                           f"{self._timeout:g} s)")
        self._owner = threading.get_ident()
        info[self._HOLDS] = True

    def leave(self, info: dict) -> None:
        if info.pop(self._HOLDS, False):
            self._owner = None
            self._lock.release()


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads. On SQLite, a transaction that takes the write lock (as every other one
    does, see ``make_engine``) makes a reader wait for every writer and every writer for the reader: under
    a burst of clicks the queue for the lock, polled by SQLite's busy handler with sleeps of up to 100 ms,
    was most of the time a click took to be answered. Writing on this connection is a mistake; on SQLite
    it fails with "database is locked" when a writer came first."""
    with engine.connect() as conn:
        conn.execution_options(**{READS_ONLY: True})
        yield conn


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


def is_memory_sqlite(url: str) -> bool:
    """An SQLite URL without a file (``sqlite://``, ``sqlite:///:memory:``): records that end with the process."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


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
