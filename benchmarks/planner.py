"""The planner at 100,000 learners (issue 16, part 2).

Two figures, each beside a baseline measured in the same run:

* an idle ``python app.py tick --at …`` (nothing due) over N enrolled learners against the same idle
  tick over one enrolled learner: whole process time, the median of several runs each;
* planning a tick at which 10,000 of them are due — ``Planner.plan(now)`` called in-process (the plan
  step only: their deliveries and outbox rows written, nothing sent) — against the bare ``SELECT``
  (SQLAlchemy Core, one statement) that finds those due learners.

    python benchmarks/planner.py [--learners 100000] [--due 10000] [--database-url postgresql+psycopg://…]

Learners and enrollments are inserted with SQLAlchemy Core in the rows a roster import writes (a
roster of 100,000 through ``import_roster`` would take longer than the benchmark), then one tick works
out everyone's next due time, as the first tick after an import or an upgrade does. The N learners
take their lessons at 09:30 in UTC (the pack's schedule); the 10,000 due are given 07:00.

Targets: the idle tick over N costs under 0.3 s more than over one; planning 10,000 due under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import ROOT, Results, database, emulator_process, sprout_env

PACK = "security-basics"  # schedule: mon–fri 09:30
ENROLLED_AT = datetime(2026, 11, 29, tzinfo=UTC)  # a Sunday
FIRST = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday, before anyone's lesson: works out next due times
IDLE = "2026-11-30T06:30:00Z"  # nothing due
DUE = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # the learners with a 07:00 lesson time are due
REPEAT = 5


def populate(database_url: str, learners: int, due: int) -> None:
    """``learners`` learners each enrolled in PACK, as ``Store.import_roster`` writes them; the first ``due``
    of them chose 07:00 as their lesson time (``/learn time 07:00`` writes ``delivery_time``)."""
    from sqlalchemy import insert

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.models import Enrollment, Learner

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        for start in range(1, learners + 1, 20_000):
            ids = range(start, min(start + 20_000, learners + 1))
            conn.execute(insert(Learner), [
                {"slack_user_id": f"U{i:08d}", "name": f"Learner {i}", "email": None, "role": "learner",
                 "manager_slack_user_id": None, "team": None, "timezone": "UTC", "active": True,
                 "delivery_time": "07:00" if i <= due else None, "created_at": ENROLLED_AT,
                 "updated_at": ENROLLED_AT} for i in ids])
            conn.execute(insert(Enrollment), [
                {"learner_id": i, "pack_id": PACK, "status": "active", "enrolled_at": ENROLLED_AT} for i in ids])
    engine.dispose()


def tick(env: dict[str, str], at: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "app.py", "tick", "--at", at], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or " 0 queued" not in result.stdout:
        raise RuntimeError(f"the idle tick did not run idle: {result.stdout}{result.stderr}")
    return elapsed


def idle_ticks(env_one: dict[str, str], env_many: dict[str, str]) -> tuple[list[float], list[float]]:
    """Interleaved, so a change in the machine's load falls on both."""
    one, many = [], []
    for _ in range(REPEAT):
        one.append(tick(env_one, IDLE))
        many.append(tick(env_many, IDLE))
    return one, many


def bare_select(database_url: str, now: datetime) -> tuple[float, int]:
    """The one statement that finds the due learners (as the planner's rule has it for these learners: an active
    enrollment of an active learner whose lesson time has come today and who has no lesson today yet)."""
    from sqlalchemy import and_, exists, select

    from db.engine import make_engine
    from db.models import Delivery, Enrollment, Learner

    engine = make_engine(database_url)
    today = now.date()
    stmt = (
        select(Enrollment.id, Learner.id, Learner.slack_user_id, Learner.dm_channel_id)
        .join(Learner, Learner.id == Enrollment.learner_id)
        .where(Enrollment.status == "active", Learner.active.is_(True), Learner.delivery_time <= f"{now:%H:%M}",
               ~exists().where(and_(Delivery.enrollment_id == Enrollment.id, Delivery.local_date == today)))
    )
    times = []
    with engine.connect() as conn:
        for _ in range(REPEAT):
            started = time.perf_counter()
            rows = conn.execute(stmt).all()
            times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times), len(rows)


def plan_in_process(database_url: str, now: datetime):
    from content_packs.catalog import Catalog
    from content_packs.loader import BUNDLED_DIR
    from db.engine import make_engine
    from db.store import Store
    from scheduler.planner import Planner

    engine = make_engine(database_url)
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    planner = Planner(store=Store(engine), catalog=catalog)
    started = time.perf_counter()
    result = planner.plan(now)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()
    n, due = args.learners, args.due
    r = Results("planner")
    backend = "postgresql" if args.database_url else "sqlite"

    with (emulator_process(1, "--rate-tiers", "none") as api_url, database(args.database_url) as one_url,
          database(args.database_url) as many_url):
        started = time.perf_counter()
        populate(one_url, 1, 0)
        populate(many_url, n, due)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        first, _ = plan_in_process(one_url, FIRST)
        first, _ = plan_in_process(many_url, FIRST)
        r.say(f"the planner at {n} learners ({backend}); {n} rows inserted in {filled:.1f} s; "
              f"the first tick works out every next due time in {first:.2f} s (once, after an import or upgrade)")

        env_one, env_many = sprout_env(one_url, api_url), sprout_env(many_url, api_url)
        one, many = idle_ticks(env_one, env_many)
        extra = statistics.median(many) - statistics.median(one)
        r.say(f"  idle tick, 1 learner       {statistics.median(one):6.2f} s   (median of {REPEAT}: "
              f"{', '.join(f'{t:.2f}' for t in one)})")
        r.say(f"  idle tick, {n} learners {statistics.median(many):6.2f} s   (median of {REPEAT}: "
              f"{', '.join(f'{t:.2f}' for t in many)})")
        r.say(f"  extra cost of {n} learners {extra:+6.2f} s   target < 0.30 s")

        baseline, found = bare_select(many_url, DUE)
        planned, result = plan_in_process(many_url, DUE)
        r.say(f"  bare SELECT of the due      {baseline:6.3f} s   ({found} rows, median of {REPEAT})")
        r.say(f"  Planner.plan(now), in-process {planned:6.2f} s   ({len(result.queued)} outbox rows written; "
              f"ratio to the bare SELECT {planned / baseline:.0f}×)   target < 2 s")
        again, twice = plan_in_process(many_url, DUE)
        r.say(f"  the same instant planned again {again:6.2f} s   ({len(twice.queued)} outbox rows: nothing is due twice)")

    r.target(f"idle tick over {n} learners costs < 0.3 s more than over 1 ({backend})", extra < 0.3)
    r.target(f"{due} due learners planned in < 2 s ({backend})", planned < 2 and len(result.queued) == due == found)
    r.target("planning the same instant again queues nothing", len(twice.queued) == 0)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
