"""The stored ``next_due_at``: an idle tick reads no enrollment, and every change a lesson's time depends on
makes the planner work it out again (triggers from migration 0010), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from content_packs.catalog import Catalog
from content_packs.loader import parse_pack
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Delivery, Enrollment
from db.store import Store
from learning.roster import RosterRow
from scheduler.planner import Planner
from tests.db.records_of_every_kind import fill

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
    quiz:
      - {{id: q1, prompt: "2+{i}?", choices: ["{i + 2}", "{i + 3}"], answer: "{i + 2}", explain: Sums.}}
"""
    for i in range(1, 6)
)

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)
ENROLLED = MONDAY - timedelta(days=3)


def catalog_of(text_: str = PACK) -> Catalog:
    pack = parse_pack(text_, Path("habits/pack.yaml"))
    return Catalog({pack.id: pack})


@pytest.fixture
def catalog():
    return catalog_of()


def row(user: str, tz: str | None) -> RosterRow:
    return RosterRow(2, user, user.lower(), None, "learner", None, None, tz, ("habits",))


def next_due(store: Store, user: str) -> datetime | None:
    learner = store.learner(user)
    with store.engine.connect() as conn:
        return conn.execute(select(Enrollment.next_due_at).where(Enrollment.learner_id == learner.id)).scalar_one()


