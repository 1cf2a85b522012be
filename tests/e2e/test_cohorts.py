"""Cohorts end to end over signed HTTP, on the simulated clock: a cohort across three time zones starts
together on its date, each member at their own 09:30; late members join at the current lesson or at
the start; the facilitator sees who is behind; a plain learner is refused everything, with nothing written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import app
import bot.cohorts
import bot.slack_app
from bot import blocks
from bot.cohorts import parse_create, parse_targets, split_name
from content_packs.loader import BUNDLED_DIR, parse_pack
from db.models import AuditEntry, Cohort, CohortMember, Delivery, Enrollment, Learner
from learning.cohorts import (
    current_lesson,
    current_position,
    joining_lesson,
    pack_finished,
    skipped,
    standing,
)
from learning.errors import SproutError
from learning.roster import RosterRow
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
START = date(2026, 12, 1)  # a Tuesday

FAC = Person("U0FAC", "Fay", "Europe/Berlin")
ANA = Person("U0ANA", "Ana", "Europe/Berlin")
RAVI = Person("U0RAVI", "Ravi", "Asia/Kolkata")
BEN = Person("U0BEN", "Ben", "America/New_York")
ZOE = Person("U0ZOE", "Zoe", "Asia/Kolkata")  # in Slack and in #security-guild, not yet in Sprout
MIA = Person("U0MIA", "Mia", "Europe/Berlin")  # takes the pack on her own first
LIV = Person("U0LIV", "Liv Kumar", "Asia/Kolkata")  # joins late, "join current"
MAX = Person("U0MAX", "Max", "America/New_York")  # joins late, "join start"
LEO = Person("U0LEO", "Leo", "Europe/Berlin")  # a plain learner

ROSTER = [(FAC, "facilitator", None), (ANA, "learner", "Platform"), (RAVI, "learner", "Platform"),
          (BEN, "learner", None), (MIA, "learner", None), (LIV, "learner", None), (MAX, "learner", None),
          (LEO, "learner", None)]


@contextlib.contextmanager
def cohort_world(database_url, packs_dir: Path, clock, people, **settings_changes):
    """A LocalWorkspace on ``packs_dir`` (its ``tracks/`` folder included), wired by app.build."""
    settings = dataclasses.replace(app.Settings(), database_url=database_url, content_packs_dir=packs_dir,
                                   reminder_after_hours=0, **settings_changes)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=people,
                        build_options={"listener_workers": 8}) as ws:
        ws.cohorts, ws.tracks = ws.sprout.cohorts, ws.sprout.tracks
        yield ws


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", packs / "security-basics")
    clock = SimulatedClock(SUNDAY)
    with cohort_world(database_url, packs, clock, [p for p, _, _ in ROSTER] + [ZOE]) as ws:
        ws.sprout.store.import_roster(
            [RosterRow(i + 2, p.user_id, p.name, None, role, None, team, p.tz, ())
             for i, (p, role, team) in enumerate(ROSTER)], SUNDAY - timedelta(days=30))
        ws.guild = ws.emulator.add_channel("security-guild", members=[BEN.user_id, ZOE.user_id])
        yield ws


# -- helpers -------------------------------------------------------------------------------------


def command(ws, person, text):
    """``/learn <text>`` as ``person``; the reply's text and blocks' text, joined."""
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    reply = ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]
    texts = [reply.get("text") or ""]
    for b in reply.get("blocks") or []:
        texts += [b["text"]["text"]] if isinstance(b.get("text"), dict) else []
        texts += [e.get("text", "") for e in b.get("elements") or [] if b["type"] == "context"]
    return "\n".join(texts)


def run_until(ws, end: datetime) -> None:
    """Tick at every instant a lesson falls due, up to ``end``, as the scheduler would."""
    while True:
        ws.sprout.tick()
        due = ws.sprout.next_due(ws.clock())
        if due is None or due > end:
            break
        ws.clock.set(due)
    ws.clock.set(end)
    ws.sprout.tick()


def deliveries(ws, person):
    """(lesson id, kind, local date, sent at in the person's zone), in order."""
    with ws.sprout.engine.connect() as conn:
        rows = conn.execute(
            select(Delivery.lesson_id, Delivery.kind, Delivery.local_date, Delivery.sent_at)
            .join(Learner, Learner.id == Delivery.learner_id)
            .where(Learner.slack_user_id == person.user_id, Delivery.status == "sent")
            .order_by(Delivery.id)
        ).all()
    return [(lesson, kind, day, sent.astimezone(ZoneInfo(person.tz))) for lesson, kind, day, sent in rows]


def answer(ws, person, lesson_id, *, right=True):
    """Answer the lesson's first question, right or wrong, by pressing its button."""
    with ws.sprout.engine.connect() as conn:
        channel, ts = conn.execute(
            select(Delivery.channel_id, Delivery.message_ts)
            .join(Learner, Learner.id == Delivery.learner_id)
            .where(Learner.slack_user_id == person.user_id, Delivery.lesson_id == lesson_id)
        ).one()
    message = {**ws.emulator.message(channel, ts), "channel": channel}
    first = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"].startswith("answer:"))
    value = json.loads(first["value"])
    question = ws.sprout.service.question_for(person.user_id, value, value["q"])
    choice = question.correct_index if right else (question.correct_index + 1) % len(question.options)
    ws.driver.click(person.user_id, message, action_id=f"answer:{choice}")
    # The message is redrawn last, after the answer, its review card and any certificate are stored.
    ws.emulator.wait_for(lambda: any(b.get("block_id") == f"result:{question.id}"
                                     for b in ws.emulator.message(channel, ts)["blocks"]))


def counts(ws):
    with ws.sprout.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (Cohort, CohortMember, Enrollment, AuditEntry))


