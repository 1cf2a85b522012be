"""The learner's side, end to end over signed HTTP: every kind of question, reflections, reasons, link
opens, spaced review over simulated weeks, certificates and their renewal, search, channel triggers, Home."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import app
from content_packs.loader import BUNDLED_DIR
from db.models import Answer, Certificate, LinkOpen, Reflection, Review, ReviewCard
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

ANA = Person("U0ANA", "Ana", "Europe/Berlin")
HERE = Path(__file__).resolve().parent
MONDAY_0800_UTC = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", packs / "security-basics")
    shutil.copytree(HERE / "packs" / "kinds", packs / "kinds")
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url, content_packs_dir=packs,
                                   reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[ANA],
                        build_options={"listener_workers": 8}) as ws:
        ws.clock = clock
        yield ws


def command(ws, text):
    before = len(ws.emulator.ephemerals(ANA.user_id))
    ws.driver.command(ANA.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(ANA.user_id)[before:])[-1]


def fresh(ws, message):
    return ws.emulator.message(message["channel"], message["ts"])


def wait_block(ws, message, block_id):
    return ws.emulator.wait_for(
        lambda: any(b.get("block_id") == block_id for b in fresh(ws, message)["blocks"]) and fresh(ws, message))


def block(message, block_id):
    return next(b for b in message["blocks"] if b.get("block_id") == block_id)


def count(ws, model):
    with ws.sprout.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def lesson(ws, nth=-1):
    def lessons():
        found = [m for m in ws.emulator.dm_messages(ANA.user_id)
                 if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"]
        if not found:  # a send the tick had to put off (a 429 or a slow answer under load) goes on
            ws.sprout.dispatcher.dispatch()
        return found

    return ws.emulator.wait_for(lessons)[nth]


def test_every_kind_of_question_then_reflection_rating_reason_and_link(world):
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    message = lesson(world)

    # A link opened: Slack reports the URL button's click; recorded once.
    opened = world.driver.click(ANA.user_id, message, action_id="open_link:0")
    world.driver.resend(opened)
    world.emulator.wait_for(lambda: count(world, LinkOpen) == 1)

    # Single choice, wrong: the verdict, the author's note on that choice, the explanation.
    world.driver.click(ANA.user_id, message, action_id="answer:0")
    shown = wait_block(world, message, "result:single")
    assert "❌ Not quite" in block(shown, "result:single")["text"]["text"]
    assert any("Logos are easy to copy" in e["text"] for b in shown["blocks"] if b["type"] == "context"
               for e in b["elements"])

    # Multiple select: tick two boxes, then Submit.
    world.driver.select(ANA.user_id, shown, "pick", ["0", "1"])
    world.driver.click(ANA.user_id, shown, action_id="submit_multi")
    shown = wait_block(world, message, "result:several")
    assert "✅ Right" in block(shown, "result:several")["text"]["text"]

    # True/false.
    world.driver.click(ANA.user_id, shown, action_id="answer:1")
    shown = wait_block(world, message, "result:tf")
    assert "You chose *False*" in block(shown, "result:tf")["text"]["text"]

    # Short answer, typed in a modal: case and spacing do not matter.
    world.driver.click(ANA.user_id, shown, action_id="type_answer")
    modal = world.emulator.wait_for(lambda: world.emulator.open_views(ANA.user_id))[-1]
    world.driver.submit_view(ANA.user_id, modal, {"answer": {"text": "  Multi-Factor   authentication "}})
    shown = wait_block(world, message, "result:typed")
    assert "✅ Right" in block(shown, "result:typed")["text"]["text"]
    with world.sprout.engine.connect() as conn:
        answers = dict(conn.execute(select(Answer.question_id, Answer.correct)).all())
    assert answers == {"single": False, "several": True, "tf": True, "typed": True}
    assert count(world, ReviewCard) == 4, "every answered question becomes a review card"

    # Reflection: the learner's own words, kept, shown back escaped.
    world.driver.click(ANA.user_id, shown, action_id="reflect")
    modal = world.emulator.wait_for(lambda: world.emulator.open_views(ANA.user_id))[-1]
    world.driver.submit_view(ANA.user_id, modal, {"reflection": {"text": "A fake <!here> invoice"}})
    shown = wait_block(world, message, "reflected")
    assert "&lt;!here&gt;" in block(shown, "reflected")["text"]["text"]
    assert count(world, Reflection) == 1

    # A low rating asks why; the reason is stored with the rating.
    world.driver.click(ANA.user_id, shown, action_id="rate:2")
    shown = wait_block(world, message, "reason-prompt")
    world.driver.click(ANA.user_id, shown, action_id="reason:too_easy")
    world.emulator.wait_for(lambda: "Noted" in json.dumps(fresh(world, message)["blocks"]))
    from db.models import Feedback

    with world.sprout.engine.connect() as conn:
        assert conn.execute(select(Feedback.rating, Feedback.reason)).one() == (2, "too_easy")


def answer_all_right(ws, message, *, wrong=(), only=None):
    """Answer the questions of a lesson or review message as a learner would: right, except the single
    choice or true/false questions named in ``wrong``; ``only`` stops after that many."""
    for _ in range(only or 8):
        current = fresh(ws, message)
        buttons = [e for b in current["blocks"] if b["type"] == "actions" for e in b["elements"]]
        answer = [e for e in buttons if e["action_id"].startswith(("answer:", "submit_multi", "type_answer"))]
        if not answer:
            return
        value = json.loads(answer[0]["value"])
        question = ws.sprout.service.question_for(ANA.user_id, value, value["q"])
        before = json.dumps(current["blocks"])
        if question.kind in ("single", "true_false"):
            pick = question.correct_index if question.id not in wrong else 1 - min(question.correct_index, 1)
            ws.driver.click(ANA.user_id, current, action_id=f"answer:{pick}")
        elif question.kind == "multiple":
            picks = [str(i) for i, c in enumerate(question.options) if c in question.answers]
            ws.driver.select(ANA.user_id, current, "pick", picks)
            ws.driver.click(ANA.user_id, fresh(ws, message), action_id="submit_multi")
        else:
            ws.driver.click(ANA.user_id, current, action_id="type_answer")
            modal = ws.emulator.wait_for(lambda: ws.emulator.open_views(ANA.user_id))[-1]
            ws.driver.submit_view(ANA.user_id, modal, {"answer": {"text": question.accept[0]}})
        ws.emulator.wait_for(lambda b=before: json.dumps(fresh(ws, message)["blocks"]) != b)


def run_days(ws, days):
    end = ws.clock() + timedelta(days=days)
    while ws.clock() < end:
        ws.sprout.tick()
        due = ws.sprout.next_due(ws.clock())
        step = ws.clock() + timedelta(hours=6)
        ws.clock.set(min(step, due) if due and due > ws.clock() else step)


def test_a_missed_question_comes_back_for_review_and_reviews_are_records(world):
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    message = lesson(world)
    world.driver.click(ANA.user_id, message, action_id="answer:2")  # wrong: "A long email"
    wait_block(world, message, "result:single")
    answer_all_right(world, message)

    reviews = []
    for _day in range(1, 4):
        run_days(world, 1)
        reviews = [m for m in world.emulator.dm_messages(ANA.user_id)
                   if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "review"]
        if reviews:
            break
    assert reviews, "the missed question came back within a few days"
    first = reviews[0]
    assert "Quick review" in first["blocks"][0]["text"]["text"]
    sent_on = datetime.fromtimestamp(float(first["ts"]), UTC)
    assert sent_on.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "09:00"
    answer_all_right(world, first)
    done = world.emulator.wait_for(lambda: "review-done" in json.dumps(fresh(world, first)["blocks"]))
    assert done
    assert count(world, Review) >= 1
    with world.sprout.engine.connect() as conn:
        card = conn.execute(select(ReviewCard.__table__).where(ReviewCard.question_id == "single")).one()
    assert card.reviews == 2 and card.lapses == 1 and card.due > world.clock()


def reviews(ws):
    return [m for m in ws.emulator.dm_messages(ANA.user_id)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "review"]


def test_a_review_answered_right_a_day_or_more_later_counts_as_hard(world):
    from learning.review import GOOD, HARD

    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    answer_all_right(world, lesson(world), wrong=("single", "tf"))  # two misses: both back tomorrow
    world.clock.set(MONDAY_0800_UTC + timedelta(days=1))
    world.sprout.tick()
    review = world.emulator.wait_for(lambda: reviews(world))[0]
    answer_all_right(world, review, only=1)  # at once
    world.clock.set(world.clock() + timedelta(hours=25))
    answer_all_right(world, review)  # the next day
    world.emulator.wait_for(lambda: "review-done" in json.dumps(fresh(world, review)["blocks"]))
    with world.sprout.engine.connect() as conn:
        ratings = conn.execute(select(Review.question_id, Review.correct, Review.rating).order_by(Review.id)).all()
    assert [tuple(r) for r in ratings] == [("single", True, GOOD), ("tf", True, HARD)]


def last_lesson_of_kinds(world):
    """Enrolled in the two-lesson pack, the first answered all right on Monday: Tuesday's, the last one."""
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    answer_all_right(world, lesson(world))
    world.clock.set(MONDAY_0800_UTC + timedelta(days=1))
    world.sprout.tick()
    return lesson(world)


