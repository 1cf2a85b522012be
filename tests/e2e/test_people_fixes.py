"""Issue 18's two bugs, through signed requests on the emulator: an admin named only in ADMIN_USER_IDS sees
the organisation on their Home tab, and a track's later pack cannot be entered directly by a learner."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import app
from db.models import Enrollment, Learner
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

ADA = Person("U0ADA", "Ada Admin", "Europe/London")
LEO = Person("U0LEO", "Leo Learner", "Europe/Berlin")


@pytest.fixture
def world(database_url):
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url,
                                   admin_user_ids=frozenset({ADA.user_id}), reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[ADA, LEO],
                        build_options={"listener_workers": 8}) as ws:
        yield ws


def command(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]["text"]


def home_blocks(ws, person):
    ws.driver.app_home_opened(person.user_id)
    view = ws.emulator.wait_for(lambda: ws.emulator.home_view(person.user_id))
    return {block.get("block_id") for block in view["blocks"]}


def enrolled(ws, person):
    with ws.sprout.engine.connect() as conn:
        return set(conn.execute(select(Enrollment.pack_id).join(Learner, Learner.id == Enrollment.learner_id)
                                .where(Learner.slack_user_id == person.user_id)).scalars())


def test_an_admin_named_only_in_admin_user_ids_sees_the_organisation_on_home(world):
    assert "home-admin" not in home_blocks(world, LEO)
    assert "home-admin" in home_blocks(world, ADA)
    assert world.sprout.store.learner(ADA.user_id).role == "learner"  # stored role: never made admin in Sprout


def test_a_learner_cannot_enroll_in_a_tracks_later_pack_directly(world):
    refusal = command(world, LEO, "enroll data-privacy-basics")
    assert "can't start *Data Privacy Basics* yet" in refusal
    assert "comes after *Security Basics*" in refusal and "`/learn enroll security-basics`" in refusal
    assert "earning its certificate" in refusal
    assert enrolled(world, LEO) == set()
    assert "Security Basics" in command(world, LEO, "enroll security-basics")
    assert "can't start" in command(world, LEO, "enroll data-privacy-basics")  # enrolled, not yet certified
    assert enrolled(world, LEO) == {"security-basics"}


def test_an_admin_may_enroll_a_learner_past_the_gate_and_only_an_admin(world):
    assert "Only admins can enroll someone else" in command(world, LEO, f"enroll data-privacy-basics <@{ADA.user_id}>")
    assert enrolled(world, ADA) == set()
    reply = command(world, ADA, f"enroll data-privacy-basics <@{LEO.user_id}|leo>")
    assert reply.startswith(f"For <@{LEO.user_id}>:") and "Data Privacy Basics" in reply
    assert enrolled(world, LEO) == {"data-privacy-basics"}


def test_an_admins_home_shows_what_the_review_retention_costs_and_keeps(world):
    """Issue 17's retention dial: REVIEW_RETENTION (0.9 by default) and one step either side, each with the
    simulator's review questions a week and day-90 recall; a learner does not see it."""
    assert "home-dial" not in home_blocks(world, LEO)
    assert "home-dial" in home_blocks(world, ADA)
    view = world.emulator.home_view(ADA.user_id)
    text = next(b["text"]["text"] for b in view["blocks"] if b.get("block_id") == "home-dial")
    assert text.startswith("*🎚 Review retention: 0.90*")
    lines = [line for line in text.splitlines() if line.startswith("• at ")]
    assert [line.split(":")[0] for line in lines] == ["• at 0.85", "• at 0.90 (configured)", "• at 0.95"]
    weekly = [int(line.split("about ")[1].split()[0]) for line in lines]
    recall = [int(line.split(", ")[1].split("%")[0]) for line in lines]
    # A higher retention asks more of a learner's week and keeps more: the dial's trade-off, not a constant.
    assert weekly == sorted(weekly) and weekly[0] < weekly[-1]
    assert recall == sorted(recall) and recall[0] < recall[-1]
    assert "FSRS-6's defaults" in text
