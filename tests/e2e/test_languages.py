"""Packs in the learner's language, end to end over signed HTTP: a learner whose Slack speaks German gets
onboarding-essentials' German lesson, answers it in German, and the record says "de" with the pack's own
option; a French learner gets the original, since there is no French translation."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import app
from content_packs.loader import BUNDLED_DIR
from db.models import Answer, Delivery, Learner
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

JONAS = Person("U0JONAS", "Jonas", "Europe/Berlin")
CAMILLE = Person("U0CAMILLE", "Camille", "Europe/Berlin")
MONDAY_0800_UTC = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, the pack's time


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "onboarding-essentials", packs / "onboarding-essentials")
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url, content_packs_dir=packs)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[JONAS, CAMILLE]) as ws:
        ws.clock = clock
        ws.emulator.set_user_locale(JONAS.user_id, "de-DE")
        ws.emulator.set_user_locale(CAMILLE.user_id, "fr-FR")
        yield ws


def command(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]


def lesson(ws, person):
    def lessons():
        found = [m for m in ws.emulator.dm_messages(person.user_id)
                 if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"]
        if not found:
            ws.sprout.dispatcher.dispatch()
        return found

    return ws.emulator.wait_for(lessons)[-1]


def test_a_german_learner_reads_answers_and_is_recorded_in_german(world):
    command(world, JONAS, "enroll onboarding-essentials")
    command(world, CAMILLE, "enroll onboarding-essentials")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()

    german = lesson(world, JONAS)
    text = json.dumps(german["blocks"], ensure_ascii=False)
    assert "Die erste Woche einrichten" in text and "Set up your first week" not in text
    assert "Jetzt einen Zugang beantragen" in text  # the choices, in German
    french = lesson(world, CAMILLE)
    assert "Set up your first week" in json.dumps(french["blocks"], ensure_ascii=False)  # no French: the original

    world.driver.click(JONAS.user_id, german, action_id="answer:0")
    shown = world.emulator.wait_for(lambda: (m := world.emulator.message(german["channel"], german["ts"]))
                                    and any(b.get("block_id") == "result:q1" for b in m["blocks"]) and m)
    result = json.dumps(shown["blocks"], ensure_ascii=False)
    assert "Jetzt einen Zugang beantragen" in result and "Zugangsanträge dauern oft" in result
    world.driver.click(CAMILLE.user_id, french, action_id="answer:0")

    def answers():
        with world.sprout.engine.connect() as conn:
            return conn.execute(select(Learner.slack_user_id, Answer.language, Answer.choice, Answer.prompt,
                                       Answer.correct, Delivery.language)
                                .join(Delivery, Delivery.id == Answer.delivery_id)
                                .join(Learner, Learner.id == Answer.learner_id)).all()

    rows = {row[0]: row[1:] for row in world.emulator.wait_for(lambda: len(answers()) == 2 and answers())}
    own = "Raise an access request now and let your manager or buddy know"
    prompt = "On day one you find you can't access a tool your team uses every day. What's the best move?"
    # Both graded the same and recorded with the pack's own text, each with the language it was shown in.
    assert rows[JONAS.user_id] == ("de", own, prompt, True, "de")
    assert rows[CAMILLE.user_id] == ("en", own, prompt, True, "en")


def test_the_home_tab_names_the_pack_in_the_learners_language(world):
    command(world, JONAS, "enroll onboarding-essentials")
    command(world, CAMILLE, "enroll onboarding-essentials")
    for person, title in ((JONAS, "Gut ankommen"), (CAMILLE, "Onboarding Essentials")):
        world.driver.app_home_opened(person.user_id)
        home = world.emulator.wait_for(
            lambda person=person, title=title: title in json.dumps(
                (world.emulator.home_view(person.user_id) or {}).get("blocks", []), ensure_ascii=False)
            and world.emulator.home_view(person.user_id))
        assert ("Onboarding Essentials" in json.dumps(home["blocks"], ensure_ascii=False)) == (person is CAMILLE)


def test_a_reload_keeps_a_translation_whose_new_version_is_broken(world):
    translation = world.sprout.settings.content_packs_dir / "onboarding-essentials" / "translations" / "de.yaml"
    good = translation.read_text(encoding="utf-8")
    translation.write_text(good.replace("title: Gut ankommen", "title: Gut angekommen"), encoding="utf-8")
    serving, problems = world.sprout.admin.reload_packs(world.clock())
    assert "onboarding-essentials" in serving and not problems
    assert world.sprout.catalog.shown("onboarding-essentials", "de").title == "Gut angekommen"

    translation.write_text(good.replace("      q2:\n", "      q9:\n", 1), encoding="utf-8")  # breaks first-week
    serving, problems = world.sprout.admin.reload_packs(world.clock())
    assert "onboarding-essentials" in serving
    assert any("de.yaml" in p and "lessons.first-week.quiz.q9: no question 'q9'" in p for p in problems)
    assert world.sprout.catalog.shown("onboarding-essentials", "de").title == "Gut angekommen"  # the last good one
