"""A start at the current schema checks it with one SELECT and no Alembic; any other start migrates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from db.engine import make_engine
from db.migrate import head_revision, scripts, upgrade

ROOT = Path(__file__).resolve().parents[2]

UPGRADE_AND_SAY = """
import sys
from db.engine import make_engine
from db.migrate import upgrade

plan = upgrade(make_engine(sys.argv[1]))
print(plan.current, plan.target, len(plan.steps), "alembic" in sys.modules)
"""


def _upgrade_in_a_new_process(url: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", UPGRADE_AND_SAY, url], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.split()


def test_the_head_read_from_the_files_is_alembics_head():
    assert head_revision() == scripts().get_current_head()


def test_a_new_database_is_migrated_and_a_current_one_is_only_checked(database_url):
    head = head_revision()
    assert _upgrade_in_a_new_process(database_url) == ["None", head, str(len(list(scripts().walk_revisions()))),
                                                       "True"]
    assert _upgrade_in_a_new_process(database_url) == [head, head, "0", "False"]  # Alembic never imported


def test_a_database_one_revision_behind_is_upgraded(database_url):
    head = head_revision()
    previous = scripts().get_revision(head).down_revision
    engine = make_engine(database_url)
    upgrade(engine, previous)
    engine.dispose()
    assert _upgrade_in_a_new_process(database_url) == [previous, head, "1", "True"]
