"""An upgrade killed halfway leaves the database as it was, and the next start upgrades it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from db.engine import make_engine
from db.migrate import current_revision, revisions, upgrade
from tests.db.records_of_every_kind import fill, read_all

ROOT = Path(__file__).resolve().parents[2]

# The real upgrade, with a hook that announces each applied migration and stops dead after the
# second one: the parent kills the process there, in the middle of the upgrade's transaction.
UPGRADE_AND_HANG = """
import sys, time
from db import migrate
from db.engine import make_engine

plain = migrate.alembic_config
applied = []

def announcing(engine):
    config = plain(engine)
    def hook(*, step, **_):
        applied.append(step.up_revision_id)
        print("applied", step.up_revision_id, flush=True)
        if len(applied) == 2:
            print("halfway", flush=True)
            time.sleep(600)
    config.attributes["on_version_apply"] = hook
    return config

migrate.alembic_config = announcing
migrate.upgrade(make_engine(sys.argv[1]))
"""


def test_an_upgrade_killed_halfway_changes_nothing_and_the_next_one_succeeds(database_url):
    start = "0002"
    engine = make_engine(database_url)
    try:
        upgrade(engine, start)
        with engine.begin() as conn:
            fill(conn)
        with engine.connect() as conn:
            before = read_all(conn)
        engine.dispose()

        child = subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AND_HANG, database_url],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            seen = []
            for line in child.stdout:
                seen.append(line.strip())
                if line.strip() == "halfway":
                    break
            assert seen[-1:] == ["halfway"], (seen, child.stderr.read())
            assert seen[:2] == ["applied 0003", "applied 0004"]
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=60)

        # Killed inside the transaction: still at the old revision, with every row and no new table.
        assert current_revision(engine) == start
        with engine.connect() as conn:
            assert read_all(conn) == before

        upgrade(engine)  # what the next start does

        assert current_revision(engine) == revisions()[-1]
        with engine.connect() as conn:
            after = read_all(conn)
        for table, rows in before.items():
            assert [{k: row[k] for k in old} for old, row in zip(rows, after[table], strict=True)] == rows
    finally:
        engine.dispose()
