"""Coaching records on SQLite and PostgreSQL: one coach per learner, the sharing choice tied to the coach,
the privacy rules inside the queries, the roster's coach column in its import, and forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from db.coaching import CoachingRecords
from db.models import Reflection
from learning.roster import RosterRow
from tests.db.test_reporting import Records

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
def people(engine):
    records = Records(engine)
    ids = {uid: records.learner(uid, role="coach" if uid.startswith("UC") else "learner")
           for uid in ("UCOACH1", "UCOACH2", "UANA", "UBEN")}
    return records, ids


def note(records, learner_id: int, text: str, at: datetime) -> None:
    lesson = records.lesson(learner_id, sent_at=at, comment=f"comment: {text}")
    with records.engine.begin() as conn:
        conn.execute(insert(Reflection).values(delivery_id=lesson.id, learner_id=learner_id, prompt="?", text=text,
                                               created_at=at, updated_at=at))


def test_one_coach_per_learner_and_a_new_coach_starts_private(engine, people):
    _, ids = people
    coaching = CoachingRecords(engine)
    first = coaching.assign(ids["UCOACH1"], [ids["UANA"], ids["UANA"]], by="UADMIN", now=NOW)
    assert [(a.learner_id, a.previous_coach_id) for a in first] == [(ids["UANA"], None)]
    assert coaching.set_sharing(ids["UANA"], True, NOW)
    again = coaching.assign(ids["UCOACH1"], [ids["UANA"]], by="UADMIN", now=NOW)
    assert again[0].previous_coach_id == ids["UCOACH1"] and coaching.coach_of(ids["UANA"]).shares_notes, \
        "the same coach again keeps her choice"
    coaching.assign(ids["UCOACH2"], [ids["UANA"]], by="UADMIN", now=NOW)
    mine = coaching.coach_of(ids["UANA"])
    assert (mine.slack_user_id, mine.shares_notes) == ("UCOACH2", False)
    assert coaching.unassign(ids["UCOACH1"], [ids["UANA"]]) == [], "not theirs to remove"
    assert coaching.unassign(ids["UCOACH2"], [ids["UANA"]]) == [ids["UANA"]]
    assert coaching.coach_of(ids["UANA"]) is None and not coaching.set_sharing(ids["UANA"], True, NOW)


def test_a_coach_reads_only_their_coachees_and_only_shared_notes(engine, people):
    records, ids = people
    coaching = CoachingRecords(engine)
    coaching.assign(ids["UCOACH1"], [ids["UANA"], ids["UBEN"]], by="UADMIN", now=NOW)
    coaching.set_sharing(ids["UANA"], True, NOW)
    for uid in ("UANA", "UBEN"):
        note(records, ids[uid], f"{uid} thinks", NOW - timedelta(days=1))
    window = dict(since=NOW - timedelta(days=30), until=NOW)
    notes = coaching.shared_notes(ids["UCOACH1"], **window, limit=5)
    assert set(notes) == {ids["UANA"]}, "Ben does not share"
    assert sorted((n.kind, n.text) for n in notes[ids["UANA"]]) == [("comment", "comment: UANA thinks"),
                                                                   ("reflection", "UANA thinks")]
    assert coaching.shared_notes(ids["UCOACH2"], **window) == {}, "another coach sees nothing"
    assert coaching.coachees(ids["UCOACH2"], week_start=NOW - timedelta(days=7), month_start=NOW - timedelta(days=30),
                             until=NOW) == []
    assert coaching.struggles(ids["UCOACH2"], **window) == {}
    assert [c.slack_user_id for c in coaching.coachees(ids["UCOACH1"], week_start=NOW - timedelta(days=7),
                                                      month_start=NOW - timedelta(days=30), until=NOW)] == [
        "UANA", "UBEN"]
    assert [c.slack_user_id for c in coaching.digest_recipients()] == ["UCOACH1"]


def test_the_roster_column_sets_changes_and_clears_coaches_in_its_transaction(store, engine, people):
    _, ids = people
    coaching = CoachingRecords(engine)

    def row(uid, coach, *, given=True, role="learner"):
        return RosterRow(2, uid, uid, None, role, None, None, None, (), coach_slack_user_id=coach, coach_given=given)

    store.import_roster([row("UANA", "UCOACH1"), row("UBEN", "UCOACH1")], NOW)
    coaching.set_sharing(ids["UANA"], True, NOW)
    store.import_roster([row("UANA", "UCOACH1"), row("UBEN", "UCOACH2")], NOW)
    assert coaching.coach_of(ids["UANA"]).shares_notes, "unchanged: her choice stays"
    assert coaching.coach_of(ids["UBEN"]).slack_user_id == "UCOACH2"
    store.import_roster([row("UANA", None, given=False), row("UBEN", None)], NOW)
    assert coaching.coach_of(ids["UANA"]).slack_user_id == "UCOACH1" and coaching.coach_of(ids["UBEN"]) is None
    with pytest.raises(ValueError, match="UNOBODY"):
        store.import_roster([row("UNEW", None, given=False), row("UANA", "UNOBODY")], NOW)
    assert store.learner("UNEW") is None, "all or nothing"


def test_forgetting_a_coach_removes_their_coachees_assignments(store, engine, people):
    _, ids = people
    coaching = CoachingRecords(engine)
    coaching.assign(ids["UCOACH1"], [ids["UANA"], ids["UBEN"]], by="UADMIN", now=NOW)
    coaching.assign(ids["UCOACH2"], [ids["UCOACH1"]], by="UADMIN", now=NOW)
    assert store.forget("UCOACH1", NOW)
    assert coaching.coach_of(ids["UANA"]) is None and coaching.coach_of(ids["UBEN"]) is None
    assert coaching.coachee_names(ids["UCOACH2"]) == []
