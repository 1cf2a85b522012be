"""The review planner over simulated weeks, on SQLite and PostgreSQL: the planner takes ``now``, the
simulated learner answers each review DM as it is queued, nobody sleeps.

Pinned here: at most ``max_questions`` cards a DM, the most overdue first; one DM a lesson day at the
learner's lesson time; nothing while paused, nor before the pause ends or the learner resumes; a
retired card never comes back; recertification invitations wait for the lesson time and the pause.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from content_packs.catalog import Catalog
from content_packs.loader import parse_pack
from db.models import ReviewCard, ReviewSession
from learning.pausing import UNTIL_RESUMED
from learning.review import AGAIN, GOOD, first_answer, review
from learning.roster import RosterRow
from scheduler.reviews import ReviewPlanner

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 30)
PACK = """\
id: habits
title: Habits
description: Small habits.
version: 1
schedule: {days: [mon, tue, wed, thu, fri], time: "09:30"}
certificate: {name: Habit Keeper, pass_score: 0.5, valid_days: 60}
lessons:
  - id: l1
    title: Lesson 1
    minutes: 2
    body: Body
    links: [{kind: article, title: Read, url: "https://example.org/1"}]
    quiz:
      - {id: q1, prompt: "2+1?", choices: ["3", "4"], answer: "3", explain: Sums.}
