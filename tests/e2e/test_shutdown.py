"""Closing Sprout lets the listeners at work finish before the database goes away."""

from __future__ import annotations

import dataclasses
import threading

import app
from db.engine import make_engine
from db.store import Store
from sandbox.workspace import LocalWorkspace
from tests.e2e.conftest import BERLIN, NEW_YORK


def listener_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sprout-listener") and t.is_alive()]


def test_closing_waits_for_the_listeners_at_work(database_url, clock):
    settings = dataclasses.replace(app.Settings(), database_url=database_url)
    workspace = LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[BERLIN, NEW_YORK],
                               build_options={"listener_workers": 4}).start()
    try:
        # Acknowledged at once; the enrolling (and each Home tab's republishing) goes on after the answer.
        for person in (BERLIN, NEW_YORK):
            workspace.driver.command(person.user_id, "/learn", "enroll security-basics")
            workspace.driver.command(person.user_id, "/learn", "time 08:15")
    finally:
        workspace.stop()
    assert listener_threads() == []
    engine = make_engine(database_url)
    try:
        store = Store(engine)
        for person in (BERLIN, NEW_YORK):
            learner = store.learner(person.user_id)
            assert learner is not None and learner.delivery_time == "08:15"
            assert [e.pack_id for e in store.enrollments(learner.id)] == ["security-basics"]
    finally:
        engine.dispose()