def test_certificate_is_earned_then_renewed_by_a_recertification_review(world):
    answer_all_right(world, last_lesson_of_kinds(world))
    world.sprout.tick()
    congratulation = world.emulator.wait_for(lambda: [m for m in world.emulator.dm_messages(ANA.user_id)
                                                      if "Congratulations" in (m.get("text") or "")])
    assert "Kinds Certified" in congratulation[0]["text"]
    assert count(world, Certificate) == 1

    # 60-day certificate: 30 days before it expires comes the recertification review.
    world.clock.set(MONDAY_0800_UTC + timedelta(days=31, hours=1))
    world.sprout.tick()
    recert = world.emulator.wait_for(lambda: [m for m in world.emulator.dm_messages(ANA.user_id)
                                              if (m.get("metadata") or {}).get("event_payload", {}).get("kind")
                                              == "recert"])[0]
    assert "expires" in recert["text"] or "Renew" in json.dumps(recert["blocks"])
    answer_all_right(world, recert)
    world.sprout.tick()
    with world.sprout.engine.connect() as conn:
        statuses = sorted(conn.execute(select(Certificate.status)).scalars())
    assert statuses == ["active", "renewed"]


def test_search_offers_lessons_and_sends_the_chosen_one_on_demand(world):
    reply = command(world, "search phishing")
    found = [b for b in reply["blocks"] if b.get("accessory", {}).get("action_id") == "send_lesson"]
    assert 1 <= len(found) <= 5
    assert "Spot" in found[0]["text"]["text"] or "phishing" in found[0]["text"]["text"].lower()
    world.driver.click(ANA.user_id, reply, action_id="send_lesson", value=found[0]["accessory"]["value"])
    sent = world.emulator.wait_for(lambda: world.emulator.dm_messages(ANA.user_id))
    assert sent[0]["blocks"][0]["type"] == "header"
    world.emulator.wait_for(lambda: "On its way" in world.emulator.ephemerals(ANA.user_id)[-1].get("text", ""))
    from db.models import Delivery, Enrollment

    with world.sprout.engine.connect() as conn:
        assert conn.execute(select(Delivery.kind)).scalar_one() == "on_demand"
        assert conn.execute(select(Enrollment.status)).scalar_one() == "on_demand", "not put on a schedule"
    assert "No lessons match" in command(world, "search xyzzyplugh")["text"]


