"""Benchmark of spaced review planning: 10,000 learners with 200 cards each (2,000,000 cards).

Times one pass of the review planner that finds the learners with cards due and each one's most
overdue cards (and queues their review DMs), beside the bare SQL query selecting the same rows.

    python benchmarks/reviews.py [--learners 10000] [--cards 200] [--database-url postgresql+psycopg://…]

Target: the planner pass under 2 s on SQLite (index ix_review_cards_due_live).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from _common import database, enroll, user_id

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def fill(database_url: str, learners: int, cards: int) -> None:
    from sqlalchemy import insert

    from db.engine import make_engine
    from db.models import ReviewCard
    from learning.review import GOOD, first_answer

    enroll(database_url, learners)
    engine = make_engine(database_url)
    state = first_answer(GOOD, NOW - timedelta(days=30))
    rng = random.Random(1)
    with engine.begin() as conn:
        ids = dict(conn.exec_driver_sql("SELECT slack_user_id, id FROM learners").all())
        batch = []
        for i in range(1, learners + 1):
            learner_id = ids[user_id(i)]
            for c in range(cards):
                # Due dates spread over the next 200 days (a few overdue): about one card a learner is due now.
                due = NOW + timedelta(days=rng.uniform(-1, 199))
                batch.append({"learner_id": learner_id, "pack_id": "security-basics", "lesson_id": f"l{c // 4}",
                              "question_id": f"q{c}", "fsrs": state.fsrs, "due": due, "last_review": NOW,
                              "reviews": 1, "lapses": 0, "long_right": 0, "created_at": NOW})
                if len(batch) >= 20000:
                    conn.execute(insert(ReviewCard), batch)
                    batch = []
        if batch:
            conn.execute(insert(ReviewCard), batch)
    engine.dispose()


def bare_query(database_url: str) -> tuple[float, int]:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(database_url)
    with engine.connect() as conn:
        started = time.perf_counter()
        rows = conn.execute(
            text("SELECT * FROM (SELECT rc.*, row_number() OVER (PARTITION BY learner_id ORDER BY due, id) AS n "
                 "FROM review_cards rc WHERE retired_at IS NULL AND due <= :due_by) ranked WHERE n <= 3"),
            {"due_by": (NOW + timedelta(days=1)).replace(tzinfo=None) if database_url.startswith("sqlite")
             else NOW + timedelta(days=1)},
        ).all()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()

    from content_packs.catalog import Catalog
    from content_packs.loader import BUNDLED_DIR
    from db.engine import make_engine
    from db.store import Store
    from scheduler.reviews import ReviewPlanner

    with database(args.database_url) as database_url:
        started = time.perf_counter()
        fill(database_url, args.learners, args.cards)
        filled = time.perf_counter() - started
        bare, rows = bare_query(database_url)
        engine = make_engine(database_url)
        catalog, _ = Catalog.from_directory(BUNDLED_DIR)
        planner = ReviewPlanner(store=Store(engine), catalog=catalog)
        started = time.perf_counter()
        result = planner.plan(NOW)
        elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            sessions = conn.exec_driver_sql("SELECT count(*), sum(length(card_ids)) FROM review_sessions").one()
        engine.dispose()

    backend = "postgresql" if args.database_url else "sqlite"
    total = args.learners * args.cards
    print(f"review planning over {total:,} cards of {args.learners:,} learners ({backend}; filled in {filled:.0f} s)")
    print(f"  bare SQL query (due cards, top 3 a learner)  {bare:6.2f} s  ({rows:,} rows)")
    print(f"  planner pass (find due, queue review DMs)    {elapsed:6.2f} s  target < 2 s; ratio {elapsed / bare:.1f}×")
    print(f"  review DMs queued                            {result.reviews:,} ({sessions[0]:,} sessions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
