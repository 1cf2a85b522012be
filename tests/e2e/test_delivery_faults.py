"""Delivery under Slack's limits and faults: every lesson arrives, once; broken learners never stall others."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

import app
from db.models import OutboxMessage
from learning.roster import parse_roster
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

MONDAY_0930 = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
N = 60


def people(n=N):
    return [Person(f"U0L{i:04d}", f"Learner {i}", "UTC") for i in range(n)]


@pytest.fixture
def crowd(database_url):
    clock = SimulatedClock(MONDAY_0930, running=True)  # time flows, so retry delays pass
    settings = dataclasses.replace(app.Settings(), database_url=database_url, rate_per_minute=60_000, burst=200,
                                   reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=people(),
                        build_options={"listener_workers": 4}) as ws:
        csv = "slack_user_id,name,timezone,packs\n" + "".join(
            f"{p.user_id},{p.name},UTC,security-basics\n" for p in people()
        )
        roster = parse_roster(csv, known_packs=ws.sprout.catalog.ids())
        ws.sprout.store.import_roster(roster.rows, datetime(2026, 11, 29, tzinfo=UTC))
        ws.sprout.dispatcher.retry_base = 0.1  # the production backoff (2 s, doubling) makes a slow test
        yield ws


def lesson_copies(ws) -> Counter:
    copies = Counter()
    for person in people():
        for message in ws.emulator.dm_messages(person.user_id):
            if (message.get("metadata") or {}).get("event_type") == "sprout_delivery":
                copies[person.user_id] += 1
    return copies


def test_429s_pause_everyone_and_every_lesson_still_arrives_once(crowd):
    crowd.emulator.set_rate_limit("chat.postMessage", 1200, burst=10)  # Slack says no faster than 20/s
    crowd.sprout.plan()
    result = crowd.sprout.dispatcher.drain(timeout=60)
    assert any(c["http_status"] == 429 for c in crowd.emulator.calls("chat.postMessage"))
    assert result.sent == N and result.failed == 0
    assert set(lesson_copies(crowd).values()) == {1} and len(lesson_copies(crowd)) == N
    assert crowd.sprout.store.outbox_counts() == {"sent": N}


def test_5xx_after_slack_posted_is_checked_in_history_not_sent_twice(crowd):
    # A fifth of the posts take effect and then answer 500: only the history can tell.
    crowd.emulator.set_failure_rate(0.2, status=500, methods=["chat.postMessage"], seed=3, after_processing=True)
    crowd.sprout.plan()
    crowd.sprout.dispatcher.drain(timeout=60)
    copies = lesson_copies(crowd)
    assert len(copies) == N and set(copies.values()) == {1}, "every learner exactly one copy"
    assert crowd.sprout.store.outbox_counts() == {"sent": N}
    assert len(crowd.emulator.calls("conversations.history")) > 0


def test_5xx_before_slack_posted_is_sent_again(crowd):
    crowd.emulator.set_failure_rate(0.25, status=503, methods=["chat.postMessage"], seed=5)
    crowd.sprout.plan()
    crowd.sprout.dispatcher.drain(timeout=60)
    copies = lesson_copies(crowd)
    assert len(copies) == N and set(copies.values()) == {1}


def test_permanent_errors_fail_once_with_a_reason_and_never_stall_the_others(crowd):
    broken = {"U0L0003": "account_inactive", "U0L0017": "user_not_found", "U0L0042": "channel_not_found"}
    for user, error in broken.items():
        crowd.emulator.set_user_error(user, error)
    crowd.sprout.plan()
    result = crowd.sprout.dispatcher.drain(timeout=30)
    assert (result.sent, result.failed) == (N - 3, 3)
    counts = crowd.sprout.store.outbox_counts()
    assert counts == {"sent": N - 3, "failed": 3}
    posts = Counter(c["params"].get("channel") for c in crowd.emulator.calls("chat.postMessage"))
    for user in broken:
        assert posts[user] == 1, "a permanent error is not retried"
    from sqlalchemy import select

    from db.models import Delivery, Learner

    with crowd.sprout.engine.connect() as conn:
        failed = dict(conn.execute(select(Learner.slack_user_id, Delivery.error).join(Learner)
                                   .where(Delivery.status == "failed")).all())
    assert failed == broken


def workspace(database_url, n, *, clock=None, **settings):
    clock = clock or SimulatedClock(MONDAY_0930, running=True)
    settings = dataclasses.replace(app.Settings(), database_url=database_url, rate_per_minute=60_000, burst=200,
                                   **settings)
    ws = LocalWorkspace(build=app.build, settings=settings, clock=clock, people=people(n),
                        build_options={"listener_workers": 4}).start()
    csv = "slack_user_id,name,timezone,packs\n" + "".join(f"{p.user_id},{p.name},UTC,security-basics\n"
                                                          for p in people(n))
    ws.sprout.store.import_roster(parse_roster(csv, known_packs=ws.sprout.catalog.ids()).rows,
                                  datetime(2026, 11, 29, tzinfo=UTC))
    ws.sprout.dispatcher.retry_base = 0.1
    return ws


def test_stale_sends_are_recovered_within_slacks_tier_3_limit_for_history(database_url):
    """A dead process left 200 lessons "sending", 32 of them handed to Slack (15 arrived): each learner ends
    with one copy, none fails, and the look-ups keep to Tier 3 (50 a minute) instead of drawing 429s."""
    n, handed, arrived = 200, 32, 15
    ws = workspace(database_url, n, reminder_after_hours=0)
    try:
        store, emulator = ws.sprout.store, ws.emulator
        # Slack's Tier 3 for every call a look-up makes; a burst of 25 (Slack promises "sporadic bursts").
        emulator.set_rate_tiers(["conversations.open", "conversations.history", "conversations.replies"], burst=25)
        ws.sprout.plan()
        claimed = store.claim_outbox(ws.clock(), worker="dead-worker", limit=1000,
                                     claimed_at=datetime.now(UTC) - timedelta(hours=1))
        assert len(claimed) == n
        # As the dead dispatcher did: the lease on the wall clock, the hand-over on the clock Slack's ts follow.
        handed_at = datetime.now(UTC) - timedelta(hours=1)
        store.mark_handed([item.id for item in claimed[:handed]], at=handed_at, began=min(handed_at, ws.clock()))
        dead = WebClient(base_url=emulator.api_url, token=emulator.bot_token)
        for item in claimed[:arrived]:  # these calls landed before the process died
            dead.chat_postMessage(channel=item.channel, text="lesson", metadata={
                "event_type": "sprout_delivery", "event_payload": {"outbox_id": item.id, "kind": item.kind}})

        started = time.monotonic()
        result = ws.sprout.dispatcher.drain(timeout=120)
        took = time.monotonic() - started

        copies = lesson_copies_of(ws, n)
        assert len(copies) == n and set(copies.values()) == {1}, "every learner exactly one copy"
        assert store.outbox_counts() == {"sent": n}, "none failed"
        with ws.sprout.engine.connect() as conn:
            assert conn.execute(select(func.max(OutboxMessage.attempts))).scalar() == 1, "no wait counted"
        history = emulator.calls("conversations.history")
        assert len(history) == handed, "only what had been handed to Slack is looked up"
        assert sum(c["http_status"] == 429 for c in history) <= 2, "the look-ups keep to Slack's pace"
        assert result.looked_up == handed and result.sent == n
        assert took >= (handed - 25) * 60 / 50 * 0.8, f"{took:.1f} s: faster than Tier 3 allows"
    finally:
        ws.stop()


def test_a_429_on_a_look_up_waits_out_retry_after_and_is_not_counted(database_url):
    ws = workspace(database_url, 1)
    try:
        ws.emulator.fail_next(1, status=500, method="chat.postMessage", after_processing=True)
        ws.emulator.fail_next(2, status=429, method="conversations.history")  # Retry-After: 1, twice
        ws.sprout.plan()
        started = time.monotonic()
        result = ws.sprout.dispatcher.drain(timeout=30)
        took = time.monotonic() - started
        assert result.rate_limited == 2 and result.failed == 0
        assert took >= 2.0, "Retry-After was waited out, twice"
        assert [c["http_status"] for c in ws.emulator.calls("conversations.history")] == [429, 429, 200]
        assert len(ws.emulator.calls("chat.postMessage")) == 1 and lesson_copies_of(ws, 1) == {"U0L0000": 1}
        with ws.sprout.engine.connect() as conn:
            # One for the 500, one for the message found in Slack; none for the 429s.
            assert conn.execute(select(OutboxMessage.attempts)).scalar() == 2
    finally:
        ws.stop()


def test_a_reminder_after_an_ambiguous_500_is_found_in_its_thread_not_sent_twice(database_url):
    clock = SimulatedClock(MONDAY_0930)
    ws = workspace(database_url, 1, clock=clock)
    try:
        assert ws.sprout.tick().sent == 1
        clock.set(MONDAY_0930 + timedelta(hours=4, minutes=1))  # the lesson was not opened: a reminder is due
        ws.emulator.fail_next(1, status=500, method="chat.postMessage", after_processing=True)
        first = ws.sprout.tick()
        assert first.reminders == 1 and first.retried == 1
        for _ in range(3):
            clock.set(clock() + timedelta(minutes=10))
            ws.sprout.tick()
        messages = ws.emulator.dm_messages("U0L0000")
        lesson = next(m for m in messages if m["thread_ts"] is None)
        replies = [m for m in messages if m["thread_ts"] == lesson["ts"]]
        assert len(replies) == 1, f"{len(replies)} reminders in the lesson's thread"
        lookups = ws.emulator.calls("conversations.replies")
        assert lookups and all(c["params"]["ts"] == lesson["ts"] for c in lookups), "looked for in the thread"
        assert ws.sprout.store.outbox_counts() == {"sent": 2}
    finally:
        ws.stop()


def lesson_copies_of(ws, n) -> Counter:
    copies = Counter()
    for person in people(n):
        for message in ws.emulator.dm_messages(person.user_id):
            if (message.get("metadata") or {}).get("event_type") == "sprout_delivery" and not message["thread_ts"]:
                copies[person.user_id] += 1
    return copies