def test_title_matches_rank_above_body_matches(world):
    hits = world.sprout.service.search("phishing")
    assert hits and "phish" in hits[0].title.lower()


def joins_handled(caplog, count):
    """Wait until the member_joined_channel listener has finished ``count`` times (it logs its outcome)."""
    def handled():
        return len([r for r in caplog.records if r.name == "bot.listeners.events" and " joined #" in r.getMessage()
                    ]) >= count

    return wait_until(handled)


def wait_until(predicate, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return True


def test_joining_a_trigger_channel_sends_the_first_lesson_once(world, caplog):
    caplog.set_level("INFO")
    channel = world.emulator.add_channel("sales")
    world.emulator.join_channel(channel, ANA.user_id)
    first = world.driver.member_joined_channel(ANA.user_id, channel)
    world.emulator.wait_for(lambda: world.emulator.dm_messages(ANA.user_id))
    world.driver.event(first.payload["event"], event_id=first.payload["event_id"], retry_num=1,
                       retry_reason="http_timeout")  # Slack's retry: handled once, never reaches the listener
    world.driver.member_joined_channel(ANA.user_id, channel)  # leaves and joins again later
    joins_handled(caplog, 2)
    world.sprout.tick()
    messages = world.emulator.dm_messages(ANA.user_id)
    assert len(messages) == 1 and "Questions of every kind" in messages[0]["blocks"][0]["text"]["text"]


def test_a_failed_event_is_answered_with_an_error_and_slacks_retry_does_the_work_once(world, caplog):
    """At least once, one effect: the first delivery of the event fails on a database error, so nothing is
    kept (not even its id) and Slack hears an error; Slack's retry queues the lesson; later retries add
    nothing."""
    from sqlalchemy import event

    caplog.set_level("INFO")
    failing = {"on": True}

    def fail_the_outbox_insert(conn, cursor, statement, parameters, context, executemany):
        if failing["on"] and statement.lstrip().upper().startswith("INSERT INTO OUTBOX "):
            raise RuntimeError("the database went away")

    channel = world.emulator.add_channel("sales")
    event.listen(world.sprout.engine, "before_cursor_execute", fail_the_outbox_insert)
    try:
        first = world.driver.member_joined_channel(ANA.user_id, channel)
    finally:
        failing["on"] = False
        event.remove(world.sprout.engine, "before_cursor_execute", fail_the_outbox_insert)
    assert first.status == 500, "Slack is told the event was not handled, so it sends it again"
    world.sprout.tick()
    assert world.emulator.dm_messages(ANA.user_id) == []
    with world.sprout.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM processed_events").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM trigger_fires").scalar() == 0, "nothing half-kept"

    def retry(n):
        return world.driver.event(first.payload["event"], event_id=first.payload["event_id"], retry_num=n,
                                  retry_reason="http_error")

    assert retry(1).status == 200
    world.emulator.wait_for(lambda: world.emulator.dm_messages(ANA.user_id))
    assert retry(2).status == 200, "a retry after success is answered, and does nothing"
    world.sprout.tick()
    messages = world.emulator.dm_messages(ANA.user_id)
    assert len(messages) == 1 and "Questions of every kind" in messages[0]["blocks"][0]["text"]["text"]
    with world.sprout.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM processed_events").scalar() == 1


