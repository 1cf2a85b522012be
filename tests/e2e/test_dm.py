"""The DM you can talk to, end to end over signed HTTP against the emulator: what a learner types to Sprout
(``message.im``) is answered — help, the lessons a search finds with a working "Send me this", or an offer
to pass the question to the facilitators, who get it once whatever Slack and double clicks repeat. Edits,
deletions and bot messages are ignored, a stranger gets one line, and nothing typed reaches Slack unescaped.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from bot.asking import ASK_FACILITATORS_ACTION, DM_REPLY, QUESTION
from content_packs.loader import BUNDLED_DIR
from db.models import Delivery, Learner, LearnerQuestion, OutboxMessage
from sandbox.clock import SimulatedClock
from tests.e2e.test_announcements import FAC, command, count, make_world, roster

ANN = "U0ANN"
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NOWHERE = "Who waters the zorblax?"  # no lesson has any of its words
PARTLY = "Where do I park my bike at the Lisbon office?"  # "office" is in lessons; the rest in none


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", packs / "security-basics")
    clock = SimulatedClock(SUNDAY)
    with make_world(database_url, clock, packs_dir=packs) as ws:
        ws.clock = clock
        roster(ws, [(FAC.user_id, FAC.name, "facilitator", None, FAC.tz), (ANN, "Ann", "learner", None, "UTC"),
                    ("U0BOB", "Bob", "learner", None, "UTC")])
        yield ws


def from_sprout(ws, user):
    """Sprout's messages in its DM with ``user`` (thread replies included), oldest first."""
    return [m for m in ws.emulator.dm_messages(user) if m.get("bot_id")]


def reply_to(ws, user, text, *, thread_ts=None):
    """``user`` types ``text`` in their DM with Sprout; Sprout's answer."""
    before = len(from_sprout(ws, user))
    ws.driver.user_message(user, None, text, thread_ts=thread_ts)
    return ws.emulator.wait_for(lambda: from_sprout(ws, user)[before:])[-1]


def text_of(message):
    """The notification text and every text in its blocks (sections and context)."""
    parts = [message["text"]]
    for b in message.get("blocks") or []:
        parts.append(b.get("text", {}).get("text", ""))
        parts += [e.get("text", "") for e in b.get("elements", []) if b["type"] == "context"]
    return " ".join(parts)


def buttons(message, action_id):
    return [e for b in message.get("blocks") or [] for e in ([b["accessory"]] if "accessory" in b else b.get("elements", []))
            if e.get("type") == "button" and e.get("action_id") == action_id]


def questions_to(ws, user):
    return [m for m in ws.emulator.dm_messages(user)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == QUESTION]


@pytest.mark.parametrize("said", ["help", "Hi!", "?"])
def test_help_or_hello_in_the_dm_says_what_sprout_can_be_asked(world, said):
    reply = reply_to(world, ANN, said)
    assert "type a topic or a question" in text_of(reply)
    assert "/learn search" in text_of(reply), "the commands too"
    assert count(world, LearnerQuestion) == 0


def test_a_question_finds_lessons_whose_send_now_button_sends_one(world):
    reply = reply_to(world, ANN, "how do I spot a phishing email?")
    [first, *_] = buttons(reply, "send_lesson")
    assert "phishing" in text_of(reply).lower()
    assert not buttons(reply, ASK_FACILITATORS_ACTION), "lessons found: nothing to pass on"
    world.driver.click(ANN, {"channel": reply["channel"], "ts": reply["ts"]}, action_id="send_lesson",
                       value=first["value"])
    lesson = world.emulator.wait_for(lambda: [m for m in world.emulator.dm_messages(ANN)
                                              if (m.get("metadata") or {}).get("event_payload", {}).get("kind")
                                              == "lesson"])
    assert lesson[0]["blocks"][0]["type"] == "header"
    assert count(world, Delivery, Delivery.kind == "on_demand") == 1


