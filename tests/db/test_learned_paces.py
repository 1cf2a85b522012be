"""The rate Slack was found to accept is kept, so a restart or another instance starts from it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import app
from db.pacing import LearnedPaces
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_a_learned_rate_is_kept_per_method_and_replaced_when_it_moves(engine):
    paces = LearnedPaces(engine)
    assert paces.per_minute("chat.postMessage") is None
    paces.keep("chat.postMessage", 2100.0, now=NOW)
    paces.keep("conversations.history", 50.0, now=NOW)
    paces.keep("chat.postMessage", 1785.0, now=NOW)
    assert paces.per_minute("chat.postMessage") == 1785.0
    assert LearnedPaces(engine).per_minute("conversations.history") == 50.0


def start(database_url):
    settings = dataclasses.replace(app.Settings(), database_url=database_url, rate_per_minute=None,
                                   reminder_after_hours=0)
    return LocalWorkspace(build=app.build, settings=settings, clock=SimulatedClock(NOW), people=[],
                          build_options={"listener_workers": 2})


def test_a_restart_paces_from_the_rate_learned_before(database_url):
    with start(database_url) as ws:
        bucket = ws.sprout.dispatcher.bucket
        assert bucket.learned_per_minute() == 600  # nothing learned yet: the cautious start
        bucket.pace.rate = 35.0  # what Slack accepted during a fan-out
        bucket.accepted()
        learned = bucket.learned_per_minute()
        ws.sprout.dispatcher._beat()  # the heartbeat keeps it
    with start(database_url) as ws:
        assert ws.sprout.dispatcher.bucket.learned_per_minute() == learned