def test_home_shows_progress_streak_reviews_and_controls(world):
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    answer_all_right(world, lesson(world))
    world.driver.app_home_opened(ANA.user_id)
    home = world.emulator.wait_for(lambda: world.emulator.home_view(ANA.user_id))
    text = json.dumps(home["blocks"])
    assert "Streak: *1*" in text and "Reviews due" in text and "1 of 2 lessons done" in text
    assert "100% right" in text and "Recent answers" in text
    world.driver.click(ANA.user_id, home, action_id="home_pause")
    world.emulator.wait_for(lambda: "Paused" in json.dumps(world.emulator.home_view(ANA.user_id)["blocks"]))
    world.driver.click(ANA.user_id, world.emulator.home_view(ANA.user_id), action_id="home_resume")
    world.emulator.wait_for(lambda: "Lessons are on" in json.dumps(world.emulator.home_view(ANA.user_id)["blocks"]))


def home_text(ws):
    return json.dumps((ws.emulator.home_view(ANA.user_id) or {}).get("blocks", []), ensure_ascii=False)


def home_shows(ws, text):
    return ws.emulator.wait_for(lambda: text in home_text(ws))


def test_home_is_republished_after_each_change_once_it_was_opened(world):
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    message = lesson(world)
    world.driver.click(ANA.user_id, message, action_id="answer:1")  # right
    wait_block(world, message, "result:single")
    assert world.emulator.calls("views.publish") == [], "nobody opened Home: nothing published"

    world.driver.app_home_opened(ANA.user_id)
    home_shows(world, "1 of 2 lessons done")
    # An answer: recent answers and accuracy follow.
    world.driver.select(ANA.user_id, fresh(world, message), "pick", ["0"])
    world.driver.click(ANA.user_id, fresh(world, message), action_id="submit_multi")
    home_shows(world, "50% right")
    # The learner's own schedule, from /learn.
    command(world, "pause 3 days")
    home_shows(world, "⏸️ *Paused* until Thu 03 Dec")
    command(world, "resume")
    home_shows(world, "Lessons are on")
    command(world, "time 07:15")
    home_shows(world, "next lesson Tue 01 Dec, 07:15")
    command(world, "days thu")
    home_shows(world, "next lesson Thu 03 Dec, 07:15")
    command(world, "enroll security-basics")
    world.emulator.wait_for(lambda: '"*Security Basics*\\n0 of' in home_text(world))
    # The last answers earn the certificate: Home shows it.
    answer_all_right(world, message)
    world.clock.set(MONDAY_0800_UTC + timedelta(days=3, hours=-1))  # Thursday 07:15 in Berlin
    world.sprout.tick()
    second = world.sprout.catalog.get("kinds").lessons[1].title
    answer_all_right(world, next(m for m in world.emulator.dm_messages(ANA.user_id) if second in json.dumps(m)))
    home_shows(world, "🎓 Kinds Certified")