def test_an_idle_tick_reads_no_enrollment_and_the_lesson_still_comes(store, catalog):
    store.import_roster([row("UA", "UTC"), row("UB", "America/New_York")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    assert planner.plan(MONDAY.replace(hour=6)).queued == []
    assert next_due(store, "UA") == MONDAY.replace(hour=9, minute=30)
    assert next_due(store, "UB") == MONDAY.replace(hour=14, minute=30)
    assert store.planning_rows(MONDAY.replace(hour=9, minute=29)) == []
    assert len(planner.plan(MONDAY.replace(hour=9, minute=30)).queued) == 1
    assert next_due(store, "UA") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # Tuesday
    assert store.planning_rows(MONDAY.replace(hour=12)) == []
    assert len(planner.plan(MONDAY.replace(hour=15)).queued) == 1  # New York's, caught up the same day


def test_a_learner_who_moves_to_another_zone_is_planned_in_the_new_one(store, catalog):
    store.import_roster([row("UA", "America/New_York")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    assert planner.plan(MONDAY.replace(hour=10)).queued == []  # 05:00 in New York
    assert next_due(store, "UA") == MONDAY.replace(hour=14, minute=30)
    store.import_roster([row("UA", "Europe/Berlin")], ENROLLED)  # 09:30 in Berlin was 08:30 UTC: due, today
    assert next_due(store, "UA") is None
    assert len(planner.plan(MONDAY.replace(hour=10, minute=1)).queued) == 1


def test_importing_the_same_roster_again_keeps_the_next_due_times(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    Planner(store=store, catalog=catalog).plan(MONDAY.replace(hour=6))
    store.import_roster([row("UA", "UTC")], ENROLLED + timedelta(days=1))
    assert next_due(store, "UA") == MONDAY.replace(hour=9, minute=30)


def test_a_slack_time_zone_learned_later_counts(store, catalog):
    store.import_roster([row("UA", None)], ENROLLED)  # no roster zone: the default (UTC) until Slack says
    planner = Planner(store=store, catalog=catalog)
    planner.plan(MONDAY.replace(hour=6))
    assert next_due(store, "UA") == MONDAY.replace(hour=9, minute=30)
    store.update_slack_profile(store.learner("UA").id, name=None, slack_timezone="Asia/Kolkata", now=MONDAY)
    assert len(planner.plan(MONDAY.replace(hour=6, minute=1)).queued) == 1  # 09:30 in Kolkata is 04:00 UTC


def test_a_new_lesson_time_and_days_are_picked_up(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    planner.plan(MONDAY.replace(hour=6))
    store.set_preferences(store.learner("UA").id, MONDAY, delivery_time="07:00")
    assert len(planner.plan(MONDAY.replace(hour=7)).queued) == 1
    assert next_due(store, "UA") == MONDAY.replace(day=1, month=12, hour=7)
    store.set_preferences(store.learner("UA").id, MONDAY, delivery_days="sun")
    assert planner.plan(MONDAY.replace(day=1, month=12, hour=7)).queued == []
    assert next_due(store, "UA") == datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def test_pausing_and_resuming_move_the_next_lesson(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    planner.plan(MONDAY.replace(hour=6))
    learner = store.learner("UA").id
    store.set_preferences(learner, MONDAY, paused_until=MONDAY + timedelta(days=7))
    assert planner.plan(MONDAY.replace(hour=9, minute=30)).queued == []
    store.set_preferences(learner, MONDAY.replace(hour=9, minute=40), paused_until=None,
                          resumed_at=MONDAY.replace(hour=9, minute=40))
    assert planner.plan(MONDAY.replace(hour=9, minute=41)).queued == []  # today's slot was before the resume
    assert next_due(store, "UA") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert len(planner.plan(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)).queued) == 1


def test_an_edited_pack_schedule_and_a_new_default_zone_are_picked_up(store):
    store.import_roster([row("UA", None)], ENROLLED)
    Planner(store=store, catalog=catalog_of()).plan(MONDAY.replace(hour=6))
    assert next_due(store, "UA") == MONDAY.replace(hour=9, minute=30)
    earlier = catalog_of(PACK.replace('time: "09:30"', 'time: "07:00"'))
    assert len(Planner(store=store, catalog=earlier).plan(MONDAY.replace(hour=7)).queued) == 1
    assert next_due(store, "UA") == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    tokyo = Planner(store=store, catalog=earlier, default_timezone="Asia/Tokyo")
    tokyo.plan(MONDAY.replace(hour=8))
    assert next_due(store, "UA") == datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # Tuesday 07:00 in Tokyo


def test_a_scheduled_delivery_removed_lets_the_day_be_planned_again(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    assert len(planner.plan(MONDAY.replace(hour=9, minute=30)).queued) == 1
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(Delivery.__table__.delete())
    assert next_due(store, "UA") is None
    assert len(planner.plan(MONDAY.replace(hour=10)).queued) == 1


def test_reopening_an_enrollment_works_its_time_out_again(store, catalog):
    store.import_roster([row("UA", "UTC")], ENROLLED)
    planner = Planner(store=store, catalog=catalog)
    planner.plan(MONDAY.replace(hour=6))
    with store.engine.begin() as conn:
        conn.execute(update(Enrollment).values(starts_on=datetime(2026, 12, 3).date()))
    assert next_due(store, "UA") is None
    assert planner.plan(MONDAY.replace(hour=9, minute=30)).queued == []
    assert next_due(store, "UA") == datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def test_a_time_read_before_a_change_is_not_written_after_it(store, catalog):
    """A planner that read the old zone while the learner changed it must not store the old zone's time."""
    store.import_roster([row("UA", "UTC")], ENROLLED)
    [seen] = store.planning_rows(MONDAY.replace(hour=6))
    store.import_roster([row("UA", "Asia/Tokyo")], ENROLLED)
    assert store.set_next_due([(seen.enrollment_id, seen.schedule_changes, MONDAY.replace(hour=9, minute=30))]) == 0
    assert next_due(store, "UA") is None


@pytest.mark.parametrize("zone_name, monday_utc", [("Europe/Berlin", 8), ("America/New_York", 14)])
def test_the_stored_time_crosses_a_change_of_clocks(store, catalog, zone_name, monday_utc):
    """Friday's lesson before the clocks change, Monday's after: the stored instant is Monday's wall-clock
    09:30 in the new offset (Europe moves on 29 March 2027, New York on 14 March 2027)."""
    friday = datetime(2027, 3, 26, 12, 0, tzinfo=UTC) if zone_name == "Europe/Berlin" else \
        datetime(2027, 3, 12, 17, 0, tzinfo=UTC)
    store.import_roster([row("UA", zone_name)], friday - timedelta(days=7))
    planner = Planner(store=store, catalog=catalog)
    assert len(planner.plan(friday).queued) == 1
    monday = (friday + timedelta(days=3)).replace(hour=monday_utc, minute=30)
    assert next_due(store, "UA") == monday - timedelta(hours=1)  # one hour earlier in UTC than the winter's
    assert planner.plan(monday - timedelta(hours=1, minutes=1)).queued == []
    assert len(planner.plan(monday - timedelta(hours=1)).queued) == 1


def test_upgrading_a_database_with_records_plans_them_at_the_next_tick(database_url, catalog):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0009")
        with engine.begin() as conn:
            fill(conn)
            conn.execute(text("UPDATE enrollments SET pack_id = 'habits', status = 'active', starts_on = NULL"))
            conn.execute(text("UPDATE learners SET active = true, paused_until = NULL, delivery_time = NULL, "
                              "delivery_days = NULL"))
            conn.execute(text("DELETE FROM deliveries"))
        upgrade(engine)
        store = Store(engine)
        with engine.connect() as conn:
            kept = conn.execute(select(Enrollment.next_due_at, Enrollment.schedule_changes)).all()
        assert kept and set(kept) == {(None, 0)}
        rows = store.planning_rows(MONDAY.replace(hour=6))
        assert rows and all(r.next_due_at is None for r in rows)
        Planner(store=store, catalog=catalog).plan(MONDAY.replace(hour=6))
        with engine.connect() as conn:
            assert None not in conn.execute(select(Enrollment.next_due_at)).scalars().all()
        assert store.planning_rows(MONDAY.replace(hour=6, minute=1)) == []
    finally:
        engine.dispose()
