"""Community prompts end to end: scheduled with ``/learn prompt`` over signed HTTP, posted weekly at the
facilitator's local time through the outbox into an emulated channel, and replies in the thread counted
once per message — under Slack's retries and when the same message comes again with a new event id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import AuditEntry, Contribution, DiscussionPrompt, PromptPost
from sandbox.clock import SimulatedClock
from tests.e2e.test_announcements import FAC, SUNDAY, command, count, make_world, records, roster

PACK = """\
id: talk
title: Talking Points
description: A pack with discussion prompts.
version: 1
schedule: {days: [mon], time: "09:00"}
lessons:
  - id: one
    title: One
    minutes: 2
    body: A lesson.
discussion:
  - "What is one **habit** you changed this week?"
  - "Share a <!here> moment & what you did about it."
"""
MONDAY_10_BERLIN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    (packs / "talk").mkdir(parents=True)
    (packs / "talk" / "pack.yaml").write_text(PACK)
    clock = SimulatedClock(SUNDAY)
    with make_world(database_url, clock, packs_dir=packs) as ws:
        ws.clock = clock
        roster(ws, [(FAC.user_id, FAC.name, "facilitator", None, FAC.tz),
                    ("U0A", "Ann", "learner", None, "UTC"), ("U0B", "Bob", "learner", None, "Asia/Tokyo")])
        ws.channel = ws.emulator.add_channel("community", members=[FAC.user_id, "U0A", "U0B"])
        yield ws


def posts(ws):
    return ws.emulator.messages(ws.channel, include_replies=False)


def at(ws, when):
    ws.clock.set(when)
    ws.sprout.tick()


def berlin(message):
    return datetime.fromtimestamp(float(message["ts"]), UTC).astimezone(ZoneInfo("Europe/Berlin"))


def test_prompts_post_weekly_at_the_facilitators_local_time(world):
    reply = command(world, FAC.user_id, f"prompt <#{world.channel}|community> mon 10:00 pack talk")
    assert "every Monday at 10:00 (Europe/Berlin)" in reply and "The first goes on Mon 30 Nov" in reply
    reply = command(world, FAC.user_id, "prompt #community wed 18:30 What did you **try**? <!channel> & co")
    assert "Prompt #2: every Wednesday at 18:30" in reply and "&lt;!channel&gt;" in reply
    secret = world.emulator.add_channel("secret-club", bot_is_member=False)
    assert "invite me" in command(world, FAC.user_id, f"prompt <#{secret}> mon 10:00 Hello")
    assert "no pack called `nope`" in command(world, FAC.user_id, f"prompt <#{world.channel}> mon 10:00 pack nope")
    assert "not a weekday" in command(world, FAC.user_id, f"prompt <#{world.channel}> someday 10:00 Hi")
    assert count(world, DiscussionPrompt) == 2
    assert count(world, AuditEntry, AuditEntry.action == "prompt") == 2

    at(world, SUNDAY)
    at(world, MONDAY_10_BERLIN - timedelta(minutes=1))
    assert posts(world) == []
    at(world, MONDAY_10_BERLIN)
    at(world, MONDAY_10_BERLIN + timedelta(minutes=30))  # again the same day: nothing twice
    [first] = posts(world)
    assert berlin(first).strftime("%a %H:%M") == "Mon 10:00"
    assert "What is one *habit* you changed this week?" in first["blocks"][1]["text"]["text"]

    at(world, datetime(2026, 12, 2, 17, 30, tzinfo=UTC))  # Wednesday 18:30 in Berlin
    typed = posts(world)[-1]
    assert berlin(typed).strftime("%a %H:%M") == "Wed 18:30"
    text = typed["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; &amp; co" in text and "*try*" in text and "<!channel>" not in text

    at(world, MONDAY_10_BERLIN + timedelta(days=7))
    second = posts(world)[-1]
    assert "Share a &lt;!here&gt; moment &amp; what you did about it." in second["blocks"][1]["text"]["text"]
    listing = command(world, FAC.user_id, "prompt list")
    assert "*#1* in <#" in listing and "*Talking Points*, prompt 1 of 2 next" in listing and "2 posted" in listing

    assert "is stopped" in command(world, FAC.user_id, "prompt stop 2")
    assert "already stopped" in command(world, FAC.user_id, "prompt stop 2")
    at(world, datetime(2026, 12, 9, 17, 30, tzinfo=UTC))  # the stopped Wednesday prompt: nothing
    at(world, MONDAY_10_BERLIN + timedelta(days=14))  # the pack's prompts, in turn: back to the first
    assert [berlin(p).strftime("%d %b") for p in posts(world)] == ["30 Nov", "02 Dec", "07 Dec", "14 Dec"]
    assert "habit" in posts(world)[-1]["blocks"][1]["text"]["text"]

    # A Monday missed entirely (Sprout down all day) is not made up on Tuesday.
    at(world, MONDAY_10_BERLIN + timedelta(days=22))
    assert len(posts(world)) == 4


def test_thread_replies_are_counted_once_under_event_retries(world):
    command(world, FAC.user_id, f"prompt <#{world.channel}> mon 10:00 What did you try this week?")
    world.clock.set(MONDAY_10_BERLIN)
    world.sprout.tick()
    [post] = posts(world)
    with world.sprout.engine.connect() as conn:
        assert conn.execute(select(PromptPost.message_ts)).scalar_one() is None, "not settled before the first reply"

    world.clock.set(MONDAY_10_BERLIN + timedelta(minutes=5))
    first = world.driver.user_message("U0A", world.channel, "I tried pairing", thread_ts=post["ts"])
    assert count(world, Contribution) == 1, "the reply found its post (the ts looked up on the spot)"
    # Slack retries the same delivery (same event id): dropped by the app's event-id check.
    world.driver.event(first.payload["event"], event_id=first.payload["event_id"], retry_num=1,
                       retry_reason="http_timeout")
    # The same message again under a new event id: the (post, message ts) key holds.
    world.driver.event(first.payload["event"])
    assert count(world, Contribution) == 1

    world.driver.user_message("U0B", world.channel, "Shorter meetings", thread_ts=post["ts"])
    world.driver.user_message("U0B", world.channel, "and no-meeting Fridays", thread_ts=post["ts"])
    world.emulator.add_user("U0NEW", name="Nia New", tz="America/Chicago")  # not in Sprout yet
    world.emulator.join_channel(world.channel, "U0NEW")
    world.driver.user_message("U0NEW", world.channel, "Hello all", thread_ts=post["ts"])

    # Not contributions: a top-level message, a reply in another thread, an edit, a bot's reply.
    other = world.driver.user_message("U0A", world.channel, "Lunch?").payload["event"]
    world.driver.user_message("U0B", world.channel, "Yes!", thread_ts=other["ts"])
    world.driver.event({"type": "message", "subtype": "message_changed", "channel": world.channel, "user": "U0A",
                        "ts": "1795000000.000100", "thread_ts": post["ts"], "hidden": True,
                        "message": {"type": "message", "user": "U0A", "text": "I tried pairing!",
                                    "ts": first.payload["event"]["ts"], "thread_ts": post["ts"]}})
    world.driver.event({"type": "message", "channel": world.channel, "user": world.emulator.bot_user_id,
                        "bot_id": world.emulator.bot_id, "text": "Thanks!", "ts": "1795000000.000200",
                        "thread_ts": post["ts"]})

    assert count(world, Contribution) == 4
    ids = {u: world.sprout.store.learner(u).id for u in ("U0A", "U0B", "U0NEW")}
    assert world.sprout.store.learner("U0NEW").name == "Nia New", "a newcomer becomes a learner"
    week = records(world).contributions(MONDAY_10_BERLIN, MONDAY_10_BERLIN + timedelta(days=7))
    assert week == {ids["U0A"]: 1, ids["U0B"]: 2, ids["U0NEW"]: 1}
    assert records(world).contributions(MONDAY_10_BERLIN, MONDAY_10_BERLIN + timedelta(days=7),
                                        [ids["U0B"]]) == {ids["U0B"]: 2}
    assert "4 replies" in command(world, FAC.user_id, "prompt list")


def test_contributions_appear_in_the_managers_digest(world):
    from learning.roster import RosterRow

    world.sprout.store.import_roster([
        RosterRow(2, "U0MGR", "Mia Manager", None, "manager", None, None, "Europe/Berlin", ()),
        RosterRow(3, "U0A", "Ann", None, "learner", "U0MGR", None, "UTC", ()),
        RosterRow(4, "U0B", "Bob", None, "learner", "U0MGR", None, "Asia/Tokyo", ()),
    ], world.clock())
    world.emulator.add_user("U0MGR", name="Mia Manager", tz="Europe/Berlin")
    command(world, FAC.user_id, f"prompt <#{world.channel}> mon 10:00 What did you try this week?")
    at(world, MONDAY_10_BERLIN)
    [post] = posts(world)
    world.clock.set(MONDAY_10_BERLIN + timedelta(minutes=30))
    world.driver.user_message("U0A", world.channel, "Pairing", thread_ts=post["ts"])
    world.driver.user_message("U0B", world.channel, "Shorter meetings", thread_ts=post["ts"])
    world.driver.user_message("U0B", world.channel, "No-meeting Fridays", thread_ts=post["ts"])
    world.clock.set(MONDAY_10_BERLIN + timedelta(hours=2))
    world.driver.command("U0MGR", "/learn", "digest")
    reply = world.emulator.wait_for(lambda: world.emulator.ephemerals("U0MGR"))[-1]
    fields = [f["text"] for b in reply["blocks"] if b.get("block_id") == "figures" for f in b["fields"]]
    assert any(f.startswith("*Discussion replies*\n3") for f in fields), json.dumps(fields)
