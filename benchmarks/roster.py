"""Benchmark of roster import: a 100,000-row CSV through `python app.py roster import`, then again.

Times the real command end to end (a process of its own: start-up, reading and checking every row, the
migrations of a fresh database, one transaction) on a fresh database, then the same file a second time
(every row an update: the weekly re-sync). Beside them, in the same run and on another fresh database,
the bare SQL cost of the same rows: one executemany of a plain INSERT of the learners and one of their
enrollments through SQLAlchemy Core, in one transaction. Rows are counted after each import.

    python benchmarks/roster.py [--rows 100000] [--database-url postgresql+psycopg://…]

Targets: first import < 20 s, re-import < 20 s, the right number of learners and enrollments.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, Results, database

ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles",
         "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney")
SUMMARY = re.compile(r": (\d+) added, (\d+) updated, (\d+) new enrollments$")


def write_roster(path: Path, rows: int, packs: list[str]) -> int:
    """A company's roster: a manager for every eight people, teams, zones, one to three packs each.
    Returns how many enrollments it asks for."""
    rng = random.Random(16)
    lines = ["slack_user_id,name,email,role,manager_slack_user_id,team,timezone,packs"]
    enrollments = 0
    for i in range(rows):
        manager_of_team = i - i % 8
        is_manager = i % 8 == 0
        chosen = rng.sample(packs, k=rng.choice((1, 1, 2, 2, 3)))
        enrollments += len(chosen)
        lines.append(",".join((
            f"U{i:09d}", f"Person {i}", f"person.{i}@example.com",
            "manager" if is_manager else rng.choice(("learner",) * 30 + ("facilitator",)),
            "" if is_manager else f"U{manager_of_team:09d}",
            f"Team {i // 400}", ZONES[rng.randrange(len(ZONES))], ";".join(chosen),
        )))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return enrollments


def run_import(database_url: str, path: Path) -> tuple[float, tuple[int, int, int], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = database_url
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "app.py", "roster", "import", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    found = SUMMARY.search(last)
    if done.returncode != 0 or not found:
        raise SystemExit(f"roster import failed ({done.returncode}): {done.stdout}{done.stderr[-2000:]}")
    return elapsed, (int(found[1]), int(found[2]), int(found[3])), last


def counts(database_url: str) -> tuple[int, int, int]:
    """(learners, active learners, enrollments)."""
    from db.engine import make_engine

    engine = make_engine(database_url)
    with engine.connect() as conn:
        learners, active = conn.exec_driver_sql("SELECT count(*), sum(CASE WHEN active THEN 1 ELSE 0 END) "
                                                "FROM learners").one()
        enrollments = conn.exec_driver_sql("SELECT count(*) FROM enrollments").scalar_one()
    engine.dispose()
    return learners, active or 0, enrollments


def bare_inserts(database_url: str, path: Path) -> tuple[float, int, int]:
    """The same rows with one executemany of a plain INSERT for learners and one for enrollments."""
    import csv

    from sqlalchemy import insert, select

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.models import Enrollment, Learner

    engine = make_engine(database_url)
    upgrade(engine)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    now = datetime.now(UTC)
    learners = [{"slack_user_id": r["slack_user_id"], "name": r["name"], "email": r["email"], "role": r["role"],
                 "manager_slack_user_id": r["manager_slack_user_id"] or None, "team": r["team"],
                 "timezone": r["timezone"], "active": True, "created_at": now, "updated_at": now} for r in rows]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Learner), learners)
        ids = dict(conn.execute(select(Learner.slack_user_id, Learner.id)).all())
        enrollments = [{"learner_id": ids[r["slack_user_id"]], "pack_id": p, "status": "active", "enrolled_at": now}
                       for r in rows for p in r["packs"].split(";")]
        conn.execute(insert(Enrollment), enrollments)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, len(learners), len(enrollments)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()

    from content_packs.catalog import Catalog
    from content_packs.loader import BUNDLED_DIR

    r = Results("roster")
    backend = "postgresql" if args.database_url else "sqlite"
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    packs = sorted(catalog.ids())
    with tempfile.TemporaryDirectory(prefix="sprout-roster-") as folder:
        path = Path(folder) / "roster.csv"
        expected = write_roster(path, args.rows, packs)
        size = path.stat().st_size
        r.say(f"roster import of {args.rows:,} rows ({size / 1e6:.1f} MB, {expected:,} enrollments over "
              f"{len(packs)} packs, {len(ZONES)} zones) on {backend}; load average {os.getloadavg()[0]:.2f}")

        with database(args.database_url) as database_url:
            bare, bare_learners, bare_enrollments = bare_inserts(database_url, path)
        r.say(f"  bare SQL (executemany INSERT, one transaction)  {bare:6.2f} s  "
              f"({bare_learners:,} learners, {bare_enrollments:,} enrollments)")

        empty = Path(folder) / "empty.csv"
        empty.write_text(path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")
        with database(args.database_url) as database_url:
            fixed, _, _ = run_import(database_url, empty)
        r.say(f"  the command on a header-only file (start-up)    {fixed:6.2f} s  (with a fresh database's migrations)")

        with database(args.database_url) as database_url:
            first, first_counts, first_line = run_import(database_url, path)
            after_first = counts(database_url)
            again, again_counts, again_line = run_import(database_url, path)
            after_again = counts(database_url)
        r.say(f"  first import (python app.py roster import)      {first:6.2f} s  ratio {first / bare:4.1f}× bare  "
              f"target < 20 s")
        r.say(f"    {first_line.split(': ', 1)[1]}; rows: {after_first[0]:,} learners, {after_first[2]:,} enrollments")
        r.say(f"  re-import (every row an update)                 {again:6.2f} s  ratio {again / bare:4.1f}× bare  "
              f"target < 20 s")
        r.say(f"    {again_line.split(': ', 1)[1]}; rows: {after_again[0]:,} learners, {after_again[2]:,} enrollments")

    n = args.rows
    r.target(f"first import < 20 s ({first:.2f} s)", first < 20)
    r.target(f"re-import < 20 s ({again:.2f} s)", again < 20)
    r.target("counts right: "
             f"{n:,} added then {n:,} updated, {expected:,} enrollments once, every learner active",
             first_counts == (n, 0, expected) and again_counts == (0, n, 0)
             and after_first == (n, n, expected) and after_again == (n, n, expected))
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