def test_no_match_offers_to_pass_the_question_on_and_facilitators_get_it_once(world):
    reply = reply_to(world, ANN, NOWHERE)
    assert "couldn't find a lesson" in text_of(reply) and not buttons(reply, "send_lesson")
    [offer] = buttons(reply, ASK_FACILITATORS_ACTION)
    assert count(world, LearnerQuestion) == 0, "nothing is kept until the learner asks for it"

    surface = {"channel": reply["channel"], "ts": reply["ts"]}
    click = world.driver.click(ANN, surface, action_id=ASK_FACILITATORS_ACTION)
    world.emulator.wait_for(lambda: "Passed on" in text_of(world.emulator.message(reply["channel"], reply["ts"])))
    [copy] = world.emulator.wait_for(lambda: questions_to(world, FAC.user_id))
    assert "zorblax" in text_of(copy) and f"<@{ANN}>" in text_of(copy)
    assert not questions_to(world, "U0BOB"), "learners are not facilitators"

    # A double click: the second arrives with the same payload, from the offer as it was before the redraw.
    world.driver.resend(click)
    world.driver.resend(click)
    world.emulator.wait_for(lambda: "already with the facilitators"
                            in text_of(world.emulator.message(reply["channel"], reply["ts"])))
    world.sprout.dispatcher.dispatch()
    assert len(questions_to(world, FAC.user_id)) == 1
    assert count(world, LearnerQuestion) == 1
    assert count(world, OutboxMessage, OutboxMessage.kind == QUESTION) == 1
    assert not buttons(world.emulator.message(reply["channel"], reply["ts"]), ASK_FACILITATORS_ACTION)
    assert len(offer["value"]) <= 2000


def test_a_question_only_partly_matched_shows_those_lessons_and_still_offers_to_pass_it_on(world):
    reply = reply_to(world, ANN, PARTLY)
    assert "No lesson covers all of" in text_of(reply)
    assert 1 <= len(buttons(reply, "send_lesson")) <= 3
    assert buttons(reply, ASK_FACILITATORS_ACTION)
    world.driver.click(ANN, {"channel": reply["channel"], "ts": reply["ts"]}, action_id=ASK_FACILITATORS_ACTION)
    taken = world.emulator.wait_for(lambda: "Passed on" in text_of(world.emulator.message(reply["channel"], reply["ts"]))
                                    and world.emulator.message(reply["channel"], reply["ts"]))
    assert buttons(taken, "send_lesson") == buttons(reply, "send_lesson"), "the lessons shown stay"
    assert not buttons(taken, ASK_FACILITATORS_ACTION)


def test_slack_retries_of_a_message_get_one_answer(world):
    before = len(from_sprout(world, ANN))
    first = world.driver.user_message(ANN, None, NOWHERE)
    world.emulator.wait_for(lambda: from_sprout(world, ANN)[before:])
    world.driver.event(first.payload["event"], event_id=first.payload["event_id"], retry_num=1,
                       retry_reason="http_timeout")
    world.driver.event(first.payload["event"])  # the same message under another event id
    world.sprout.dispatcher.dispatch()
    assert len(from_sprout(world, ANN)) == before + 1
    assert count(world, OutboxMessage, OutboxMessage.kind == DM_REPLY) == 1


def test_edits_deletions_bot_messages_and_bare_files_get_no_answer(world):
    reply = reply_to(world, ANN, NOWHERE)
    typed = [m for m in world.emulator.dm_messages(ANN) if m.get("user") == ANN][-1]
    answers = len(from_sprout(world, ANN))
    assert world.driver.edit_message(ANN, reply["channel"], typed["ts"], "help").status == 200
    assert world.driver.echo_message(reply["channel"], reply["ts"]).status == 200  # Sprout's own reply
    assert world.driver.event({"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "text": "help",
                               "channel": reply["channel"], "channel_type": "im", "ts": "1764417600.000100"}
                              ).status == 200
    assert world.driver.delete_message(ANN, reply["channel"], typed["ts"]).status == 200
    assert world.driver.event({"type": "message", "subtype": "file_share", "user": ANN, "text": "", "files": [],
                               "channel": reply["channel"], "channel_type": "im", "ts": "1764417600.000200"}
                              ).status == 200  # a file with nothing said
    world.sprout.dispatcher.dispatch()
    assert len(from_sprout(world, ANN)) == answers
    assert count(world, OutboxMessage, OutboxMessage.kind == DM_REPLY) == 1


