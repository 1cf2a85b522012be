"""Exports read the real records (SQLite and PostgreSQL), stream them, and make valid statements."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from db.exports import CSV_KINDS, Window, csv_header, csv_rows, records, reflections_since, xapi_records
from db.models import Answer, Reflection
from learning.csv_safe import write_csv
from learning.xapi import StatementBuilder, XapiSettings, export_statements
from tests.fixtures_lrs.records import PACKS, SEEDED_KINDS, T0, add_learner, deliver, seed
from tests.fixtures_lrs.validator import problems

ROOT = Path(__file__).resolve().parents[2]
BUILDER = StatementBuilder(XapiSettings(homepage="https://acme.slack.com"), PACKS.get)


def export_csv(engine, what: str, window: Window | None = None) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    write_csv(out, csv_header(what), csv_rows(engine, what, window or Window()))
    text = out.getvalue()
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def test_answers_export_one_readable_row_per_answer(store, engine):
    seed(store)
    rows = export_csv(engine, "answers")
    assert [r["question_id"] for r in rows] == ["q1", "q2", "q1", "q2"]
    first = rows[0]
    assert {k: first[k] for k in ("slack_user_id", "learner_name", "pack_id", "lesson_id", "prompt", "response",
                                  "correct", "answered_at", "delivered_at", "pack_version")} == {
        "slack_user_id": "U0DANA", "learner_name": "Dana Šimić", "pack_id": "security-basics",
        "lesson_id": "spot-phishing", "prompt": "What do you do?", "response": "Report it", "correct": "true",
        "answered_at": "2026-03-02T09:33:00Z", "delivered_at": "2026-03-02T09:30:00Z", "pack_version": "3",
    }
    assert rows[1]["response"] == "Urgency; A look-alike domain"
    assert rows[2]["correct"] == "false"


def test_every_kind_exports_its_records_and_no_cell_can_run_as_a_formula(store, engine):
    seed(store)
    counts = {what: len(export_csv(engine, what)) for what in CSV_KINDS}
    assert counts == {"answers": 4, "deliveries": 3, "feedback": 1, "certificates": 1, "reviews": 1, "link_opens": 1}
    feedback = export_csv(engine, "feedback")[0]
    assert feedback["comment"] == "'=HYPERLINK(\"https://evil.example\")"
    assert feedback["rating"] == "4"
    deliveries = {r["slack_user_id"]: r for r in export_csv(engine, "deliveries")}
    assert deliveries["U0BO"]["learner_name"] == "'=Bo (formula in a name)"
    assert deliveries["U0BO"]["questions_answered"] == "0"
    dana_first = export_csv(engine, "deliveries")[0]
    assert (dana_first["questions_answered"], dana_first["questions_correct"], dana_first["links_opened"]) == (
        "2", "2", "1")
    review = export_csv(engine, "reviews")[0]
    assert (review["session_kind"], review["fsrs_rating"], review["interval_days"]) == ("review", "3", "4.5")
    certificate = export_csv(engine, "certificates")[0]
    assert (certificate["score"], certificate["expires_at"]) == ("0.75", "2027-03-03T09:30:00Z")
    link = export_csv(engine, "link_opens")[0]
    assert link["url"] == "https://www.cisa.gov/phishing"


def test_the_window_is_since_inclusive_until_exclusive(store, engine):
    seed(store)
    day_two = T0 + timedelta(days=1)
    assert len(export_csv(engine, "answers", Window(since=day_two))) == 2
    assert len(export_csv(engine, "answers", Window(until=day_two))) == 2
    assert len(export_csv(engine, "answers", Window(since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=4)))) == 1


def test_every_record_becomes_a_valid_statement_once(store, engine):
    seed(store)
    statements = list(export_statements(xapi_records(engine, Window()), BUILDER))
    for statement in statements:
        assert problems(statement, now=T0 + timedelta(days=30)) == [], statement
    kinds = Counter(s["verb"]["display"]["en"] for s in statements)
    assert kinds == {"experienced": SEEDED_KINDS["lesson"] + SEEDED_KINDS["link_open"],
                     "answered": SEEDED_KINDS["answer"] + SEEDED_KINDS["review"], "rated": 1, "commented": 1,
                     "completed": 1, "passed": 1}
    assert len({s["id"] for s in statements}) == len(statements)
    again = list(export_statements(xapi_records(engine, Window()), BUILDER))
    assert again == statements  # same records, same statements, same ids: an LRS stores them once
    lesson = next(s for s in statements if s["verb"]["display"]["en"] == "experienced"
                  and s["object"]["id"].endswith("/spot-phishing"))
    assert lesson["timestamp"] == "2026-03-02T09:32:00.000Z"  # the link was opened before the first answer


def test_reflections_are_exported_as_responded_statements(store, engine):
    seeded = seed(store)
    first, second = seeded.deliveries
    assert store.record_reflection(delivery_id=first, learner_id=seeded.dana, prompt="What will you change?",
                                   text="Hover before I click.", now=T0 + timedelta(minutes=8))
    assert store.record_reflection(delivery_id=second, learner_id=seeded.dana, prompt="Which phrase?",
                                   text="A first draft", now=T0 + timedelta(days=1, minutes=5))
    assert store.record_reflection(delivery_id=second, learner_id=seeded.dana, prompt="Which phrase?",
                                   text="Four random words", now=T0 + timedelta(days=2))  # edited later
    statements = list(export_statements(xapi_records(engine, Window()), BUILDER))
    for statement in statements:
        assert problems(statement, now=T0 + timedelta(days=30)) == [], statement
    responded = [s for s in statements if s["verb"]["display"]["en"] == "responded"]
    assert [(s["object"]["id"].rsplit("/", 3)[-2], s["result"]["response"], s["timestamp"]) for s in responded] == [
        ("spot-phishing", "Hover before I click.", "2026-03-02T09:38:00.000Z"),
        ("passphrases", "Four random words", "2026-03-04T09:30:00.000Z"),
    ], "each reflection once, as last written"
    assert all(s["actor"]["account"]["name"] == "U0DANA" for s in responded)
    later = list(export_statements(xapi_records(engine, Window(since=T0 + timedelta(days=1, hours=12))), BUILDER))
    assert [s["result"]["response"] for s in later if s["verb"]["display"]["en"] == "responded"] == [
        "Four random words"]
    # The LRS forwarder can load one by its id, and find the ones written since a moment.
    with engine.connect() as conn:
        reflection_id = conn.execute(select(Reflection.id).where(Reflection.delivery_id == first)).scalar_one()
    record = records(engine, [("reflection", reflection_id)])[("reflection", reflection_id)]
    assert record.text == "Hover before I click." and record.kind == "reflection"
    assert BUILDER.build("reflection", record)["id"] == responded[0]["id"]
    since = [r.text for r, _ in reflections_since(engine, T0 + timedelta(days=1))]
    assert since == ["Four random words"]


def test_the_xapi_window_keeps_what_happened_in_it(store, engine):
    seed(store)
    since = T0 + timedelta(days=1)
    statements = list(export_statements(xapi_records(engine, Window(since=since)), BUILDER))
    assert sorted(s["verb"]["display"]["en"] for s in statements) == [
        "answered", "answered", "answered", "completed", "experienced", "passed"]
    assert all(s["timestamp"] >= "2026-03-03T09:30:00.000Z" for s in statements)


STREAM_SCRIPT = textwrap.dedent("""
    import os, resource, sys
    from db.engine import make_engine
    from db.exports import Window, csv_header, csv_rows, xapi_records
    from learning.csv_safe import write_csv
    from learning.xapi import StatementBuilder, XapiSettings, export_statements, write_json_array

    engine = make_engine(sys.argv[1])
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    builder = StatementBuilder(XapiSettings(homepage="https://acme.slack.com"), {}.get)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.devnull, "w", newline="", encoding="utf-8") as out:
        rows = write_csv(out, csv_header("answers"), csv_rows(engine, "answers", Window()))
    after_csv = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.devnull, "w", encoding="utf-8") as out:
        statements = write_json_array(out, export_statements(xapi_records(engine, Window()), builder))
    after_xapi = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(rows, statements, (after_csv - before) // 1024, (after_xapi - before) // 1024)
""")


def test_exports_stream_instead_of_holding_every_row(store, engine, database_url):
    """20,000 answers with 3 KB prompts (60 MB of text) export in a process that grows by far less."""
    learner = add_learner(store, "U0BIG", "Big Learner", T0)
    enrollment, _ = store.enroll(learner, "security-basics", T0)
    delivery = deliver(store, learner, enrollment.id, "spot-phishing", T0)
    prompt = "x" * 3000
    with engine.begin() as conn:
        for start in range(0, 20_000, 5000):
            conn.execute(insert(Answer), [
                {"delivery_id": delivery, "learner_id": learner, "question_id": f"q{i}", "prompt": prompt,
                 "choice": "Report it", "correct": i % 2 == 0, "answered_at": T0 + timedelta(seconds=i)}
                for i in range(start, start + 5000)
            ])
    out = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, database_url], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows, statements, csv_growth_mb, xapi_growth_mb = map(int, out.stdout.split())
    assert rows == 20_000 and statements == 20_001  # every answer, and the lesson they were given in
    assert csv_growth_mb < 15, f"the CSV export grew the process by {csv_growth_mb} MB"
    assert xapi_growth_mb < 15, f"the xAPI export grew the process by {xapi_growth_mb} MB"
