"""The whole path once: enroll, deliver at local 09:30, answer, rate, comment — over signed HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from db.models import Answer, Delivery, Feedback, OutboxMessage
from tests.e2e.conftest import BERLIN, NEW_YORK

MONDAY_0830_UTC = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Berlin
MONDAY_1430_UTC = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # 09:30 in New York


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def enroll(world, person, pack="security-basics"):
    """Enroll through /learn and wait for *this* command's reply (earlier replies do not count)."""
    before = len(world.emulator.ephemerals(person.user_id))
    response = world.driver.command(person.user_id, "/learn", f"enroll {pack}")
    assert response.status == 200
    return world.emulator.wait_for(lambda: world.emulator.ephemerals(person.user_id)[before:])[-1]


def top_level(messages):
    return [m for m in messages if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]


def lesson_for(world, person):
    messages = top_level(world.emulator.dm_messages(person.user_id))
    assert len(messages) == 1, messages
    return messages[0]


def fresh(world, message):
    return world.emulator.message(message["channel"], message["ts"])


def block_ids(message) -> list[str]:
    return [b.get("block_id", "") for b in message["blocks"]]


def wait_block(world, message, block_id):
    return world.emulator.wait_for(lambda: block_id in block_ids(fresh(world, message)) and fresh(world, message))


def answer_buttons(message):
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"].startswith("answer:")]


def correct_choice(world, message) -> tuple[str, int]:
    button = answer_buttons(message)[0]
    value = json.loads(button["value"])
    question = world.sprout.catalog.lesson("security-basics", world.sprout.store.delivery_state(value["d"]).lesson_id)
    q = question.question(value["q"])
    return q.id, q.correct_index


def test_enroll_deliver_answer_rate_comment_end_to_end(world, clock):
    engine = world.sprout.engine
    confirmation = enroll(world, BERLIN)
    assert "enrolled in *Security Basics*" in confirmation["text"]
    assert "Mon 30 Nov, 09:30" in confirmation["text"] and "Europe/Berlin" in confirmation["text"]
    enroll(world, NEW_YORK)

    # 09:29 Berlin: nothing yet. 09:30 Berlin: Ana's lesson, not Ben's.
    assert world.sprout.tick(MONDAY_0830_UTC.replace(minute=29)).sent == 0
    clock.set(MONDAY_0830_UTC)
    assert world.sprout.tick().sent == 1
    assert world.emulator.dm_messages(NEW_YORK.user_id) == []
    lesson = lesson_for(world, BERLIN)
    assert lesson["blocks"][0]["type"] == "header" and "Spot" in lesson["blocks"][0]["text"]["text"]
    assert lesson["text"]  # a notification / screen-reader fallback
    assert lesson["metadata"]["event_type"] == "sprout_delivery"
    assert any(b.get("block_id", "").startswith("link:") for b in lesson["blocks"])
    assert datetime.fromtimestamp(float(lesson["ts"]), UTC) == MONDAY_0830_UTC

    # 09:30 New York, six hours later: Ben's lesson, and a reminder in the thread of Ana's unanswered
    # lesson (four hours have passed); a second tick sends nothing.
    clock.set(MONDAY_1430_UTC)
    result = world.sprout.tick()
    assert (result.queued, result.reminders, result.sent) == (1, 1, 2)
    assert world.sprout.tick().sent == 0
    reminder = [m for m in world.emulator.dm_messages(BERLIN.user_id) if m.get("thread_ts") == lesson["ts"]]
    assert len(reminder) == 1 and "still waiting" in reminder[0]["text"]
    assert len(world.emulator.dm_messages(NEW_YORK.user_id)) == 1
    with engine.connect() as conn:
        sent = dict(conn.execute(select(Delivery.learner_id, Delivery.sent_at)).all())
    assert sorted(sent.values()) == [MONDAY_0830_UTC, MONDAY_1430_UTC]

    # Ana answers the first question right, and double-clicks.
    qid, right = correct_choice(world, lesson)
    first = world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}")
    second = world.driver.resend(first)  # the same click again, as a double click sends it
    assert first.status == second.status == 200
    updated = wait_block(world, lesson, f"result:{qid}")
    assert "✅ Right" in next(b for b in updated["blocks"] if b.get("block_id") == f"result:{qid}")["text"]["text"]
    world.emulator.wait_for(lambda: any("already answered" in e.get("text", "")
                                        for e in world.emulator.ephemerals(BERLIN.user_id)))
    assert count(engine, Answer) == 1

    # The second question, wrong this time.
    qid2, right2 = correct_choice(world, updated)
    assert qid2 != qid
    wrong = (right2 + 1) % len(answer_buttons(updated))
    world.driver.click(BERLIN.user_id, updated, action_id=f"answer:{wrong}")
    updated = wait_block(world, lesson, "rate-prompt")
    result = next(b for b in updated["blocks"] if b.get("block_id") == f"result:{qid2}")["text"]["text"]
    assert "❌ Not quite" in result
    with engine.connect() as conn:
        assert sorted(conn.execute(select(Answer.question_id, Answer.correct)).all()) == sorted(
            [(qid, True), (qid2, False)]
        )

    # Rate 4, twice: recorded once.
    rated = world.driver.click(BERLIN.user_id, updated, action_id="rate:4")
    world.driver.resend(rated)
    updated = wait_block(world, lesson, "rated")
    assert "4/5" in next(b for b in updated["blocks"] if b.get("block_id") == "rated")["text"]["text"]
    with engine.connect() as conn:
        assert conn.execute(select(Feedback.rating)).scalars().all() == [4]

    # A comment that tries to ping everyone is stored verbatim and shown escaped.
    nasty = "Loved it <!channel> <https://evil.example|https://bank.example> & more"
    world.driver.click(BERLIN.user_id, updated, action_id="comment")
    modal = world.emulator.wait_for(lambda: world.emulator.open_views(BERLIN.user_id))[-1]
    submitted = world.driver.submit_view(BERLIN.user_id, modal, {"comment": {"text": nasty}})
    assert submitted.status == 200
    assert "Thanks" in json.dumps(submitted.json()) and "&lt;!channel&gt;" in json.dumps(submitted.json())
    updated = wait_block(world, lesson, "commented")
    shown = next(b for b in updated["blocks"] if b.get("block_id") == "commented")["text"]["text"]
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "&amp; more" in shown
    with engine.connect() as conn:
        assert conn.execute(select(Feedback.comment)).scalar_one() == nasty


