"""`db upgrade` says what it will do, and a file database is copied before any migration — by `db upgrade`
and by `run`, which upgrades by itself at start."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import app
from db.engine import make_engine
from db.migrate import current_revision, revisions, upgrade
from sandbox.emulator import SlackEmulator
from tests.db.records_of_every_kind import fill, read_all
from tests.e2e.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
HEAD = revisions()[-1]


def _database_at(url: str, revision: str) -> dict:
    engine = make_engine(url)
    try:
        upgrade(engine, revision)
        with engine.begin() as conn:
            fill(conn)
        with engine.connect() as conn:
            return read_all(conn)
    finally:
        engine.dispose()


def test_db_upgrade_prints_its_plan_and_backs_an_sqlite_file_up_first(database_url, capsys):
    before = _database_at(database_url, "0005")

    assert app.main(["db", "upgrade"], environ={"DATABASE_URL": database_url}) == 0

    out = capsys.readouterr().out
    assert f"upgrading from revision 0005 to {HEAD}: {len(revisions()) - 5} migration(s), in one transaction" in out
    later = revisions()[5:]
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  ")] == later
    assert f"the schema is at revision {HEAD}" in out
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()
    if database_url.startswith("sqlite"):
        database = Path(database_url.removeprefix("sqlite:///"))
        copies = sorted(database.parent.glob(f"{database.name}.bak-0005-*"))
        assert len(copies) == 1, out
        assert f"copied the database to {copies[0]}" in out
        copy = make_engine(f"sqlite:///{copies[0]}")
        try:
            assert current_revision(copy) == "0005"  # the copy is the database as it was, to roll back to
            with copy.connect() as conn:
                assert read_all(conn) == before
        finally:
            copy.dispose()
    else:
        assert "copied" not in out  # PostgreSQL: backups are the operator's (pg_dump), said in the README

    # Up to date: says so, changes nothing, copies nothing.
    assert app.main(["db", "upgrade"], environ={"DATABASE_URL": database_url}) == 0
    assert f"the schema is at revision {HEAD}: nothing to do" in capsys.readouterr().out
    if database_url.startswith("sqlite"):
        assert len(list(database.parent.glob(f"{database.name}.bak-*"))) == 1


def test_run_copies_an_sqlite_database_before_it_upgrades_it(tmp_path):
    database = tmp_path / "sprout.db"
    before = _database_at(f"sqlite:///{database}", "0007")
    port = free_port()
    with SlackEmulator(bot_token="xoxb-backup") as emulator:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SLACK_BOT_TOKEN": "xoxb-backup",
               "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": emulator.api_url, "PORT": str(port)}
        env.pop("LOG_LEVEL", None)  # the default level: the upgrade's lines show anyway
        run = subprocess.Popen([sys.executable, "app.py", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert run.poll() is None, run.communicate()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "run never served /healthz"
                time.sleep(0.1)
            run.send_signal(signal.SIGTERM)
            _, err = run.communicate(timeout=30)
        finally:
            if run.poll() is None:
                run.kill()
    copies = list(tmp_path.glob("sprout.db.bak-0007-*"))
    assert len(copies) == 1, err
    assert "upgrading from revision 0007" in err and f"copied the database to {copies[0]}" in err
    with sqlite3.connect(copies[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0007",)
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (len(before["learners"]),)