def test_a_home_nobody_opened_is_never_published(world):
    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    answer_all_right(world, lesson(world))
    command(world, "pause 3 days")
    command(world, "resume")
    command(world, "time 07:15")
    world.emulator.add_user("U0SOMEONE", name="Someone", tz="Europe/Berlin")
    world.driver.app_home_opened("U0SOMEONE")  # someone else opens theirs
    world.emulator.wait_for(lambda: world.emulator.calls("views.publish"))
    command(world, "days mon")
    assert [c for c in world.emulator.calls("views.publish") if ANA.user_id in json.dumps(c)] == []


def test_home_has_a_section_for_each_role_and_only_for_that_role(world):
    from learning.roster import parse_roster

    csv = ("slack_user_id,name,role,manager_slack_user_id,timezone,packs\n"
           "U0ANA,Ana,learner,U0MAYA,Europe/Berlin,kinds\n"
           "U0MAYA,Maya,manager,,Europe/Berlin,\n"
           "U0FELIX,Felix,facilitator,,Europe/Berlin,\n"
           "U0ADA,Ada,admin,,Europe/Berlin,\n")
    world.sprout.store.import_roster(parse_roster(csv, known_packs=world.sprout.catalog.ids()).rows, world.clock())
    sections = {}
    for user in ("U0ANA", "U0MAYA", "U0FELIX", "U0ADA"):
        world.emulator.add_user(user, name=user, tz="Europe/Berlin")
        world.driver.app_home_opened(user)
        home = world.emulator.wait_for(lambda u=user: world.emulator.home_view(u))
        sections[user] = {b.get("block_id") for b in home["blocks"]} & {"home-team", "home-admin", "home-packs"}
    assert sections == {"U0ANA": set(), "U0MAYA": {"home-team"}, "U0FELIX": {"home-packs"},
                        "U0ADA": {"home-admin", "home-packs"}}
    maya = json.dumps(world.emulator.home_view("U0MAYA")["blocks"])
    assert "1 direct report" in maya


NASTY_PACK = """\
id: nasty
title: "Ops <!channel> pack"
description: "A pack whose author typed control characters."
version: 1
schedule: {days: [mon, tue, wed, thu, fri], time: "09:00"}
lessons:
  - id: alert
    title: "Zebra alert <https://evil.example|x>"
    minutes: 2
    body: Zebras everywhere.
    links:
      - {kind: article, title: Read, url: "https://example.org/zebra"}
    quiz:
      - {id: q1, prompt: "Stripes?", choices: ["Yes", "No"], answer: "Yes", explain: Stripes.}
"""


def test_titles_in_replies_are_escaped(world):
    folder = world.sprout.settings.content_packs_dir / "nasty"
    folder.mkdir()
    (folder / "pack.yaml").write_text(NASTY_PACK)
    serving, problems = world.sprout.admin.reload_packs(world.clock())
    assert "nasty" in serving and not problems

    not_enrolled = command(world, "next nasty")["text"]
    assert "You're not enrolled in *Ops &lt;!channel&gt; pack*" in not_enrolled
    found = command(world, "search zebra")
    hit = next(b for b in found["blocks"] if b.get("accessory", {}).get("action_id") == "send_lesson")
    for _ in range(2):
        before = len(world.emulator.ephemerals(ANA.user_id))
        world.driver.click(ANA.user_id, found, action_id="send_lesson", value=hit["accessory"]["value"])
        world.emulator.wait_for(lambda b=before: world.emulator.ephemerals(ANA.user_id)[b:])
    replies = [e.get("text", "") for e in world.emulator.ephemerals(ANA.user_id)]
    assert "On its way: *Zebra alert &lt;https://evil.example|x&gt;*" in replies[-2]
    assert "You already have *Zebra alert &lt;https://evil.example|x&gt;*" in replies[-1]
    for reply in world.emulator.ephemerals(ANA.user_id):
        shown = reply.get("text", "") + json.dumps(reply.get("blocks") or [], ensure_ascii=False)
        assert "<!channel>" not in shown and "<https://evil" not in shown


