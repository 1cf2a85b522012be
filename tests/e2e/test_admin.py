"""Admins: roles checked on the server, the roster from Slack, pack reloads, privacy export and forgetting,
and a pack edited in the middle of a course."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import app
from content_packs.loader import BUNDLED_DIR
from db.models import Answer, AuditEntry, Delivery, Feedback, Learner
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

ADA = Person("U0ADA", "Ada Admin", "Europe/London")
LEO = Person("U0LEO", "Leo Learner", "Europe/Berlin")
MONDAY_0830 = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", packs / "security-basics")
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url, content_packs_dir=packs,
                                   admin_user_ids=frozenset({ADA.user_id}), reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[ADA, LEO],
                        build_options={"listener_workers": 8}) as ws:
        ws.clock, ws.packs = clock, packs
        yield ws


def command(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]["text"]


def scalar(ws, query):
    with ws.sprout.engine.connect() as conn:
        return conn.execute(query).scalar()


def test_only_admins_change_roles_and_it_is_logged(world):
    refused = command(world, LEO, f"role <@{LEO.user_id}|leo> admin")
    assert "Only admins can change roles" in refused
    assert world.sprout.store.learner(LEO.user_id).role == "learner"
    assert "is now a facilitator" in command(world, ADA, f"role <@{LEO.user_id}|leo> facilitator")
    assert world.sprout.store.learner(LEO.user_id).role == "facilitator"
    assert "Usage" in command(world, ADA, "role someone wizard")
    assert scalar(world, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "role")) == 1


def test_roster_sync_pages_through_members_skips_bots_and_marks_leavers_inactive(world):
    for i in range(230):
        world.emulator.add_user(f"U0M{i:04d}", name=f"Member {i}", tz="Asia/Kolkata")
    world.emulator.add_user("U0BOTX", name="other bot", is_bot=True)
    world.emulator.add_user("U0GONE", name="Gone Person", deleted=True)
    added, updated, inactive = world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    assert (added, inactive) == (232, 0)  # 230 members + Ada + Leo; no bots, no deactivated
    assert len([c for c in world.emulator.calls("users.list")]) >= 2, "more than one page"
    assert world.sprout.store.learner("U0BOTX") is None and world.sprout.store.learner("U0GONE") is None
    assert world.sprout.store.learner("U0M0007").slack_timezone == "Asia/Kolkata"
    world.emulator.deactivate_user("U0M0007")
    _, _, inactive = world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    assert inactive == 1 and world.sprout.store.learner("U0M0007").active is False


def test_a_bad_pack_edit_keeps_the_previous_version_serving(world):
    pack_file = world.packs / "security-basics" / "pack.yaml"
    original = pack_file.read_text()
    assert "Only admins" in command(world, LEO, "admin reload")
    pack_file.write_text(original.replace("title: Security Basics", "title: Security Basics, Refreshed", 1))
    assert "Reloaded: 1 packs serving." in command(world, ADA, "admin reload")
    assert world.sprout.catalog.get("security-basics").title == "Security Basics, Refreshed"
    pack_file.write_text(original.replace("answer:", "answr:", 1))
    reply = command(world, ADA, "admin reload")
    assert "previous version" in reply and "answr" in reply
    assert world.sprout.catalog.get("security-basics").title == "Security Basics, Refreshed"


def test_privacy_export_and_forget(world, capsys):
    command(world, LEO, "enroll security-basics")
    world.clock.set(MONDAY_0830)
    world.sprout.tick()
    lesson = world.emulator.dm_messages(LEO.user_id)[0]
    world.driver.click(LEO.user_id, lesson, action_id="answer:0")
    world.emulator.wait_for(lambda: scalar(world, select(func.count()).select_from(Answer)) == 1)
    world.sprout.store.record_comment(delivery_id=scalar(world, select(Delivery.id)),
                                      learner_id=world.sprout.store.learner(LEO.user_id).id,
                                      comment="my private opinion", now=world.clock())

    assert "on its way" in command(world, LEO, "privacy")
    files = world.emulator.wait_for(lambda: world.emulator.uploaded_files())
    data = json.loads(files[-1]["content"])
    assert data["learner"][0]["slack_user_id"] == LEO.user_id and len(data["answers"]) == 1
    assert data["feedback"][0]["comment"] == "my private opinion"

    answers_before = scalar(world, select(func.count()).select_from(Answer))
    assert app.main(["learner", "forget", LEO.user_id],
                    environ={"DATABASE_URL": world.sprout.settings.database_url}) == 0
    assert world.sprout.store.learner(LEO.user_id) is None
    assert scalar(world, select(func.count()).select_from(Answer)) == answers_before, "figures stay right"
    assert scalar(world, select(Feedback.comment)) is None
    assert scalar(world, select(Learner.name).where(Learner.slack_user_id.like("forgotten-%"))) == ""
    with world.sprout.engine.connect() as conn:
        actions = {a for (a,) in conn.execute(select(AuditEntry.action)).all()}
    assert {"privacy_export", "forget"} <= actions


def test_editing_a_pack_mid_course_never_resends_and_keeps_history(world):
    command(world, LEO, "enroll security-basics")
    for day in range(2):
        world.clock.set(MONDAY_0830 + timedelta(days=day))
        world.sprout.tick()
    first = world.emulator.dm_messages(LEO.user_id)[0]
    world.driver.click(LEO.user_id, first, action_id="answer:0")
    world.emulator.wait_for(lambda: scalar(world, select(func.count()).select_from(Answer)) == 1)
    asked = scalar(world, select(Answer.prompt))

    pack_file = world.packs / "security-basics" / "pack.yaml"
    text = pack_file.read_text()
    lessons_start = text.index("lessons:") + len("lessons:\n")
    new_lesson = """  - id: brand-new-first
    title: A lesson added at the front
    minutes: 2
    body: New.
    links: [{kind: article, title: New, url: "https://www.cisa.gov/secure-our-world"}]
    quiz:
      - {id: q1, prompt: "New?", choices: ["Yes", "No"], answer: "Yes", explain: New.}
"""
    edited = text[:lessons_start] + new_lesson + text[lessons_start:]
    edited = edited.replace(asked.split("\n")[0][:40], "A rewritten question", 1) if asked[:40] in edited else edited
    before = world.sprout.catalog.get("security-basics").version
    edited = edited.replace(f"version: {before}", f"version: {before + 1}", 1)
    pack_file.write_text(edited)
    world.sprout.admin.reload_packs(world.clock())
    assert world.sprout.catalog.get("security-basics").version == before + 1

    world.clock.set(MONDAY_0830 + timedelta(days=2))
    world.sprout.tick()
    with world.sprout.engine.connect() as conn:
        lessons = [r for (r,) in conn.execute(select(Delivery.lesson_id).order_by(Delivery.id))]
        versions = [v for (v,) in conn.execute(select(Delivery.pack_version).order_by(Delivery.id))]
    assert len(lessons) == 3 and len(set(lessons)) == 3, "no lesson sent twice"
    assert lessons[2] == "brand-new-first", "the new lesson comes next, nothing is repeated"
    assert versions == [before, before, before + 1]
    assert scalar(world, select(Answer.prompt)) == asked, "the question as it was asked"
