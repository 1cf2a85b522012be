"""Mentoring pairs end to end over signed HTTP against the emulator: a facilitator starts pairing in a
channel or a cohort, a round pairs people and opens their group DMs (multi-person DMs, as Slack opens
them) with a first prompt from their latest lesson, a second round avoids repeats, "did you meet?" is
asked once and recorded once per person, opt-outs and snoozes are respected, a non-facilitator is refused,
and the manager's digest and the organisation report count the meetings.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.pairing import MET_NO_ACTION, MET_YES_ACTION
from db.models import AuditEntry, OutboxMessage, Pair, PairAnswer, PairingProgramme, PairingRound, PairMember
from learning.roster import RosterRow
from sandbox.clock import SimulatedClock
from tests.e2e.test_announcements import FAC, command, count, make_world
from tests.e2e.test_digest import all_text

PACK = """\
id: talk
title: Talking Points
description: A pack to talk about.
version: 1
schedule: {days: [mon], time: "09:00"}
lessons:
  - id: one
    title: Feedback that lands
    minutes: 2
    body: A lesson.
    reflect: "When did feedback <!here> last *change* what you did?"
"""
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PEOPLE = [("U0ANN", "Ann", "Europe/Berlin"), ("U0BOB", "Bob", "Europe/London"), ("U0CAT", "Cat", "Europe/Paris"),
          ("U0DAN", "Dan", "America/New_York"), ("U0EVE", "Eve", "America/Chicago")]
MGR = "U0MGR"


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    (packs / "talk").mkdir(parents=True)
    (packs / "talk" / "pack.yaml").write_text(PACK)
    clock = SimulatedClock(MONDAY)
    with make_world(database_url, clock, packs_dir=packs) as ws:
        ws.clock = clock
        rows = [RosterRow(2, FAC.user_id, FAC.name, None, "facilitator", None, None, FAC.tz, ()),
                RosterRow(3, MGR, "Mia Manager", None, "manager", None, "crew", "Europe/Berlin", ())]
        rows += [RosterRow(4 + i, uid, name, None, "learner", MGR, "crew", tz, ())
                 for i, (uid, name, tz) in enumerate(PEOPLE)]
        ws.sprout.store.import_roster(rows, clock())
        ws.emulator.add_user(MGR, name="mia", real_name="Mia Manager", tz="Europe/Berlin")
        for uid, name, tz in PEOPLE:
            ws.emulator.add_user(uid, name=name.lower(), real_name=name, tz=tz)
        ws.channel = ws.emulator.add_channel("mentoring", members=[p[0] for p in PEOPLE])
        yield ws


def at(ws, when):
    ws.clock.set(when)
    ws.sprout.tick()


def groups_of(ws, number):
    """The groups of a round, as sets of Slack ids."""
    ids = {ws.sprout.store.learner(uid).id: uid for uid, _, _ in PEOPLE}
    with ws.sprout.engine.connect() as conn:
        rows = conn.execute(select(PairMember.pair_id, PairMember.learner_id)
                            .join(Pair, Pair.id == PairMember.pair_id)
                            .join(PairingRound, PairingRound.id == Pair.round_id)
                            .where(PairingRound.number == number)).all()
    out: dict[int, set] = {}
    for pair_id, learner_id in rows:
        out.setdefault(pair_id, set()).add(ids[learner_id])
    return out


def kinds_in(ws, channel, kind):
    return [m for m in ws.emulator.messages(channel)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == kind]


def test_pairs_in_a_channel_meet_answer_once_and_count_in_the_digest_and_report(world):
    # A learner may not start pairing: refused by the stored role, nothing written.
    refused = command(world, "U0ANN", f"pairs start <#{world.channel}|mentoring> every 2 weeks")
    assert "Only facilitators" in refused
    assert count(world, PairingProgramme) == 0
    assert "not a channel or a cohort" in command(world, FAC.user_id, "pairs start everyone every 2 weeks")
    assert "every 1 to 12 weeks" in command(world, FAC.user_id, "pairs start #mentoring every 0 weeks")
    assert count(world, PairingProgramme) == 0

    # The pairs' latest lesson: four of them had "Feedback that lands".
    for uid, _, _ in PEOPLE[:4]:
        command(world, uid, "enroll talk")
        command(world, uid, "next talk")
    world.sprout.dispatcher.dispatch()

    reply = command(world, FAC.user_id, f"pairs start <#{world.channel}|mentoring> every 2 weeks")
    assert "Pairs #1" in reply and "every 2 weeks" in reply
    again = command(world, FAC.user_id, "pairs start #mentoring every 2 weeks")  # the same, typed again
    assert "already running" in again
    assert count(world, PairingProgramme) == 1
    assert count(world, AuditEntry, AuditEntry.action == "pairs_start") == 1

    at(world, MONDAY + timedelta(minutes=1))
    at(world, MONDAY + timedelta(minutes=2))  # again: no second round, no second message
    first = groups_of(world, 1)
    assert sorted(len(g) for g in first.values()) == [2, 3], "five people: a pair and one group of three"
    assert set(itertools.chain(*first.values())) == {p[0] for p in PEOPLE}
    dms = world.emulator.group_dms()
    assert {frozenset(p) for p in dms.values()} == {frozenset(g) for g in first.values()}, "one group DM each"
    for channel, people in dms.items():
        [intro] = kinds_in(world, channel, "pair_intro")
        text = all_text(intro)
        assert "Meet your learning pair" in text and all(f"<@{p}>" in text for p in people)
        assert "*Feedback that lands*" in text, "the lesson they had most recently"
        assert "&lt;!here&gt;" in text and "<!here>" not in text, "a pack author's text is escaped"
        assert kinds_in(world, channel, "pair_check_in") == [], "asked halfway through, not now"

    # Halfway through the round: "did you meet?", once per group however often the planner runs.
    at(world, MONDAY + timedelta(days=7, minutes=1))
    at(world, MONDAY + timedelta(days=7, minutes=5))
    pair_channel, pair_people = next((c, p) for c, p in dms.items() if len(p) == 2)
    [question] = kinds_in(world, pair_channel, "pair_check_in")
    assert all(len(kinds_in(world, c, "pair_check_in")) == 1 for c in dms)

    someone_else = next(p[0] for p in PEOPLE if p[0] not in pair_people)
    before = len(world.emulator.ephemerals(someone_else))
    world.driver.click(someone_else, {"channel": pair_channel, "ts": question["ts"]}, action_id=MET_YES_ACTION)
    assert world.emulator.wait_for(lambda: world.emulator.ephemerals(someone_else)[before:])[-1]["text"] == \
        "This question is for the people of this pair."
    assert count(world, PairAnswer) == 0, "someone outside the pair is refused"

    clicker = pair_people[0]
    before = len(world.emulator.ephemerals(clicker))
    world.driver.click(clicker, {"channel": pair_channel, "ts": question["ts"]}, action_id=MET_YES_ACTION)
    world.driver.click(clicker, {"channel": pair_channel, "ts": question["ts"]}, action_id=MET_YES_ACTION)
    world.driver.click(clicker, {"channel": pair_channel, "ts": question["ts"]}, action_id=MET_NO_ACTION)
    replies = world.emulator.wait_for(lambda: (r := world.emulator.ephemerals(clicker)[before:])[2:] and r)
    assert "Noted: you met" in replies[0]["text"] and "answered already" in replies[-1]["text"]
    assert count(world, PairAnswer) == 1, "a double click (and a change of mind) makes one record"
    with world.sprout.engine.connect() as conn:
        assert conn.execute(select(PairAnswer.met)).scalar_one() is True

    # The manager's digest counts the pair that met (aggregated in SQL), and so does the report.
    world.clock.set(MONDAY + timedelta(days=7, minutes=30))
    digest = _digest(world)
    [met] = [f["text"] for b in digest["blocks"] for f in b.get("fields", []) if " met" in f["text"]]
    assert "1 pair met" in met  # beside the communities of practice: Slack allows ten fields
    assert _report_totals(world).meetings == 1

    # Eve opts out; Dan snoozes then comes back. Round 2 leaves Eve out and repeats no pair of round 1.
    assert "out of the pairing rounds" in command(world, "U0EVE", "pairs optout")
    assert "No new pairs for you until" in command(world, "U0DAN", "pairs snooze 4 weeks")
    assert "You're snoozed" in command(world, "U0DAN", "pairs")
    assert "You're in" in command(world, "U0DAN", "pairs optin")
    assert "Snooze for how long" in command(world, "U0DAN", "pairs snooze forever")
    at(world, MONDAY + timedelta(days=14, minutes=1))
    second = groups_of(world, 2)
    members = set(itertools.chain(*second.values()))
    assert "U0EVE" not in members and members == {"U0ANN", "U0BOB", "U0CAT", "U0DAN"}
    before = {frozenset(pair) for g in first.values() for pair in itertools.combinations(sorted(g), 2)}
    for g in second.values():
        assert frozenset(g) not in before, f"round 2 repeated {g}"

    listing = command(world, FAC.user_id, "pairs")
    assert "*#1*" in listing and "2 rounds" in listing and "1 met" in listing
    assert "Only facilitators" in command(world, "U0ANN", "pairs stop 1")
    assert "are stopped" in command(world, FAC.user_id, "pairs stop 1")
    at(world, MONDAY + timedelta(days=21, minutes=1))  # round 2's check-ins are cancelled with the programme
    with world.sprout.engine.connect() as conn:
        waiting = conn.execute(select(OutboxMessage.status).where(OutboxMessage.kind == "pair_check_in")).scalars()
        assert "pending" not in set(waiting)
    at(world, MONDAY + timedelta(days=28, minutes=1))
    assert groups_of(world, 3) == {}


def _digest(ws):
    before = len(ws.emulator.ephemerals(MGR))
    ws.driver.command(MGR, "/learn", "digest")
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(MGR)[before:])[-1]


def _report_totals(ws):
    from db.reporting import Reporting

    now = ws.clock()
    return Reporting(ws.sprout.engine).totals(now - timedelta(days=30), now + timedelta(seconds=1))


def test_pairs_in_a_cohort_leave_out_who_is_out_and_a_crash_or_retry_sends_nothing_twice(world):
    command(world, FAC.user_id, "cohort create Autumn talk 2026-11-30")
    command(world, FAC.user_id, "cohort add Autumn <@U0ANN> <@U0BOB> <@U0CAT> <@U0DAN>")
    assert "out of the pairing" in command(world, "U0CAT", "pairs optout")
    assert "No new pairs for you until *Mon 28 Dec*" in command(world, "U0DAN", "pairs snooze 4 weeks")
    assert "There is no cohort called *Spring*" in command(world, FAC.user_id, "pairs start cohort Spring")
    reply = command(world, FAC.user_id, "pairs start cohort Autumn every 1 week")
    assert "cohort *Autumn*" in reply and "every week" in reply

    # The round is made, then the process dies right after Slack opened the group DM and before Sprout
    # recorded it: the next run opens it again (Slack gives the same conversation) and sends one intro.
    planner = next(p for p in world.sprout.planners if "PairingPlanner" in getattr(p, "__qualname__", ""))
    pairing = planner.__self__
    real_open = pairing.open_group

    def open_then_die(ids):
        real_open(ids)
        raise ConnectionError("the process died here")

    now = MONDAY + timedelta(minutes=1)
    world.clock.set(now)
    pairing.open_group = open_then_die
    try:
        planner(now)
    finally:
        pairing.open_group = real_open
    assert len(world.emulator.group_dms()) == 1 and count(world, OutboxMessage, OutboxMessage.kind == "pair_intro") == 0
    planner(now)
    planner(now)  # a second planner at the same instant (another instance, a retry): nothing twice
    world.sprout.tick()
    assert [sorted(g) for g in groups_of(world, 1).values()] == [["U0ANN", "U0BOB"]], "Cat and Dan are out"
    [channel] = world.emulator.group_dms()
    assert len(kinds_in(world, channel, "pair_intro")) == 1
    assert count(world, OutboxMessage, OutboxMessage.kind == "pair_intro") == 1
    assert count(world, PairingRound) == 1

    # A week later Ann and Bob are the only ones in: they meet again (nobody new to meet), in the same
    # group DM Slack gives the same people. Dan's snooze ends after four weeks and he is back.
    at(world, MONDAY + timedelta(days=7, minutes=1))
    assert [sorted(g) for g in groups_of(world, 2).values()] == [["U0ANN", "U0BOB"]]
    assert list(world.emulator.group_dms()) == [channel]
    assert len(kinds_in(world, channel, "pair_intro")) == 2
    at(world, MONDAY + timedelta(days=28, minutes=1))
    assert set(itertools.chain(*groups_of(world, 5).values())) == {"U0ANN", "U0BOB", "U0DAN"}
