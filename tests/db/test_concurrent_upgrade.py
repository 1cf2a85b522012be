"""Several instances starting together on a fresh PostgreSQL database all bring the schema up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from db.engine import make_engine
from db.migrate import current_revision

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 3

# Each process imports everything and connects first, says so, then waits for the word to go:
# the parent gives it once every process is ready, so the upgrades start together.
UPGRADE_ON_GO = """
import sys
from db.engine import make_engine
from db.migrate import upgrade
engine = make_engine(sys.argv[1])
engine.connect().close()
print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
upgrade(engine)
"""


def test_instances_upgrading_a_new_schema_at_once_all_succeed(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is single-instance: nothing races")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_ON_GO, database_url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [p.communicate(timeout=120) for p in processes]
    failures = [
        err.strip().splitlines()[-1]
        for (_, err), p in zip(outputs, processes, strict=True)
        if p.returncode != 0
    ]
    assert not failures, failures
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is not None
    finally:
        engine.dispose()
