"""Delivery under Slack's limits and faults: every lesson arrives, once; broken learners never stall others."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime

import pytest

import app
from learning.clock import SimulatedClock
from learning.roster import parse_roster
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