def test_a_workspace_with_adopted_fitted_parameters_schedules_new_answers_with_them(world):
    """After `review optimize` adopted parameters (here: learners who forget fast), a lesson's answers and
    a review's are scheduled with them, not with FSRS-6's defaults."""
    from learning.fitting import DEFAULT_PARAMETERS, Fit
    from learning.review import first_answer, replay

    fast = list(DEFAULT_PARAMETERS)
    fast[0], fast[2], fast[20] = 0.05, 0.6, 0.5
    fit = Fit(tuple(fast), 0.40, 0.60, 1200, 60, 240)
    world.sprout.store.record_fit(fit, adopted=True, rescheduled={}, now=world.clock())

    command(world, "enroll kinds")
    world.clock.set(MONDAY_0800_UTC)
    world.sprout.tick()
    answer_all_right(world, lesson(world), wrong=("single",))
    with world.sprout.engine.connect() as conn:
        cards = {r.question_id: r for r in conn.execute(select(ReviewCard.__table__))}
    tf = cards["tf"]
    assert tf.due == first_answer(3, tf.created_at, parameters=tuple(fast)).due
    assert tf.due < first_answer(3, tf.created_at).due
    assert (cards["single"].due - cards["single"].created_at) <= timedelta(days=1)

    world.clock.set(MONDAY_0800_UTC + timedelta(days=1))
    world.sprout.tick()
    review = world.emulator.wait_for(lambda: reviews(world))[0]
    answer_all_right(world, review, only=1)
    with world.sprout.engine.connect() as conn:
        card = conn.execute(select(ReviewCard.__table__).where(ReviewCard.question_id == "single")).one()
        answers = [(card.created_at, 1), *conn.execute(select(Review.answered_at, Review.rating)
                                                       .where(Review.card_id == card.id))]
    assert card.reviews == 2
    assert card.due == replay(answers, parameters=tuple(fast)).due != replay(answers).due


def test_a_failed_certificate_write_leaves_no_answer_and_no_card_and_the_click_can_be_repeated(world, monkeypatch):
    """The last question of a pack writes the answer, its review card and the certificate in one
    transaction: when the certificate cannot be written, nothing of the click is kept."""
    last = last_lesson_of_kinds(world)
    answers, cards = count(world, Answer), count(world, ReviewCard)

    def broken(**_):
        raise RuntimeError("the certificates table is unavailable")

    store = world.sprout.service.store
    monkeypatch.setattr(store, "issue_certificate", broken)
    value = json.loads(next(e for b in last["blocks"] if b["type"] == "actions" for e in b["elements"]
                            if e["action_id"].startswith("answer:"))["value"])
    question = world.sprout.service.question_for(ANA.user_id, value, value["q"])
    world.driver.click(ANA.user_id, last, action_id=f"answer:{question.correct_index}")
    world.emulator.wait_for(lambda: world.emulator.ephemerals(ANA.user_id)
                            and "went wrong" in world.emulator.ephemerals(ANA.user_id)[-1].get("text", "").lower()
                            or None, timeout=10)
    assert (count(world, Answer), count(world, ReviewCard), count(world, Certificate)) == (answers, cards, 0)
    assert not any(b.get("block_id", "").startswith("result:") for b in fresh(world, last)["blocks"]), \
        "the message still asks the question"

    monkeypatch.undo()
    world.driver.click(ANA.user_id, fresh(world, last), action_id=f"answer:{question.correct_index}")
    wait_block(world, last, f"result:{question.id}")
    world.emulator.wait_for(lambda: count(world, Certificate) == 1)
    assert (count(world, Answer), count(world, ReviewCard)) == (answers + 1, cards + 1)
