"""Digests as the dispatcher draws them: a claim of many digests, rendered 25 at a time, is prepared with
one set of queries, and every digest is the one it would be on its own (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.digest import Digests, with_digests
from bot.outbox import outbox_renderer
from content_packs.catalog import Catalog
from db.reporting import Reporting
from db.store import NewMessage
from learning.digest import chart_key, digest_key, finished_week
from scheduler.dispatcher import Dispatcher
from tests.db.test_reporting import Records

MONDAY = date(2026, 11, 30)
WEEK_START = datetime(2026, 11, 23, 9, tzinfo=UTC)
CLAIMED_AT = datetime(2026, 11, 30, 8, 0, 1, tzinfo=UTC)
MANAGERS = 60  # more than two chunks' worth, and more than reporting's "few managers" path


@pytest.fixture
def claim(engine, store):
    """60 managers with two reports each, their digests and charts queued as the planner queues them."""
    records = Records(engine)
    week = finished_week(MONDAY, "UTC")
    messages = []
    for m in range(MANAGERS):
        manager = records.learner(f"UMGR{m:03d}", name=f"Manager {m}", role="manager")
        for r in range(2):
            lid = records.learner(f"UREP{m:03d}{r}", name=f"Report {m}.{r}", manager=f"UMGR{m:03d}")
            records.enroll(lid, at=WEEK_START - timedelta(days=30))
            for day in range(m % 4):
                at = WEEK_START + timedelta(days=day)
                records.lesson(lid, sent_at=at, answers=[("q1", (m + day + r) % 3 != 0, at)], rating=1 + (m % 5))
        messages.append(NewMessage(kind="digest", dedupe_key=digest_key(manager, week), channel=f"UMGR{m:03d}",
                                   learner_id=manager, payload=week.payload()))
        messages.append(NewMessage(kind="digest_chart", dedupe_key=chart_key(manager, week), channel=f"UMGR{m:03d}",
                                   learner_id=manager, payload={**week.payload(), "digest_key": digest_key(manager, week)}))
    store.queue_messages(messages, CLAIMED_AT)
    return records


def count_statements(engine):
    """The SQL statements run on ``engine`` from now on (transaction control left out)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def render_in_chunks(render, items) -> list[list]:
    chunk = Dispatcher.RENDER_CHUNK
    return [render(items[start : start + chunk]) for start in range(0, len(items), chunk)]


def test_a_claimed_batch_is_prepared_with_one_set_of_queries(engine, store, claim):
    digests = Digests(reporting=Reporting(engine), catalog=Catalog({}))
    render = with_digests(outbox_renderer(store=store, catalog=Catalog({})), digests)
    items = store.claim_outbox(CLAIMED_AT, worker="w1", limit=500, claimed_at=CLAIMED_AT, kinds=["digest"])
    assert len(items) == MANAGERS
    statements = count_statements(engine)

    chunks, after_each = [], []
    for start in range(0, len(items), Dispatcher.RENDER_CHUNK):
        chunks.append(render(items[start : start + Dispatcher.RENDER_CHUNK]))
        after_each.append(len(statements))

    assert len(chunks) == 3
    assert after_each[0] <= 8, f"one set of queries for the whole claim, not {after_each[0]}"
    assert after_each == [after_each[0]] * 3, "the second and third chunks take what the first prepared"
    # Each digest is the one drawn for that manager alone, without the claim.
    alone = [digests.render([item.__class__(**{**item.__dict__, "claimed_by": None})])[0] for item in items]
    assert [m.text for chunk in chunks for m in chunk] == [m.text for m in alone]
    assert [m.blocks for chunk in chunks for m in chunk] == [m.blocks for m in alone]
    assert len({m.text for m in alone}) > 3, "the managers' weeks differ"


def test_the_next_claim_is_prepared_afresh(engine, store, claim):
    digests = Digests(reporting=Reporting(engine), catalog=Catalog({}))
    items = store.claim_outbox(CLAIMED_AT, worker="w1", limit=500, claimed_at=CLAIMED_AT, kinds=["digest"])
    before = render_in_chunks(digests.render, items[:25])[0]
    for item in items:
        store.release(item)
    # A new answer, then the next claim (another moment): its digests count it.
    report = next(lid for lid, v in claim.learners.items() if v["slack_user_id"] == "UREP0000")
    claim.lesson(report, sent_at=WEEK_START + timedelta(days=5), answers=[("q1", True, WEEK_START + timedelta(days=5))])
    again = store.claim_outbox(CLAIMED_AT, worker="w1", limit=500, claimed_at=CLAIMED_AT + timedelta(seconds=30),
                               kinds=["digest"])
    after = render_in_chunks(digests.render, again[:25])[0]
    assert after[0].text != before[0].text and after[1:] == before[1:]


def test_charts_of_a_claim_read_their_figures_at_once_and_draw_with_their_chunk(engine, store, claim):
    digests = Digests(reporting=Reporting(engine), catalog=Catalog({}))
    items = store.claim_outbox(CLAIMED_AT, worker="w1", limit=500, claimed_at=CLAIMED_AT, kinds=["digest_chart"])
    statements = count_statements(engine)
    chunks = render_in_chunks(digests.render, items)
    series = [s for s in statements if "weeks" in s and "answers" in s]
    assert len(series) == 1, "one query for every chart's eight weeks"
    charts = [m for chunk in chunks for m in chunk]
    assert all(m.file.content.startswith(b"\x89PNG") for m in charts) and len(charts) == MANAGERS
    alone = [digests.render([item.__class__(**{**item.__dict__, "claimed_by": None})])[0] for item in items]
    assert [m.file.alt_text for m in charts] == [m.file.alt_text for m in alone]
    assert [m.file.content for m in charts] == [m.file.content for m in alone]
