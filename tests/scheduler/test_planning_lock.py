"""Only one instance plans at a time: the others skip planning and only send (a PostgreSQL advisory lock)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from db.engine import make_engine
from db.store import Store
from learning.roster import parse_roster
from scheduler.planner import Planner

AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
LEARNERS = 20


def enroll(store: Store) -> None:
    csv = "slack_user_id,name,timezone,packs\n" + "".join(
        f"U0P{i:04d},Learner {i},UTC,security-basics\n" for i in range(LEARNERS)
    )
    store.import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, datetime(2026, 11, 29, tzinfo=UTC))


def test_a_second_instance_skips_planning_while_the_first_holds_the_lock(store, database_url):
    enroll(store)
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    other = make_engine(database_url)  # another process: its own engine and connections
    try:
        other_store = Store(other)
        if store.engine.dialect.name != "postgresql":
            # SQLite is one instance by design: planning always proceeds, unique keys absorb a repeat.
            with store.planning_lock() as first, other_store.planning_lock() as second:
                assert first and second
            return
        with store.planning_lock() as mine:
            assert mine
            with other_store.planning_lock() as theirs:
                assert not theirs
            assert Planner(store=other_store, catalog=catalog).plan(AT).queued == []
            assert store.outbox_counts() == {}
        # Released: the other instance plans now.
        assert len(Planner(store=other_store, catalog=catalog).plan(AT).queued) == LEARNERS
    finally:
        other.dispose()


def test_two_instances_planning_at_once_queue_each_lesson_once(store, database_url):
    enroll(store)
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        planners = [Planner(store=Store(engine), catalog=catalog) for engine in engines]
        start = threading.Barrier(2)
        queued: list[int] = []

        def plan(planner: Planner) -> None:
            start.wait()
            queued.append(len(planner.plan(AT).queued))

        threads = [threading.Thread(target=plan, args=(planner,)) for planner in planners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(queued) == LEARNERS and store.outbox_counts() == {"pending": LEARNERS}
    finally:
        for engine in engines:
            engine.dispose()