"""


@pytest.fixture
def catalog():
    pack = parse_pack(PACK, Path("habits/pack.yaml"))
    return Catalog({pack.id: pack})


@pytest.fixture
def planner(store, catalog):
    return ReviewPlanner(store=store, catalog=catalog, max_questions=3)


def berlin(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=BERLIN).astimezone(UTC)


def learner_with_cards(store, count: int, rating: int, answered_at: datetime) -> int:
    """Ana in Berlin, following the habits pack, who answered ``count`` questions at ``answered_at``."""
    store.import_roster([RosterRow(2, "U0ANA", "Ana", None, "learner", None, None, "Europe/Berlin", ("habits",))],
                        answered_at - timedelta(days=1))
    learner_id = store.learner("U0ANA").id
    for i in range(count):
        store.create_card(learner_id=learner_id, pack_id="habits", lesson_id="l1", question_id=f"q{i}",
                          state=first_answer(rating, answered_at), now=answered_at)
    return learner_id


def sessions(store) -> list:
    with store.engine.connect() as conn:
        return conn.execute(select(ReviewSession.__table__).order_by(ReviewSession.id)).all()


def answer(store, session_id: int, now: datetime, right=lambda card: True) -> None:
    """The learner answers every question of the review DM at ``now``."""
    view = store.review_session(session_id)
    for card_id in view.card_ids:
        card = view.cards[card_id]
        rating = GOOD if right(card) else AGAIN
        store.record_review(session_id=session_id, card=card, learner_id=view.learner_id, prompt="?",
                            response="3", correct=rating == GOOD, rating=rating,
                            new_state=review(card.state, rating, now), now=now)


def simulate(store, planner, start: date, days: int, *, times=("07:00", "09:45", "21:00"), right=lambda c: True,
             before_each=None):
    """Tick the planner at a few local times a day; answer each review DM as soon as it is queued.
    Returns what was queued: (local time it was planned at, session row)."""
    seen = {s.id for s in sessions(store)}
    log = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        for hhmm in times:
            now = berlin(day, hhmm)
            if before_each is not None:
                before_each(now)
            planner.plan(now)
            for session in sessions(store):
                if session.id not in seen:
                    seen.add(session.id)
                    log.append((now.astimezone(BERLIN), session))
                    answer(store, session.id, now, right)
    return log


def test_at_most_three_cards_a_dm_most_overdue_first_one_dm_a_lesson_day(store, planner):
    learner_with_cards(store, 7, AGAIN, berlin(MONDAY, "09:40"))  # seven misses: all due again on Tuesday
    log = simulate(store, planner, MONDAY, 21)

    assert log, "reviews were planned"
    for planned_at, session in log:
        assert len(json.loads(session.card_ids)) <= 3
        assert planned_at.strftime("%a") not in ("Sat", "Sun"), "reviews come on the pack's lesson days"
        assert planned_at.time() >= datetime.strptime("09:30", "%H:%M").time(), "not before the lesson time"
        assert session.due_at.astimezone(BERLIN).strftime("%H:%M") == "09:30"
    days = [s.local_date for _, s in log]
    assert len(days) == len(set(days)), "one review DM a day"
    # Tuesday, Wednesday, Thursday: three, three, then the last one of the seven first misses.
    first = [json.loads(s.card_ids) for _, s in log[:3]]
    assert [len(ids) for ids in first] == [3, 3, 3]
    assert sorted(first[0] + first[1])[:6] == sorted(first[0] + first[1])
    assert set(first[0]) | set(first[1]) | set(first[2]) >= set(range(1, 8)), "every missed card within three days"
    assert first[0] == [1, 2, 3], "the most overdue first (ties by card)"


def test_no_review_while_paused_nor_before_the_pause_ends(store, planner):
    learner_id = learner_with_cards(store, 2, AGAIN, berlin(MONDAY, "09:40"))
    # Paused on Monday afternoon until the next Monday at 11:00 — after that day's 09:30.
    store.set_preferences(learner_id, berlin(MONDAY, "15:00"), paused_until=berlin(MONDAY + timedelta(days=7), "11:00"))
    log = simulate(store, planner, MONDAY, 9)
    assert [planned.strftime("%a %d %H:%M") for planned, _ in log] == ["Tue 08 09:45"]


def test_paused_until_resumed_gets_nothing_and_resuming_late_waits_for_the_next_lesson_day(store, planner):
    learner_id = learner_with_cards(store, 2, AGAIN, berlin(MONDAY, "09:40"))
    store.set_preferences(learner_id, berlin(MONDAY, "15:00"), paused_until=UNTIL_RESUMED)
    assert simulate(store, planner, MONDAY, 14) == []
    resume_day = MONDAY + timedelta(days=14)  # a Monday: resumed at 15:00, after that day's 09:30
    store.set_preferences(learner_id, berlin(resume_day, "15:00"), paused_until=None,
                          resumed_at=berlin(resume_day, "15:00"))
    log = simulate(store, planner, resume_day, 3, times=("09:45", "16:00"))
    assert [planned.strftime("%a %d %H:%M") for planned, _ in log] == ["Tue 15 09:45"]


def test_a_retired_card_never_comes_back(store, planner):
    learner_with_cards(store, 3, GOOD, berlin(MONDAY, "09:40"))
    retired_at: dict[int, datetime] = {}

    def note_retirements(now):
        with store.engine.connect() as conn:
            for card_id, when in conn.execute(select(ReviewCard.id, ReviewCard.retired_at)
                                              .where(ReviewCard.retired_at.is_not(None))):
                retired_at.setdefault(card_id, when)

    # Card 3 is missed at its first review, so it retires later than the others.
    log = simulate(store, planner, MONDAY, 330, times=("09:45",), before_each=note_retirements,
                   right=lambda card: not (card.id == 3 and card.state.reviews == 1))
    note_retirements(None)
    assert set(retired_at) == {1, 2, 3}, "answered right at long intervals, every card retires"
    for planned_at, session in log:
        for card_id in json.loads(session.card_ids):
            assert card_id not in retired_at or planned_at <= retired_at[card_id], (card_id, planned_at)
    reviewed = [card_id for _, s in log for card_id in json.loads(s.card_ids)]
    assert reviewed.count(3) > reviewed.count(1), "the missed card came back more often"


def issue(store, learner_id: int, now: datetime, valid_days: int = 40) -> None:
    store.issue_certificate(learner_id=learner_id, pack_id="habits", name="Habit Keeper", score=1.0, now=now,
                            expires_at=now + timedelta(days=valid_days), channel="D0ANA")


def recerts(store) -> list:
    return [s for s in sessions(store) if s.kind == "recert"]


def test_recertification_waits_for_the_lesson_time_on_a_lesson_day(store, planner):
    learner_id = learner_with_cards(store, 2, GOOD, berlin(MONDAY, "09:40"))
    issue(store, learner_id, berlin(MONDAY, "09:41"))  # expires in 40 days: invited from 10 days on
    invite_day = MONDAY + timedelta(days=10)  # a Thursday
    planner.plan(berlin(invite_day, "03:00"))
    assert recerts(store) == [], "not in the middle of the night"
    planner.plan(berlin(invite_day, "09:45"))
    [recert] = recerts(store)
    assert recert.local_date == invite_day and recert.due_at == berlin(invite_day, "09:30")
    planner.plan(berlin(invite_day + timedelta(days=1), "09:45"))
    assert len(recerts(store)) == 1, "invited once"


def test_recertification_waits_for_a_pause_to_end(store, planner):
    learner_id = learner_with_cards(store, 2, GOOD, berlin(MONDAY, "09:40"))
    issue(store, learner_id, berlin(MONDAY, "09:41"))
    invite_day = MONDAY + timedelta(days=10)
    store.set_preferences(learner_id, berlin(invite_day, "08:00"), paused_until=berlin(invite_day + timedelta(days=4), "08:00"))
    for offset in range(4):
        planner.plan(berlin(invite_day + timedelta(days=offset), "09:45"))
    assert recerts(store) == [], "nothing while paused"
    planner.plan(berlin(invite_day + timedelta(days=4), "09:45"))  # Monday, the pause ended at 08:00
    [recert] = recerts(store)
    assert recert.local_date == invite_day + timedelta(days=4)