def enrollment(ws, person, pack_id="security-basics"):
    with ws.sprout.engine.connect() as conn:
        return conn.execute(
            select(Enrollment.__table__).join(Learner, Learner.id == Enrollment.learner_id)
            .where(Learner.slack_user_id == person.user_id, Enrollment.pack_id == pack_id)
        ).one()


# -- the rules -----------------------------------------------------------------------------------


TINY = parse_pack(
    "id: tiny\ntitle: Tiny\ndescription: d\nversion: 1\nschedule: {days: [mon], time: \"09:00\"}\nlessons:\n"
    + "".join(f"  - {{id: l{i}, title: L{i}, minutes: 1, body: b, quiz: [{{id: q, prompt: p, answer: true, "
              f"explain: e}}]}}\n" for i in range(1, 6)),
    Path("tiny/pack.yaml"),
)


@pytest.mark.parametrize(
    ("positions", "expected"),
    [([], 0), ([0, 0, 0], 0), ([1, 0, 0], 0), ([1, 1, 0], 1), ([3, 3, 3, 1, 0], 3), ([4, 3, 0, 0], 3),
     ([5, 4, 3, 2, 1], 3), ([2], 2), ([3, 0], 3)],
)
def test_the_current_lesson_is_the_furthest_that_at_least_half_the_cohort_has_reached(positions, expected):
    assert current_position(positions) == expected


def test_where_late_members_begin_and_who_is_behind():
    current = current_lesson(TINY, [3, 3, 2])
    assert current.id == "l3"
    assert joining_lesson("current", current) == "l3" and joining_lesson("start", current) is None
    assert joining_lesson("current", None) is None, "before the cohort has started: from the first lesson"
    assert skipped(TINY, "l3") == 2
    assert standing(answered_lessons=0, done=0, skipped_lessons=2, current=3) == "not_started"
    assert standing(answered_lessons=1, done=1, skipped_lessons=2, current=3) == "on_track"
    assert standing(answered_lessons=2, done=2, skipped_lessons=0, current=3) == "behind"
    assert pack_finished(TINY, {"l3", "l4", "l5"}, {("l3", "q"), ("l4", "q"), ("l5", "q")}, "l3")
    assert not pack_finished(TINY, {"l1", "l2", "l3", "l4", "l5"}, {("l1", "q")})


def test_commands_read_both_kinds_of_mention_and_plain_names():
    name, rest = split_name('"Autumn 2026" <@U0ANA|ana> <@W0BEN> @Liv Kumar team Platform Ops '
                            "<#C0GUILD|security-guild> channel #general <#G0PRIV|> pizza")
    assert name == "Autumn 2026"
    targets, leftovers = parse_targets(rest)
    assert [(t.kind, t.value) for t in targets] == [
        ("user", "U0ANA"), ("user", "W0BEN"), ("user_name", "Liv Kumar"), ("team", "Platform Ops"),
        ("channel", "C0GUILD"), ("channel_name", "general"), ("channel", "G0PRIV")]
    assert leftovers == ["pizza"]
    assert split_name("Autumn @ana") == ("Autumn", "@ana")
    assert parse_targets("<!here> @ana")[1] == ["<!here>"]
    created = parse_create("“Spring 2027” security-basics 2027-03-01 join start")
    assert (created.name, created.pack_id, created.start_on, created.join_mode) == (
        "Spring 2027", "security-basics", date(2027, 3, 1), "start")
    with pytest.raises(SproutError, match="not a date"):
        parse_create("Spring security-basics 1 March")
    with pytest.raises(SproutError, match="join current"):
        parse_create("Spring security-basics 2027-03-01 join later")


