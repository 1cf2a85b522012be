"""Several instances starting together on a fresh PostgreSQL database all bring the schema up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.engine import make_engine
from db.migrate import current_revision

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 3

# Each process imports everything first, then waits for the same instant, so the upgrades overlap.
UPGRADE_AT = """
import sys, time
from db.engine import make_engine
from db.migrate import upgrade
engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade(engine)
"""


def test_instances_upgrading_a_new_schema_at_once_all_succeed(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is single-instance: nothing races")
    start = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AT, database_url, str(start)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
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