def test_what_a_learner_types_is_escaped_in_every_reply_and_copy(world):
    nasty = "Hi &lt;!channel&gt; <!here> &amp; <@U0FAC> <https://evil.example|https://good.example> zorblax?"
    reply = reply_to(world, ANN, nasty)
    shown = text_of(reply)
    assert "<!channel>" not in shown and "<!here>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt;" in shown, "shown as text, as typed"
    world.driver.click(ANN, {"channel": reply["channel"], "ts": reply["ts"]}, action_id=ASK_FACILITATORS_ACTION)
    [copy] = world.emulator.wait_for(lambda: questions_to(world, FAC.user_id))
    for message in (copy, world.emulator.message(reply["channel"], reply["ts"])):
        assert "<!channel>" not in text_of(message) and "<!here>" not in text_of(message)
        assert "<https://evil" not in text_of(message)
    assert "&lt;!channel&gt;" in text_of(copy)


def test_a_reply_in_a_lessons_thread_is_answered_in_that_thread(world):
    command(world, ANN, "enroll security-basics")
    command(world, ANN, "next")
    lesson = world.emulator.wait_for(lambda: [m for m in world.emulator.dm_messages(ANN)
                                              if (m.get("metadata") or {}).get("event_payload", {}).get("kind")
                                              == "lesson"])[0]
    reply = reply_to(world, ANN, NOWHERE, thread_ts=lesson["ts"])
    assert reply.get("thread_ts") == lesson["ts"], "answered in the lesson's thread"
    assert buttons(reply, ASK_FACILITATORS_ACTION)
    world.driver.click(ANN, {"channel": reply["channel"], "ts": reply["ts"]}, action_id=ASK_FACILITATORS_ACTION)
    [copy] = world.emulator.wait_for(lambda: questions_to(world, FAC.user_id))
    assert "a lesson's thread" in text_of(copy)


def test_someone_sprout_does_not_know_gets_one_line_and_no_record(world):
    world.emulator.add_user("U0NEW", name="Nia", real_name="Nia New", tz="UTC")
    reply = reply_to(world, "U0NEW", NOWHERE)
    assert "not signed up in Sprout yet" in text_of(reply) and not buttons(reply, ASK_FACILITATORS_ACTION)
    assert count(world, Learner, Learner.slack_user_id == "U0NEW") == 0


def test_an_admin_sends_learner_questions_to_a_channel(world):
    admin = roster(world, [("U0ADM", "Ada Admin", "admin", None, "UTC")])
    assert admin
    channel = world.emulator.add_channel("learning-team", members=["U0ADM", FAC.user_id])
    assert "Only admins" in command(world, FAC.user_id, f"questions <#{channel}|learning-team>")
    assert "go to each facilitator's" in command(world, ANN, "questions")
    assert f"go to <#{channel}>" in command(world, "U0ADM", f"questions <#{channel}|learning-team>")
    reply = reply_to(world, ANN, NOWHERE)
    world.driver.click(ANN, {"channel": reply["channel"], "ts": reply["ts"]}, action_id=ASK_FACILITATORS_ACTION)
    posted = world.emulator.wait_for(lambda: [m for m in world.emulator.messages(channel) if m.get("bot_id")])
    assert len(posted) == 1 and "zorblax" in text_of(posted[0])
    world.emulator.wait_for(lambda: f"<#{channel}>" in text_of(world.emulator.message(reply["channel"], reply["ts"])))
    assert not questions_to(world, FAC.user_id), "the channel instead of DMs"


def test_bolt_is_asked_only_for_arguments_it_knows(world, caplog):
    """The once-per-event wrapper hands its listeners ``once`` itself; Bolt must not be asked for it (it warned
    "once is not a valid argument" on every message)."""
    import logging

    with caplog.at_level(logging.WARNING):
        assert "help" in text_of(reply_to(world, ANN, "help")).lower()
    assert not [r for r in caplog.records if "is not a valid argument" in r.getMessage()]