# -- end to end ----------------------------------------------------------------------------------


def test_a_cohort_across_three_zones_starts_together_and_late_members_join(world, monkeypatch):
    monkeypatch.setattr(bot.cohorts, "PAGE_SIZE", 1)  # every list Slack pages through takes several pages
    pack = world.sprout.catalog.get("security-basics")
    titles = {lesson.id: lesson.title for lesson in pack.lessons}

    # Mia takes the pack on her own and has had its first lesson.
    command(world, MIA, "enroll security-basics")
    command(world, MIA, "next")
    assert [(lesson, kind) for lesson, kind, *_ in deliveries(world, MIA)] == [("spot-phishing", "on_demand")]

    reply = command(world, FAC, 'cohort create "Autumn 2026" security-basics 2026-12-01 join current')
    assert "Cohort *Autumn 2026* created" in reply and "Tue 01 Dec 2026" in reply
    assert "created" in command(world, FAC, "cohort create Latecomers security-basics 2026-12-01 join start")
    assert "already a cohort" in command(world, FAC, "cohort create autumn 2026 security-basics 2026-12-01")

    reply = command(world, FAC, f'cohort add "Autumn 2026" team platform <#{world.guild}|security-guild> '
                                f"<@{MIA.user_id}|mia> @nobody here")
    assert "Added to *Autumn 2026*: <@U0ANA>, <@U0RAVI>, <@U0BEN>, <@U0ZOE>." in reply
    assert "Moved from their own schedule into the cohort's: <@U0MIA>" in reply
    assert "@nobody here (nobody by that name" in reply
    assert "Lessons start on *Tue 01 Dec 2026*" in reply
    members = world.emulator.calls("conversations.members")
    assert len(members) == 3, "the channel's three members (two people and Sprout) came one page at a time"
    assert world.sprout.store.learner(ZOE.user_id).slack_timezone == "Asia/Kolkata", "created from Slack"
    for person in (ANA, RAVI, BEN, ZOE, MIA):
        row = enrollment(world, person)
        assert (row.starts_on, row.start_lesson_id, row.status) == (START, None, "active")
        assert row.cohort_id is not None

    # Nothing before the start date: Monday's 09:30 passes in Kolkata, Berlin and New York.
    run_until(world, datetime(2026, 12, 1, 3, 59, tzinfo=UTC))
    for person in (ANA, RAVI, BEN, ZOE):
        assert deliveries(world, person) == []
    assert len(deliveries(world, MIA)) == 1

    # On the start date each gets the first lesson at 09:30 in their own zone; Mia the next one she hasn't had.
    run_until(world, datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    for person in (ANA, RAVI, BEN, ZOE):
        [(lesson, kind, day, sent)] = deliveries(world, person)
        assert (lesson, kind, day, f"{sent:%Y-%m-%d %H:%M}") == (
            "spot-phishing", "scheduled", START, "2026-12-01 09:30"), person
    assert [lesson for lesson, *_ in deliveries(world, MIA)] == ["spot-phishing", "passphrases"]
    answer(world, ANA, "spot-phishing")
    answer(world, RAVI, "spot-phishing")
    answer(world, MIA, "passphrases")

    run_until(world, datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    answer(world, ANA, "passphrases", right=False)
    answer(world, MIA, "password-managers")
    run_until(world, datetime(2026, 12, 3, 20, 0, tzinfo=UTC))
    answer(world, ANA, "password-managers")

    # Three lessons in: who is behind, who has not started, everyone's figures.
    status = command(world, FAC, "cohort status autumn 2026")
    assert f"current lesson 3 of 10: *{titles['password-managers']}*" in status
    assert "*Behind* (2): <@U0MIA>, <@U0RAVI>" in status
    assert "*Not started* (2): <@U0BEN>, <@U0ZOE>" in status
    assert "<@U0ANA> · 3 of 10 lessons done · 67% right · Europe/Berlin" in status
    assert "<@U0RAVI> · 1 of 10 lessons done · 100% right · Asia/Kolkata" in status
    assert "<@U0BEN> · 0 of 10 lessons done · America/New_York" in status

    # Late members: Liv (plain @name, as Slack sends it unescaped) at the current lesson; Max from the start.
    reply = command(world, FAC, 'cohort add "Autumn 2026" @Liv Kumar')
    assert "Added to *Autumn 2026*: <@U0LIV>." in reply
    assert f"current lesson, 3 of 10: *{titles['password-managers']}*" in reply
    reply = command(world, FAC, f"cohort add Latecomers <@{MAX.user_id}>")
    assert "Added to *Latecomers*: <@U0MAX>." in reply and "first lesson" in reply
    assert enrollment(world, LIV).start_lesson_id == "password-managers"
    assert enrollment(world, MAX).start_lesson_id is None
    reply = command(world, FAC, f"cohort add Latecomers <@{MIA.user_id}|mia>")
    assert "Taking this pack in another cohort, so left there: <@U0MIA>" in reply

    run_until(world, datetime(2026, 12, 4, 20, 0, tzinfo=UTC))
    [(lesson, _, day, sent)] = deliveries(world, LIV)
    assert (lesson, day, f"{sent:%H:%M}") == ("password-managers", date(2026, 12, 4), "09:30")
    [(lesson, _, day, sent)] = deliveries(world, MAX)
    assert (lesson, day, f"{sent:%H:%M}") == ("spot-phishing", date(2026, 12, 4), "09:30")
    assert deliveries(world, ANA)[-1][0] == "mfa"
    answer(world, LIV, "password-managers")
    status = command(world, FAC, "cohort status Autumn 2026")
    assert (f"<@U0LIV> · 3 of 10 lessons done · 100% right · joined at _{titles['password-managers']}_"
            in status), "the two lessons she skipped count as done"

    # The facilitator's Home: a line per cohort, and its detail a click away.
    now = world.clock()
    home = world.sprout.service.home(FAC.user_id, now)
    world.sprout.bolt.client.views_publish(
        user_id=FAC.user_id, view=blocks.home_view(home, role_sections=world.cohorts.home_blocks(FAC.user_id, now)))
    view = world.emulator.wait_for(lambda: world.emulator.home_view(FAC.user_id))
    line = next(b for b in view["blocks"] if b.get("block_id", "").startswith("home-cohort:")
                and "Autumn" in b["text"]["text"])
    assert "6 people" in line["text"]["text"] and "current lesson 4 of 10" in line["text"]["text"]
    world.driver.click(FAC.user_id, view, action_id="cohort_status", value=line["accessory"]["value"])
    modal = world.emulator.wait_for(lambda: world.emulator.open_views(FAC.user_id))[-1]
    assert modal["blocks"][0]["text"]["text"] == "Autumn 2026 — Security Basics"
    assert "cohort-behind" in {b.get("block_id") for b in modal["blocks"]}


def test_a_plain_learner_is_refused_every_cohort_command_and_button_and_nothing_is_written(world, caplog):
    command(world, FAC, "cohort create Autumn security-basics 2026-12-01")
    command(world, FAC, f"cohort add Autumn <@{ANA.user_id}>")
    now = world.clock()
    world.sprout.bolt.client.views_publish(
        user_id=FAC.user_id,
        view=blocks.home_view(world.sprout.service.home(FAC.user_id, now),
                              role_sections=world.cohorts.home_blocks(FAC.user_id, now)))
    facilitator_home = world.emulator.wait_for(lambda: world.emulator.home_view(FAC.user_id))
    assert world.cohorts.home_blocks(LEO.user_id, now) == [], "no cohort section on a learner's Home"
    before = counts(world)
    assert before == (1, 1, 1, 2), "the cohort, Ana, her enrollment; the facilitator's two changes audited"

    caplog.set_level(logging.INFO)
    for text in ("cohort create Mine security-basics 2026-12-01", f"cohort add Autumn <@{LEO.user_id}>",
                 "cohort add Autumn team Platform", "cohort status Autumn", "cohort list"):
        reply = command(world, LEO, text)
        assert "Only facilitators" in reply and "Your role in Sprout is learner" in reply, text
    # A forged click on the facilitator's Progress button.
    button = next(e["accessory"] for e in facilitator_home["blocks"]
                  if e.get("accessory", {}).get("action_id") == "cohort_status")
    world.driver.click(LEO.user_id, facilitator_home, action_id="cohort_status", value=button["value"])
    refusal = world.emulator.wait_for(lambda: world.emulator.open_views(LEO.user_id))[-1]
    assert "Only facilitators" in refusal["blocks"][0]["text"]["text"]
    assert counts(world) == before
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refused) == 6 and all(LEO.user_id in r for r in refused)
