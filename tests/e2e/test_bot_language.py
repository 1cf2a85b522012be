"""Sprout speaks each person's language, over signed HTTP: a learner whose Slack is in German reads German
through a whole lesson and on the Home tab, a German manager's digest is German, `/learn language` switches,
and a learner whose Slack is in English reads exactly what Sprout wrote before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import BERLIN, NEW_YORK
from tests.e2e.test_digest import all_text, digests_in, field, roster, tick_through
from tests.e2e.test_digest import world as digest_world  # noqa: F401 (a fixture)
from tests.e2e.test_walking_skeleton import (
    MONDAY_0830_UTC,
    answer_buttons,
    correct_choice,
    enroll,
    lesson_for,
    wait_block,
)

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def command(world, user_id: str, text: str) -> str:
    before = len(world.emulator.ephemerals(user_id))
    assert world.driver.command(user_id, "/learn", text).status == 200
    return world.emulator.wait_for(lambda: world.emulator.ephemerals(user_id)[before:])[-1]["text"]


def text_of(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def block_text(message: dict, block_id: str) -> str:
    return next(b for b in message["blocks"] if b.get("block_id") == block_id)["text"]["text"]


def test_a_german_learner_reads_german_throughout_a_lesson_and_on_home(world, clock):
    world.emulator.set_user_locale(BERLIN.user_id, "de-DE")
    confirmation = enroll(world, BERLIN)["text"]
    assert "Du bist für *Security Basics* angemeldet" in confirmation
    assert "kurze Lektionen" in confirmation
    assert "*Mo., 30. Nov., 09:30* (Europe/Berlin)" in confirmation, "the date in German"
    english = enroll(world, NEW_YORK)["text"]
    assert "You're enrolled in *Security Basics*" in english and "Mon 30 Nov, 09:30" in english

    clock.set(MONDAY_0830_UTC)
    world.sprout.tick()
    lesson = lesson_for(world, BERLIN)
    header = lesson["blocks"][1]["elements"][0]["text"]
    assert "Lektion 1 von" in header and "Min." in header
    assert "Minute lesson" not in lesson["text"] and "-minütige Lektion aus" in lesson["text"]
    prompt = next(b for b in lesson["blocks"] if b.get("block_id", "").startswith("prompt:"))["text"]["text"]
    assert prompt.startswith("*Frage 1 von ")
    links = [b for b in lesson["blocks"] if b.get("block_id", "").startswith("link:")]
    assert links and links[0]["accessory"]["text"]["text"] in ("Anhören", "Lesen", "Ansehen")

    # The quiz: a right answer, then a wrong one, then the rating — all in German.
    qid, right = correct_choice(world, lesson)
    first = world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}")
    updated = wait_block(world, lesson, f"result:{qid}")
    result = block_text(updated, f"result:{qid}")
    assert "Du hast *" in result and "gewählt. ✅ Richtig" in result and "*Frage 1.*" in result
    qid2, right2 = correct_choice(world, updated)
    world.driver.click(BERLIN.user_id, updated, action_id=f"answer:{(right2 + 1) % len(answer_buttons(updated))}")
    updated = wait_block(world, lesson, "rate-prompt")
    assert "❌ Nicht ganz — die Antwort ist *" in block_text(updated, f"result:{qid2}")
    assert block_text(updated, "rate-prompt").startswith("*Wie nützlich war diese Lektion?*")
    world.driver.click(BERLIN.user_id, updated, action_id="rate:2")
    updated = wait_block(world, lesson, "reason-prompt")
    assert block_text(updated, "rated") == "Danke — du hast diese Lektion mit *2/5* bewertet."
    reasons = [e["text"]["text"] for b in updated["blocks"] if b.get("block_id") == "reason" for e in b["elements"]]
    assert reasons == ["Zu leicht", "Zu schwer", "Nicht relevant", "Fehlerhaft"]
    comment = next(b for b in updated["blocks"] if b.get("block_id") == "comment")["elements"][0]["text"]["text"]
    assert comment == "Kommentar hinzufügen"
    # A double click's "already answered" is German too.
    world.driver.resend(first)
    world.emulator.wait_for(lambda: any("schon beantwortet" in e.get("text", "")
                                        for e in world.emulator.ephemerals(BERLIN.user_id)))

    # The Ben in New York is unchanged: his lesson is in English.
    clock.set(MONDAY_0830_UTC + timedelta(hours=6))
    world.sprout.tick()
    ben = lesson_for(world, NEW_YORK)
    assert "lesson 1 of" in ben["blocks"][1]["elements"][0]["text"]
    assert "Frage" not in text_of(ben) and "*Question 1 of " in text_of(ben)

    # The Home tab.
    world.driver.app_home_opened(BERLIN.user_id)
    home = world.emulator.wait_for(lambda: world.emulator.home_view(BERLIN.user_id))
    shown = text_of(home)
    for words in ("Hallo Ana Berlin!", "Serie: *1* Lerntag", "Fällige Wiederholungen", "*Deine Pakete*",
                  "1 von 10 Lektionen erledigt", "nächste Lektion Di., 1. Dez., 09:30", "Eine Woche pausieren",
                  "Uhrzeit ändern", "*Letzte Antworten*"):
        assert words in shown, words
    assert "Your packs" not in shown and "Streak" not in shown

    # /learn help, and an unknown verb.
    assert "Das kannst du tun:" in command(world, BERLIN.user_id, "help")
    assert "Mit `frobnicate` kann ich nichts anfangen." in command(world, BERLIN.user_id, "frobnicate")
    # A refusal from a rule (the weekday list), with what was typed quoted and escaped.
    assert "'&lt;!c' ist kein Wochentag" in command(world, BERLIN.user_id, "days <!channel>")


def test_learn_language_switches_and_auto_follows_slack_again(world, clock):
    world.emulator.set_user_locale(BERLIN.user_id, "de-DE")
    enroll(world, BERLIN)
    world.driver.app_home_opened(BERLIN.user_id)
    world.emulator.wait_for(lambda: "Deine Pakete" in text_of(world.emulator.home_view(BERLIN.user_id) or {}))

    assert command(world, BERLIN.user_id, "language en").startswith("🌐 From now on I'll write to you in English.")
    assert world.sprout.store.learner(BERLIN.user_id).language == "en"
    world.emulator.wait_for(lambda: "Your packs" in text_of(world.emulator.home_view(BERLIN.user_id)))
    assert "*Sprout* brings a short lesson" in command(world, BERLIN.user_id, "help")
    assert "/learn language de|en|auto" in command(world, BERLIN.user_id, "help")

    refused = command(world, BERLIN.user_id, "language <!here>")
    assert "Sprout does not speak `&lt;!here&gt;` yet" in refused and "`de` (Deutsch)" in refused
    assert "`en` (English)" in refused and "<!here>" not in refused
    assert world.sprout.store.learner(BERLIN.user_id).language == "en", "an unknown language changes nothing"

    assert command(world, BERLIN.user_id, "language auto") == (
        "🌐 Sprout folgt jetzt deiner Slack-Sprache: Ich schreibe dir auf Deutsch.")
    assert world.sprout.store.learner(BERLIN.user_id).language is None
    world.emulator.wait_for(lambda: "Deine Pakete" in text_of(world.emulator.home_view(BERLIN.user_id)))

    # Ben's Slack is in English; he chooses German himself.
    assert command(world, NEW_YORK.user_id, "language de").startswith("🌐 Ab jetzt schreibe ich dir auf Deutsch.")
    assert "Das kannst du tun:" in command(world, NEW_YORK.user_id, "help")
    assert command(world, NEW_YORK.user_id, "language en-GB").startswith("🌐 From now on")
    assert world.sprout.store.learner(NEW_YORK.user_id).language == "en"


def test_a_german_managers_digest_is_german(digest_world, clock):  # noqa: F811
    world = digest_world
    ids = roster(
        world,
        ("U0MGRDE", "Mia Berlin", "manager", None, "Platform", "Europe/Berlin"),
        ("U0MGREN", "Noah London", "manager", None, "Sales", "Europe/London"),
        ("U0REPDE", "Rita Berlin", "learner", "U0MGRDE", "Platform", "Europe/Berlin"),
        ("U0REPEN", "Ravi London", "learner", "U0MGREN", "Sales", "Europe/London"),
    )
    assert command(world, "U0MGRDE", "language de").startswith("🌐 Ab jetzt")
    from tests.db.test_reporting import Records

    records = Records(world.sprout.engine)
    for lid in (ids["U0REPDE"], ids["U0REPEN"]):
        records.enroll(lid, "habits", at=MONDAY - timedelta(days=60))
        for day in range(3):
            at = MONDAY - timedelta(days=6 - day, hours=-9)
            records.lesson(lid, sent_at=at, answers=[("q1", day != 1, at + timedelta(hours=1))], rating=4)

    tick_through(world, clock, MONDAY + timedelta(hours=6), MONDAY + timedelta(hours=9), timedelta(minutes=30))
    (german,) = digests_in(world, "U0MGRDE")
    (english,) = digests_in(world, "U0MGREN")
    assert german["blocks"][0]["text"]["text"] == "🌱 Die Woche deines Teams: 23. Nov. – 29. Nov."
    assert field(german, "Zugestellte Lektionen").startswith("3")
    assert field(german, "Quiz-Trefferquote").startswith("67\u00a0% von 3 Antworten")
    assert field(german, "Durchschnittliche Bewertung").startswith("4,0 / 5 (3)")
    text = all_text(german)
    assert "Deine direkt Unterstellten (1 Person)" in text and "Mo., 23. Nov. – So., 29. Nov. 2026" in text
    assert "3 Lektionen zugestellt" in german["text"]
    assert "lessons delivered" not in text and "Needs attention" not in text

    assert english["blocks"][0]["text"]["text"] == "🌱 Your team's week: 23 Nov – 29 Nov"
    assert field(english, "Quiz accuracy").startswith("67% of 3 answers")
    assert field(english, "Average rating").startswith("4.0 / 5 (3)")
    assert "Lektion" not in all_text(english)

    # /learn digest asked for now: German too.
    before = len(world.emulator.ephemerals("U0MGRDE"))
    world.driver.command("U0MGRDE", "/learn", "digest")
    now = world.emulator.wait_for(lambda: world.emulator.ephemerals("U0MGRDE")[before:])[-1]
    assert now["blocks"][0]["text"]["text"] == "🌱 Diese Woche bisher"
