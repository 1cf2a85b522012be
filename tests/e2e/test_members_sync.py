"""The roster keeps itself current: team_join adds a new member, user_change updates one, and a deactivated
member stops receiving anything at once while their records stay; signed events through the emulator."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

import app
from db.models import Enrollment, Learner, OutboxMessage
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person
from scheduler.runner import ROSTER_SYNC_JOB_ID, add_roster_sync_job

ADA = Person("U0ADA", "Ada Admin", "Europe/London")
LEO = Person("U0LEO", "Leo Learner", "Europe/Berlin", "leo@example.com")
MONDAY_0830 = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


@pytest.fixture
def world(database_url):
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url,
                                   admin_user_ids=frozenset({ADA.user_id}), reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[ADA, LEO],
                        build_options={"listener_workers": 8}) as ws:
        ws.clock = clock
        yield ws


def rows(ws, *columns, where=()):
    with ws.sprout.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*columns).where(*where))]


def test_a_new_member_joins_the_roster_once_however_often_slack_sends_the_event(world):
    world.emulator.add_user("U0NEW", name="Nia New", email="nia@example.com", tz="Asia/Tokyo")
    first = world.driver.team_join("U0NEW")
    assert first.status == 200
    world.emulator.add_user("U0NEW", name="Nia New", email="nia@example.com", tz="Europe/Paris")
    world.driver.event({"type": "team_join", "user": world.emulator.user_info("U0NEW")},
                       event_id=first.payload["event_id"], retry_num=1)  # Slack's retry: not applied again
    assert rows(world, Learner.slack_user_id, Learner.email, Learner.slack_timezone, Learner.active,
                where=[Learner.slack_user_id == "U0NEW"]) == [("U0NEW", "nia@example.com", "Asia/Tokyo", True)]


def test_a_bot_joining_is_not_a_learner(world):
    world.emulator.add_user("U0BOTY", name="a bot", is_bot=True)
    assert world.driver.team_join("U0BOTY").status == 200
    assert world.sprout.store.learner("U0BOTY") is None


def test_a_deactivated_member_stops_receiving_at_once_and_their_records_stay(world):
    assert "Security Basics" in _command(world, LEO, "enroll security-basics")
    world.sprout.plan(MONDAY_0830)  # Leo's Monday lesson is queued, not yet sent
    queued = rows(world, OutboxMessage.status, where=[OutboxMessage.status == "pending"])
    assert queued, "a lesson waits in the outbox"

    world.emulator.deactivate_user(LEO.user_id)
    assert world.driver.user_change(LEO.user_id).status == 200
    leo = world.sprout.store.learner(LEO.user_id)
    assert leo is not None and leo.active is False
    assert rows(world, OutboxMessage.status, OutboxMessage.last_error) == [("cancelled", "left the workspace")]
    before = len(world.emulator.dm_messages(LEO.user_id))
    result = world.sprout.tick(datetime(2026, 12, 2, 8, 30, tzinfo=UTC))  # days later: nothing for Leo
    assert result.sent == 0 and len(world.emulator.dm_messages(LEO.user_id)) == before
    assert rows(world, Enrollment.pack_id) == [("security-basics",)], "records stay"


def test_a_profile_change_updates_the_member(world):
    _command(world, LEO, "packs")  # Leo is known once he has talked to Sprout
    world.emulator.add_user(LEO.user_id, name="Leo Learner", email="leo@new.example.com", tz="America/Chicago")
    world.driver.user_change(LEO.user_id)
    leo = world.sprout.store.learner(LEO.user_id)
    assert (leo.email, leo.slack_timezone, leo.active) == ("leo@new.example.com", "America/Chicago", True)


def test_roster_sync_is_a_daily_job_unless_turned_off():
    scheduler = BackgroundScheduler(timezone=UTC)
    assert add_roster_sync_job(scheduler, sync=lambda: None, every_hours=24, suffix="-T1")
    job = scheduler.get_job(ROSTER_SYNC_JOB_ID + "-T1")
    assert job is not None and job.trigger.interval.total_seconds() == 24 * 3600
    assert not add_roster_sync_job(scheduler, sync=lambda: None, every_hours=0, suffix="-T2")
    assert scheduler.get_job(ROSTER_SYNC_JOB_ID + "-T2") is None
    assert app.Settings.from_env({}).roster_sync_hours == 24
    assert app.Settings.from_env({"ROSTER_SYNC_HOURS": "0"}).roster_sync_hours == 0


def _command(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]["text"]
