"""Benchmark 5: building every manager's weekly digest, beside the one SQL query behind its figures.

5,000 learners under 500 managers (in eight time zones), a year of records — lessons three times
a week, about a million answers, ratings, comments, certificates — written with bulk inserts
(executemany on SQLite, COPY on PostgreSQL). Then, for the Monday after the last week:

- the bare query: ``Reporting.team_weeks_statement`` for all 500 managers, executed and fetched;
- all digests: every manager's digest built (figures, attention, missed questions, comments,
  certificates) and drawn as Block Kit JSON and text — not sent — with one call;
- as the dispatcher draws them (judged): the 500 digests queued in the outbox as the planner
  queues them, claimed as ``Dispatcher`` claims (``batch_size`` at once), and drawn by the production
  renderer (``with_digests(outbox_renderer(…))``) ``Dispatcher.RENDER_CHUNK`` at a time;
- the charts: the 500 "digest_chart" messages drawn the same way (eight weeks' figures and a PNG
  each), timed on their own — matplotlib, not SQL, is their cost.

    python benchmarks/digests.py [--database-url postgresql+psycopg://…] [--learners 5000] [--managers 500]

Targets: all 500 digests under 5 s on SQLite and on PostgreSQL, within 3× of the bare query, as the
dispatcher draws them.
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from _common import ROOT, database

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo",
         "Europe/London", "Asia/Tokyo", "America/Los_Angeles"]
PACKS = {"security-basics": 6, "feedback-essentials": 6, "data-privacy-basics": 6}
DIGEST_DAY = date(2026, 11, 30)  # a Monday: the digest covers 23–29 November
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)


def sqlite_time(value: datetime) -> str:
    """How UTCDateTime stores an instant on SQLite (naive UTC, SQLAlchemy's DateTime text format)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def generate(learners: int, managers: int, seed: int):
    """Rows for every table, with explicit ids so that nothing needs RETURNING."""
    rng = random.Random(seed)
    now = YEAR_START
    people, enrollments, deliveries, answers, feedback, certificates = [], [], [], [], [], []
    for m in range(managers):
        people.append((m + 1, f"UMGR{m:05d}", f"Manager {m}", "manager", None, f"Team {m % 40}", ZONES[m % 8]))
    pack_ids = list(PACKS)
    delivery_id = answer_id = feedback_id = enrollment_id = 0
    for i in range(learners):
        lid = managers + i + 1
        manager = f"UMGR{i % managers:05d}"
        people.append((lid, f"ULRN{i:05d}", f"Learner {i}", "learner", manager, f"Team {(i % managers) % 40}",
                       ZONES[(i % managers) % 8]))
        skill = rng.random()
        keen = rng.random()
        my_packs = rng.sample(pack_ids, 2)
        eids = []
        for pack in my_packs:
            enrollment_id += 1
            eids.append((enrollment_id, pack))
            enrollments.append((enrollment_id, lid, pack, "active", YEAR_START))
        for week in range(52):
            for day in (0, 2, 4):  # Monday, Wednesday, Friday
                eid, pack = eids[(week + day) % 2]
                sent = YEAR_START + timedelta(days=7 * week + day, hours=8, minutes=rng.randint(0, 600))
                delivery_id += 1
                lesson = f"w{week}d{day}"
                deliveries.append((delivery_id, eid, lid, pack, lesson, 1, "scheduled", sent.date(), sent, sent,
                                   "sent"))
                if rng.random() > 0.55 + 0.4 * keen:
                    continue  # not answered
                at = sent + timedelta(minutes=rng.randint(1, 2000))
                for q in ("q1", "q2")[: 1 + (rng.random() < 0.6)]:
                    answer_id += 1
                    answers.append((answer_id, delivery_id, lid, q, f"Question {q} of {lesson}?", "x",
                                    rng.random() < 0.35 + 0.6 * skill, at))
                if rng.random() < 0.35:
                    feedback_id += 1
                    comment = f"Comment {feedback_id} <!channel>" if rng.random() < 0.08 else None
                    feedback.append((feedback_id, delivery_id, lid, rng.randint(1, 5), comment, at, at if comment
                                     else None, None))
        if rng.random() < 0.4:
            issued = YEAR_START + timedelta(days=rng.randint(30, 363))
            certificates.append((len(certificates) + 1, lid, my_packs[0], "Certificate", 0.9, issued,
                                 issued + timedelta(days=365 if rng.random() < 0.8 else 40), "active"))
    return {"learners": people, "enrollments": enrollments, "deliveries": deliveries, "answers": answers,
            "feedback": feedback, "certificates": certificates, "now": now}


COLUMNS = {
    "learners": "id, slack_user_id, name, role, manager_slack_user_id, team, timezone, active, digest_off, "
                "created_at, updated_at",
    "enrollments": "id, learner_id, pack_id, status, enrolled_at",
    "deliveries": "id, enrollment_id, learner_id, pack_id, lesson_id, pack_version, kind, local_date, due_at, "
                  "sent_at, status",
    "answers": "id, delivery_id, learner_id, question_id, prompt, choice, correct, answered_at",
    "feedback": "id, delivery_id, learner_id, rating, comment, rated_at, commented_at, reason",
    "certificates": "id, learner_id, pack_id, name, score, issued_at, expires_at, status",
}


def rows_for(table: str, data, sqlite: bool):
    rows = data[table]
    if table == "learners":
        rows = [(*r, True, False, YEAR_START, YEAR_START) for r in rows]
    if not sqlite:
        return rows
    out = []
    for row in rows:
        out.append(tuple(sqlite_time(v) if isinstance(v, datetime) else (v.isoformat() if isinstance(v, date)
                                                                            else v) for v in row))
    return out


def load(engine, data) -> None:
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")
        for table, columns in COLUMNS.items():
            rows = rows_for(table, data, sqlite)
            if sqlite:
                marks = ", ".join("?" * len(columns.split(",")))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            else:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        if sqlite:
            # No ANALYZE: Sprout never runs it on SQLite, and the figures should be the ones a real
            # installation sees. (With sqlite_stat1 present, SQLite 3.38+ may build Bloom filters that
            # scan whole tables for a small batch of managers; see db/reporting.py.)
            cursor.execute("COMMIT")
        else:
            raw.commit()
            for table in COLUMNS:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                cursor.execute(f"ANALYZE {table}")
            raw.commit()
    finally:
        raw.close()


def best(runs: int, action):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--managers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    from bot.digest import Digests, with_digests
    from bot.outbox import outbox_renderer
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.reporting import Reporting, Scope
    from db.store import NewMessage, Store
    from learning.digest import chart_key, digest_key, finished_week
    from scheduler.dispatcher import Dispatcher

    with database(args.database_url) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            started = time.perf_counter()
            data = generate(args.learners, args.managers, args.seed)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            load(engine, data)
            loaded = time.perf_counter() - started
            counts = {t: len(data[t]) for t in COLUMNS}
            print(f"{engine.dialect.name}: {counts['learners']:,} people, {counts['deliveries']:,} lessons, "
                  f"{counts['answers']:,} answers, {counts['feedback']:,} ratings, "
                  f"{counts['certificates']:,} certificates (generated in {generated:.1f} s, "
                  f"written in {loaded:.1f} s)")

            store = Store(engine)
            reporting = Reporting(engine)
            catalog, _ = Catalog.from_directory(ROOT / "content_packs")
            digests = Digests(reporting=reporting, catalog=catalog)
            managers = reporting.digest_recipients()
            weeks = {p.id: finished_week(DIGEST_DAY, p.timezone) for p in managers}
            scopes = [(Scope(f"m{p.id}", "manager", p.slack_user_id, weeks[p.id]), "Your direct reports")
                      for p in managers]
            statement = reporting.team_weeks_statement([s for s, _ in scopes])

            def bare():
                with engine.connect() as conn:
                    return conn.execute(statement).all()

            def build_all():
                built = digests.build(scopes)
                return [digests.message(built[s.key]) for s, _ in scopes]

            # The outbox as the planner leaves it on the digest day: every digest and chart queued.
            queued_at = datetime.combine(DIGEST_DAY, datetime.min.time(), UTC)
            store.queue_messages(
                [NewMessage(kind="digest", dedupe_key=digest_key(p.id, weeks[p.id]), channel=p.slack_user_id,
                            learner_id=p.id, payload=weeks[p.id].payload()) for p in managers]
                + [NewMessage(kind="digest_chart", dedupe_key=chart_key(p.id, weeks[p.id]), channel=p.slack_user_id,
                              learner_id=p.id, payload={**weeks[p.id].payload(),
                                                        "digest_key": digest_key(p.id, weeks[p.id])})
                   for p in managers],
                queued_at,
            )
            render = with_digests(outbox_renderer(store=store, catalog=catalog), digests)
            batch_size = inspect.signature(Dispatcher.__init__).parameters["batch_size"].default
            chunk = Dispatcher.RENDER_CHUNK
            claims = iter(range(1, 1_000_000))

            def as_dispatched(kind: str):
                """Claim and draw every message of ``kind`` as ``Dispatcher._send_batch`` does, sending nothing."""
                out, claimed = [], []
                while True:
                    claimed_at = queued_at + timedelta(seconds=next(claims))  # each claim is a new one
                    items = store.claim_outbox(queued_at + timedelta(days=1), worker="benchmark", limit=batch_size,
                                               claimed_at=claimed_at, kinds=[kind])
                    if not items:
                        break
                    claimed.extend(items)
                    started = time.perf_counter()
                    for start in range(0, len(items), chunk):
                        out.extend(render(items[start : start + chunk]))
                    timings.append(time.perf_counter() - started)
                for item in claimed:  # back in the queue for the next run
                    store.release(item)
                return out

            timings: list[float] = []

            def dispatched_digests():
                timings.clear()
                messages = as_dispatched("digest")
                return sum(timings), messages

            bare()  # warm the caches and the template compiler once, for all three
            build_all()
            bare_best, bare_median, rows = best(args.runs, bare)
            all_best, all_median, messages = best(args.runs, build_all)
            drawn = [dispatched_digests() for _ in range(args.runs)]
            batch_times = sorted(t for t, _ in drawn)
            batch_best, batch_median, rendered = batch_times[0], statistics.median(batch_times), drawn[0][1]
            assert len(rows) == len(managers) == len(messages) == len(rendered)
            assert all(isinstance(m.blocks, list) and len(m.blocks) <= 50 for m in messages)
            assert [m.text for m in rendered] == [m.text for m in messages], "the same digests either way"
            busiest = max(rows, key=lambda r: r[4])
            print(f"{len(managers)} managers; busiest team: {busiest[1]} people, {busiest[4]} lessons delivered "
                  f"in the week")
            print(f"bare query (per-manager figures, one statement): {bare_best:.3f} s (median {bare_median:.3f})")
            print(f"all {len(managers)} digests, built and drawn:        {all_best:.3f} s (median {all_median:.3f})"
                  f"  ratio {all_best / bare_best:.2f}")
            print(f"as the dispatcher draws them (claims of {batch_size}, chunks of {chunk}): {batch_best:.3f} s "
                  f"(median {batch_median:.3f})  ratio {batch_best / bare_best:.2f}")

            timings.clear()
            charts = as_dispatched("digest_chart")
            chart_time = sum(timings)
            assert len(charts) == len(managers) and all(c.file.content.startswith(b"\x89PNG") for c in charts)
            sizes = [len(c.file.content) for c in charts]
            print(f"charts, as the dispatcher draws them: {chart_time:.2f} s for {len(charts)} "
                  f"({1000 * chart_time / len(charts):.0f} ms a chart, PNGs of {min(sizes) // 1024}–"
                  f"{max(sizes) // 1024} KB)")
            ok = all_best < 5 and batch_best < 5 and batch_best <= 3 * bare_best
            print("targets (under 5 s, within 3× of the bare query, as the dispatcher draws them):",
                  "met" if ok else "NOT met")
            return 0 if ok else 1
        finally:
            engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
