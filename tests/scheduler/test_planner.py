from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from content_packs.catalog import Catalog
from content_packs.loader import parse_pack
from learning.roster import RosterRow
from scheduler.planner import Planner

PACK = """\
id: habits
title: Habits
description: Small habits.
version: 1
schedule: {days: [mon, tue, wed, thu, fri], time: "09:30"}
lessons:
""" + "".join(
    f"""\
  - id: l{i}
    title: Lesson {i}
    minutes: 2
    body: Body {i}
    links: [{{kind: article, title: Read, url: "https://example.org/{i}"}}]
    quiz:
      - {{id: q1, prompt: "2+{i}?", choices: ["{i + 2}", "{i + 3}"], answer: "{i + 2}", explain: Sums.}}
"""
    for i in range(1, 4)
)


@pytest.fixture
def catalog():
    pack = parse_pack(PACK, Path("habits/pack.yaml"))
    return Catalog({pack.id: pack})


def row(user: str, tz: str | None, packs=("habits",)) -> RosterRow:
    return RosterRow(2, user, user.lower(), None, "learner", None, None, tz, tuple(packs))


MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
ENROLLED = MONDAY - timedelta(days=3)


def test_each_learner_gets_the_lesson_at_half_past_nine_in_their_zone(store, catalog):
    store.import_roster([row("UBERLIN", "Europe/Berlin"), row("UNEWYORK", "America/New_York")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    assert planner.plan(MONDAY.replace(hour=8, minute=29)).queued == []
    berlin = planner.plan(MONDAY.replace(hour=8, minute=30))  # 09:30 in Berlin
    assert len(berlin.queued) == 1
    assert planner.plan(MONDAY.replace(hour=14, minute=29)).queued == []
    new_york = planner.plan(MONDAY.replace(hour=14, minute=30))  # 09:30 in New York
    assert len(new_york.queued) == 1
    assert store.outbox_counts() == {"pending": 2}


def test_planning_twice_queues_nothing_twice(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    at = MONDAY.replace(hour=9, minute=30)
    assert len(planner.plan(at).queued) == 1
    assert planner.plan(at).queued == []
    assert planner.plan(at + timedelta(hours=5)).queued == []
    assert store.outbox_counts() == {"pending": 1}


def test_lessons_come_in_order_one_per_day_then_the_pack_is_finished(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    for day in range(3):
        planner.plan(MONDAY + timedelta(days=day, hours=10))
    learner = store.learner("UA")
    enrollment = store.enrollments(learner.id)[0]
    assert store.delivered_lessons([enrollment.id])[enrollment.id] == {"l1", "l2", "l3"}
    result = planner.plan(MONDAY + timedelta(days=3, hours=10))
    assert result.queued == [] and result.completed == [enrollment.id]
    assert store.enrollments(learner.id)[0].status == "completed"


def test_a_removed_pack_sends_nothing_and_loses_nothing(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    assert Planner(store=store, catalog=Catalog({})).plan(MONDAY.replace(hour=10)).queued == []
    assert len(Planner(store=store, catalog=catalog).plan(MONDAY.replace(hour=10)).queued) == 1
