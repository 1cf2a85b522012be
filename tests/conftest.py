"""Every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (CI sets it) or the local default; each test
gets its own schema, so test runs never see each other's rows. When no server
answers, the PostgreSQL variant is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

import pytest
from sqlalchemy import create_engine, text

from db.engine import make_engine
from db.migrate import upgrade
from db.store import Store
from db.workspaces import drop_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


@lru_cache(maxsize=1)
def pg_unavailable() -> str | None:
    try:
        engine = create_engine(pg_base_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # the reason is shown in the skip
        return f"PostgreSQL not reachable at {pg_base_url()}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sprout.db'}"
        return
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_base_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(pg_base_url(), schema)
    finally:
        drop_schema(admin, schema)  # and a hosted Sprout's workspaces' schemas beside it
        admin.dispose()


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine):
    return Store(engine)
