"""Roster import on SQLite and PostgreSQL, in batches: learners created and updated in one file, known
enrollments left as they are, a learner named twice, and a failure in a later batch undoing the earlier ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from db.models import Enrollment, Learner
from learning.roster import RosterRow

THEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def row(line, uid, *, name="", email=None, role="learner", manager=None, team=None, tz=None, packs=()):
    return RosterRow(line, uid, name, email, role, manager, team, tz, tuple(packs))


def rows_of(engine, model, *columns):
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*[getattr(model, c) for c in columns])))


def count(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def small_batches(store, monkeypatch):
    """Batches of three rows, so a handful of rows crosses several of them."""
    monkeypatch.setattr(type(store), "IMPORT_BATCH", 3)
    return store


def test_one_file_creates_some_learners_and_updates_the_others(engine, small_batches):
    store = small_batches
    assert store.import_roster([row(2, "U0AAA", name="Ana", packs=["security-basics"]),
                                row(3, "U0BBB", name="Bo", team="Ops")], THEN) == (2, 0, 1)
    ana_id = store.learner("U0AAA").id
    with engine.begin() as conn:  # Bo left the workspace since; the roster brings him back
        conn.execute(update(Learner).where(Learner.slack_user_id == "U0BBB").values(active=False))
    steps = []
    result = store.import_roster(
        [row(2, "U0CCC", name="Chen", tz="Asia/Kolkata", packs=["security-basics"]),
         row(3, "U0AAA", name="Ana Souza", email="ana@example.com", role="manager", team="Sales",
             tz="Europe/Berlin", packs=["security-basics", "feedback-essentials"]),
         row(4, "U0DDD", name="Dee", manager="U0AAA"),
         row(5, "U0BBB", name="Bo", packs=["feedback-essentials"]),
         row(6, "U0EEE", name="Eve", packs=["data-privacy-basics"])],
        NOW, progress=steps.append,
    )
    assert result == (3, 2, 4)  # Ana's security-basics is not enrolled again
    assert steps == [3, 2]
    assert rows_of(engine, Learner, "slack_user_id", "name", "email", "role", "team", "timezone",
                   "manager_slack_user_id", "active") == [
        ("U0AAA", "Ana Souza", "ana@example.com", "manager", "Sales", "Europe/Berlin", None, True),
        ("U0BBB", "Bo", None, "learner", None, None, None, True),  # the roster's empty team wins, as before
        ("U0CCC", "Chen", None, "learner", None, "Asia/Kolkata", None, True),
        ("U0DDD", "Dee", None, "learner", None, None, "U0AAA", True),
        ("U0EEE", "Eve", None, "learner", None, None, None, True),
    ]
    assert store.learner("U0AAA").id == ana_id  # updated, not replaced
    assert rows_of(engine, Learner, "slack_user_id", "created_at", "updated_at")[:2] == [
        ("U0AAA", THEN, NOW), ("U0BBB", THEN, NOW)]
    enrollments = rows_of(engine, Enrollment, "learner_id", "pack_id", "enrolled_at")
    assert len(enrollments) == 5
    assert (ana_id, "security-basics", THEN) in enrollments  # kept with its own date
    assert (ana_id, "feedback-essentials", NOW) in enrollments


def test_known_enrollments_keep_their_status(engine, store):
    store.import_roster([row(2, "U0AAA", packs=["security-basics", "feedback-essentials"])], THEN)
    with engine.begin() as conn:
        conn.execute(update(Enrollment).where(Enrollment.pack_id == "security-basics").values(status="completed"))
        conn.execute(update(Enrollment).where(Enrollment.pack_id == "feedback-essentials").values(status="left"))
    assert store.import_roster([row(2, "U0AAA", packs=["security-basics", "feedback-essentials"])], NOW) == (0, 1, 0)
    assert rows_of(engine, Enrollment, "pack_id", "status") == [("feedback-essentials", "left"),
                                                               ("security-basics", "completed")]


def test_a_learner_named_twice_is_created_once_and_the_later_row_wins(engine, small_batches):
    # parse_roster refuses this in a file; other callers of the store may not.
    rows = [row(2, "U0AAA", name="Ana", packs=["security-basics"]), row(3, "U0BBB", name="Bo"),
            row(4, "U0AAA", name="Ana S.", team="Sales", packs=["security-basics", "feedback-essentials"]),
            row(5, "U0BBB", name="Bo B."), row(6, "U0CCC", name="Cy"), row(7, "U0CCC", name="Cy C.", team="Ops"),
            row(8, "U0AAA", name="Ana Souza", team="Sales")]
    assert small_batches.import_roster(rows, NOW) == (3, 4, 2)  # batches: rows 2-4, 5-7, 8
    assert rows_of(engine, Learner, "slack_user_id", "name", "team") == [("U0AAA", "Ana Souza", "Sales"),
                                                                        ("U0BBB", "Bo B.", None),
                                                                        ("U0CCC", "Cy C.", "Ops")]
    assert count(engine, Enrollment) == 2


def test_a_failure_in_a_later_batch_writes_nothing_from_the_file(engine, store):
    store.import_roster([row(2, "U0KEEP", name="Kept", team="Ops", packs=["security-basics"])], THEN)
    before = rows_of(engine, Learner, "slack_user_id", "name", "team", "updated_at")
    size = store.IMPORT_BATCH * 2 + 500
    rows = [row(i + 2, f"U{i:08d}", name=f"Person {i}", packs=["security-basics", "feedback-essentials"])
            for i in range(size)]
    rows.insert(10, row(12, "U0KEEP", name="Changed", team="Sales", packs=["feedback-essentials"]))
    rows[size - 100] = row(size - 98, "U0BAD", role="chief")  # past parse_roster; refused by the database
    steps = []
    with pytest.raises(IntegrityError):
        store.import_roster(rows, NOW, progress=steps.append)
    assert sum(steps) >= store.IMPORT_BATCH * 2  # two whole batches had gone in before the bad row
    assert count(engine, Learner) == 1 and count(engine, Enrollment) == 1
    assert rows_of(engine, Learner, "slack_user_id", "name", "team", "updated_at") == before
    # and the same file without the bad row goes in whole
    rows[size - 100] = row(size - 98, "U0GOOD")
    assert store.import_roster(rows, NOW + timedelta(minutes=1)) == (size, 1, size * 2 - 1)
