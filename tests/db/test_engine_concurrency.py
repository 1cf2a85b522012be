"""Readers and writers on one database: a read never waits for a write, and writers take turns."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, update

from db.engine import make_engine, reading

metadata = MetaData()
counter = Table("concurrency_counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer))


@pytest.fixture
def file_engine(database_url):
    engine = make_engine(database_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(counter.insert().values(id=1, n=0))
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def test_a_read_goes_on_while_a_write_is_open(file_engine):
    """On SQLite every write transaction holds the database's one write lock; a read that took it too would
    wait for the writer (a click's Home tab behind another click's records)."""
    writing, read_done = threading.Event(), threading.Event()
    order: list[str] = []

    def writer() -> None:
        with file_engine.begin() as conn:
            conn.execute(update(counter).values(n=counter.c.n + 1))
            writing.set()
            read_done.wait(timeout=10)  # the read either finishes meanwhile, or only after this commit
            order.append("write committed")

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(timeout=10)
    with reading(file_engine) as conn:
        n = conn.execute(select(counter.c.n)).scalar_one()
    order.append("read")
    read_done.set()
    thread.join(timeout=30)
    assert order == ["read", "write committed"]
    assert n == 0, "the read saw the database as it was before the open write"


def test_writers_take_turns_and_a_failed_one_lets_the_next_in(file_engine):
    failures: list[BaseException] = []

    def add_one(fail: bool) -> None:
        try:
            with file_engine.begin() as conn:
                # read, then write: no lost update (FOR UPDATE on PostgreSQL; on SQLite the write lock)
                n = conn.execute(select(counter.c.n).with_for_update()).scalar_one()
                conn.execute(update(counter).values(n=n + 1))
                if fail:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        except BaseException as exc:  # "database is locked", a deadlock…
            failures.append(exc)

    threads = [threading.Thread(target=add_one, args=(i % 5 == 0,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer never got its turn"
    assert failures == []
    with reading(file_engine) as conn:
        assert conn.execute(select(counter.c.n)).scalar_one() == 24  # 30 writers, 6 rolled back


def test_a_connection_given_back_in_a_write_transaction_frees_the_turn(file_engine):
    conn = file_engine.connect()
    conn.execute(update(counter).values(n=5))  # autobegins a write transaction, never committed
    conn.close()  # the pool rolls it back
    done = threading.Event()

    def write() -> None:
        with file_engine.begin() as other:
            other.execute(update(counter).values(n=7))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(timeout=20), "the next writer waited for a transaction that had ended"
    with reading(file_engine) as c:
        assert c.execute(select(counter.c.n)).scalar_one() == 7