def test_a_forged_or_stale_signature_is_refused_and_changes_nothing(world):
    from urllib.parse import urlencode

    body = urlencode({"command": "/learn", "text": "enroll security-basics", "user_id": BERLIN.user_id,
                      "team_id": "T0SPROUT", "response_url": "http://127.0.0.1:9/nowhere", "trigger_id": "t"}).encode()
    for signature in ("bad", "stale", "missing"):
        response = world.driver.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"},
                                         signature=signature)
        assert response.status == 401, signature
    assert world.sprout.store.learner(BERLIN.user_id) is None


def test_a_retried_event_is_handled_once(world):
    """Events are handled before Slack hears back, so each count below is final when the request returns."""
    first = world.driver.app_home_opened(BERLIN.user_id)
    assert first.status == 200
    assert len(world.emulator.calls("views.publish")) == 1 and world.emulator.home_view(BERLIN.user_id)
    event_id = first.payload["event_id"]
    for n in (1, 2):
        retry = world.driver.event(first.payload["event"], event_id=event_id, retry_num=n,
                                   retry_reason="http_timeout")
        assert retry.status == 200
        assert len(world.emulator.calls("views.publish")) == 1, "Slack's retry published nothing"
    other = world.driver.app_home_opened(BERLIN.user_id)
    assert other.payload["event_id"] != event_id
    assert len(world.emulator.calls("views.publish")) == 2, "a new event did"


def test_home_tab_shows_packs_and_the_next_lesson(world):
    enroll(world, NEW_YORK, "onboarding-essentials")
    world.driver.app_home_opened(NEW_YORK.user_id)
    home = world.emulator.wait_for(lambda: world.emulator.home_view(NEW_YORK.user_id))
    text = json.dumps(home["blocks"])
    assert "Onboarding Essentials" in text and "next lesson Mon 30 Nov, 09:00" in text
    assert "America/New_York" in text
    # Enrolling from the Home tab works too.
    world.driver.click(NEW_YORK.user_id, home, action_id="home_enroll", value=json.dumps({"p": "security-basics"},
                                                                                         separators=(",", ":")))
    world.emulator.wait_for(lambda: "Security Basics*\\n0 of" in json.dumps(world.emulator.home_view(NEW_YORK.user_id)))


def test_unknown_commands_get_the_help_and_next_sends_now(world, clock):
    world.driver.command(BERLIN.user_id, "/learn", "<!channel> please")
    reply = world.emulator.wait_for(lambda: world.emulator.ephemerals(BERLIN.user_id))[-1]
    assert "/learn enroll" in reply["text"] and "&lt;!channel&gt;" in reply["text"]
    world.driver.command(BERLIN.user_id, "/learn", "next")
    reply = world.emulator.wait_for(lambda: world.emulator.ephemerals(BERLIN.user_id)[1:])[-1]
    assert "not enrolled" in reply["text"]
    enroll(world, BERLIN)
    world.driver.command(BERLIN.user_id, "/learn", "next")
    lesson = world.emulator.wait_for(lambda: world.emulator.dm_messages(BERLIN.user_id))[0]
    assert "Spot" in lesson["blocks"][0]["text"]["text"]
    # The scheduled slot later the same day sends the following lesson, not the same one again.
    clock.set(MONDAY_0830_UTC)
    assert world.sprout.tick().sent == 1
    second = world.emulator.dm_messages(BERLIN.user_id)[1]
    assert second["blocks"][0]["text"]["text"] != lesson["blocks"][0]["text"]["text"]
    engine = world.sprout.engine
    assert count(engine, Delivery, Delivery.kind == "on_demand") == 1
    assert count(engine, OutboxMessage, OutboxMessage.status == "sent") == 2


def test_packs_lists_what_can_be_taken(world):
    world.driver.command(BERLIN.user_id, "/learn", "packs")
    reply = world.emulator.wait_for(lambda: world.emulator.ephemerals(BERLIN.user_id))[-1]
    for pack in ("security-basics", "feedback-essentials", "onboarding-essentials", "data-privacy-basics"):
        assert f"`{pack}`" in reply["text"]
