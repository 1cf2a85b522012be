"""Announcements end to end over signed HTTP against the emulator (which validates every view and message
against Slack's limits): the form, 500 copies with acknowledgements and one reminder, scheduled in each
person's zone and cancelled, audiences by cohort, team and channel, and every privileged path refused to
a plain learner.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

import app
from bot.announcements import ACK_ACTION, AUDIENCE_ACTION, WHEN_ACTION, FormChoices, announce_modal
from bot.announcements import announcement_message as copy_message
from db.facilitation import AnnouncementView, Recipient
from db.models import (
    Announcement,
    AnnouncementReceipt,
    AuditEntry,
    Cohort,
    CohortMember,
    DiscussionPrompt,
    Learner,
    OutboxMessage,
)
from learning.roster import RosterRow
from sandbox import blockkit
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person
from scheduler.announcements import copy_times

FAC = Person("U0FAC", "Fay Facilitator", "Europe/Berlin")
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NASTY = "Hi <!channel> & <@U0FAC> <https://evil.example|https://good.example> **bold**"


def make_world(database_url, clock, packs_dir=None, people=(FAC,)):
    settings = dataclasses.replace(app.Settings(), database_url=database_url, reminder_after_hours=0,
                                   rate_per_minute=1_000_000, burst=10_000, senders=16,
                                   **({"content_packs_dir": packs_dir} if packs_dir else {}))
    return LocalWorkspace(build=app.build, settings=settings, clock=clock, people=list(people),
                          build_options={"listener_workers": 16})


@pytest.fixture
def world(database_url):
    clock = SimulatedClock(SUNDAY)
    with make_world(database_url, clock) as ws:
        ws.clock = clock
        roster(ws, [(FAC.user_id, FAC.name, "facilitator", None, FAC.tz)])
        yield ws


def roster(ws, rows, *, emulator=True):
    """(user id, name, role, team, time zone): in Sprout's records (and as Slack users)."""
    ws.sprout.store.import_roster([RosterRow(i + 2, uid, name, None, role, None, team, tz, ())
                                   for i, (uid, name, role, team, tz) in enumerate(rows)], ws.clock())
    if emulator:
        for uid, name, _, _, tz in rows:
            ws.emulator.add_user(uid, name=name, real_name=name, tz=tz)
    return {uid: ws.sprout.store.learner(uid).id for uid, *_ in rows}


def records(ws):
    return ws.sprout.facilitation.announcements.store


def count(ws, model, *where):
    with ws.sprout.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def command(ws, user, text):
    before = len(ws.emulator.ephemerals(user))
    ws.driver.command(user, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(user)[before:])[-1]["text"]


def open_form(ws, user=FAC.user_id):
    before = {v["id"] for v in ws.emulator.open_views(user)}
    ws.driver.command(user, "/learn", "announce")
    return ws.emulator.wait_for(lambda: [v for v in ws.emulator.open_views(user)
                                         if v["id"] not in before and v["callback_id"] == "announce"])[-1]


def choose(ws, view, action_id, value, user=FAC.user_id):
    """Pick a radio option that redraws the form; returns the redrawn form."""
    before = json.dumps(ws.emulator.view(view["id"])["blocks"])
    ws.driver.select(user, view, action_id, value)
    return ws.emulator.wait_for(lambda: json.dumps(ws.emulator.view(view["id"])["blocks"]) != before
                                and ws.emulator.view(view["id"]))


def submitted(ws, view, values, user=FAC.user_id, title="On its way"):
    response = ws.driver.submit_view(user, view, values)
    assert response.status == 200 and response.view_errors is None, response.text
    try:
        return ws.emulator.wait_for(lambda: (ws.emulator.view(view["id"]) or {}).get("title", {}).get("text")
                                    == title and ws.emulator.view(view["id"]))
    except TimeoutError:
        raise AssertionError(f"the form did not become {title!r}: {ws.emulator.view(view['id'])}") from None


def dms(ws, user, kind="announcement"):
    return [m for m in ws.emulator.dm_messages(user)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == kind]


def text_of(view):
    return " ".join(b.get("text", {}).get("text", "") for b in view["blocks"])


def test_announcement_to_500_people_with_acknowledgements_and_one_reminder(world):
    zones = ["Europe/Berlin", "Asia/Kolkata", "America/New_York", "Australia/Sydney", "America/Sao_Paulo"]
    crew = [(f"U1{i:04d}", f"Person {i:03d}", "learner", "crew", zones[i % 5]) for i in range(500)]
    ids = roster(world, crew)

    form = open_form(world)
    assert not blockkit.validate_view({k: form[k] for k in ("type", "title", "submit", "close", "blocks")})
    form = choose(world, form, AUDIENCE_ACTION, "team")
    assert any(b.get("block_id") == "team" for b in form["blocks"])
    # A time already past is refused in the form, with Slack's response_action: errors.
    form = choose(world, form, WHEN_ACTION, "mine")
    refused = world.driver.submit_view(FAC.user_id, form, {"message": {"text": "Hi"}, "team": {"team": "crew"},
                                                           "date": {"date": "2026-11-29"},
                                                           "time": {"time": "09:00"}})
    assert refused.view_errors == {"time": "That time has already passed in your time zone."}
    form = choose(world, world.emulator.view(form["id"]), WHEN_ACTION, "now")
    done = submitted(world, form, {"message": {"text": NASTY}, "team": {"team": "crew"}, "ack": {"ack": ["ack"]}})
    assert "on its way to team *crew* (500 people)" in text_of(done)
    announcement = records(world).recent_announcements(1)[0]
    world.emulator.wait_for(lambda: count(world, AnnouncementReceipt) == 500)  # queued right after the ack
    assert count(world, AuditEntry, AuditEntry.action == "announcement") == 1

    world.emulator.reset_stats()
    world.sprout.tick()
    world.sprout.tick()  # again at the same instant: nothing twice
    assert world.emulator.stats()["by_method"].get("chat.postMessage") == 500
    copies = {uid: dms(world, uid) for uid, *_ in crew}
    assert all(len(c) == 1 for c in copies.values()), "exactly one copy each"
    first = copies["U10000"][0]
    shown = json.dumps(first["blocks"])
    assert "&lt;!channel&gt;" in shown and "&lt;@U0FAC&gt;" in shown and "<!channel>" not in shown
    assert "*bold*" in shown and "Fay Facilitator" in shown

    # 120 people press Got it; 10 of them double-click (the same press arrives twice).
    acking = [uid for uid, *_ in crew[:120]]
    for uid in acking:
        response = world.driver.click(uid, copies[uid][0], action_id=ACK_ACTION)
        if uid in acking[:10]:
            world.driver.resend(response)
    world.emulator.wait_for(lambda: count(world, AnnouncementReceipt, AnnouncementReceipt.acked_at.is_not(None))
                            == 120, timeout=20)
    world.emulator.wait_for(lambda: "announcement-acked" in json.dumps(
        world.emulator.message(first["channel"], first["ts"])["blocks"]))
    assert "announcement-ack\"" not in json.dumps(world.emulator.message(first["channel"], first["ts"])["blocks"])

    status = command(world, FAC.user_id, f"announce status {announcement.id}")
    assert "500 copies: 500 sent · 0 waiting" in status
    assert "✅ *120* acknowledged · ⏳ *380* not yet" in status and "Not yet: Person 120, Person 121" in status

    reply = command(world, FAC.user_id, f"announce remind {announcement.id}")
    assert "Reminding 380 people" in reply
    world.sprout.tick()
    reminded = {uid for uid, *_ in crew if dms(world, uid, "announcement_reminder")}
    assert reminded == {uid for uid, *_ in crew[120:]}, "the reminder goes to exactly the others"
    nudge = dms(world, "U10300", "announcement_reminder")[0]
    assert nudge["thread_ts"] == copies["U10300"][0]["ts"], "in the thread of their copy"

    again = command(world, FAC.user_id, f"announce remind {announcement.id}")
    assert "one reminder per announcement" in again
    world.sprout.tick()
    assert count(world, OutboxMessage, OutboxMessage.kind == "announcement_reminder") == 380
    assert world.emulator.stats()["by_method"].get("chat.postMessage") == 880
    assert count(world, AuditEntry, AuditEntry.action == "announcement_remind") == 1

    # The facilitator's Home figures: pass Slack's limits as a published Home tab.
    home = world.sprout.facilitation.announcements.home_blocks(FAC.user_id, world.clock())
    world.sprout.bolt.client.views_publish(user_id=FAC.user_id, view={"type": "home", "blocks": home})
    assert "✅ 120 acknowledged · ⏳ 380 not yet" in json.dumps(world.emulator.home_view(FAC.user_id)["blocks"], ensure_ascii=False)
    assert world.sprout.facilitation.announcements.home_blocks("U10001", world.clock()) == []
    assert ids  # everyone was in the roster


def add_cohort(ws, name, learner_ids):
    with ws.sprout.engine.begin() as conn:
        cohort = conn.execute(Cohort.__table__.insert().values(
            name=name, pack_id="security-basics", start_on=date(2026, 11, 30), join_mode="current",
            created_at=ws.clock()).returning(Cohort.id)).scalar_one()
        conn.execute(CohortMember.__table__.insert(),
                     [{"cohort_id": cohort, "learner_id": i, "added_at": ws.clock()} for i in learner_ids])


def local_time(message, tz):
    return datetime.fromtimestamp(float(message["ts"]), UTC).astimezone(ZoneInfo(tz)).strftime("%a %H:%M")


def test_scheduled_in_each_persons_zone_then_cancelled_before_the_rest_go(world):
    ids = roster(world, [("U0TOKYO", "Taro", "learner", None, "Asia/Tokyo"),
                         ("U0BERLIN", "Ana", "learner", None, "Europe/Berlin"),
                         ("U0NY", "Ben", "learner", None, "America/New_York")])
    add_cohort(world, "Winter & Co", ids.values())

    form = choose(world, open_form(world), AUDIENCE_ACTION, "cohort")
    form = choose(world, form, WHEN_ACTION, "local")
    done = submitted(world, form, {"message": {"text": "Kick-off *today*"}, "cohort": {"cohort": "Winter & Co"},
                                   "date": {"date": "2026-12-01"}, "time": {"time": "09:00"}}, title="Scheduled")
    assert "scheduled for Tue 01 Dec 09:00 in each person's time zone, to cohort *Winter &amp; Co*" in text_of(done)
    first = records(world).recent_announcements(1)[0]
    assert first.send_local and first.status == "scheduled"
    assert f"*#{first.id}* to cohort *Winter &amp; Co*" in command(world, FAC.user_id, "announce list")

    # A second one, at a time in Fay's zone, cancelled before anything went.
    form = choose(world, open_form(world), WHEN_ACTION, "mine")
    submitted(world, form, {"message": {"text": "Never mind"}, "date": {"date": "2026-12-02"},
                            "time": {"time": "12:00"}}, title="Scheduled")
    second = records(world).recent_announcements(1)[0]
    assert "nothing was sent" in command(world, FAC.user_id, f"announce cancel {second.id}")

    for hour in range(18, 24):  # Monday evening UTC: the first zone reaches 09:00 at 00:00 UTC
        world.clock.set(datetime(2026, 11, 30, hour, tzinfo=UTC))
        world.sprout.tick()
    assert count(world, OutboxMessage, OutboxMessage.status == "pending") == 3, "queued, each for its own 09:00"
    assert not any(dms(world, u) for u in ids)

    world.clock.set(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))  # 09:00 in Tokyo
    world.sprout.tick()
    world.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 09:00 in Berlin
    world.sprout.tick()
    assert local_time(dms(world, "U0TOKYO")[0], "Asia/Tokyo") == "Tue 09:00"
    assert local_time(dms(world, "U0BERLIN")[0], "Europe/Berlin") == "Tue 09:00"
    assert not dms(world, "U0NY")

    reply = command(world, FAC.user_id, f"announce cancel {first.id}")
    assert "1 copies that had not gone yet will not be sent (2 had already gone)" in reply
    for day in (1, 2, 3):
        world.clock.set(datetime(2026, 12, day, 15, 0, tzinfo=UTC))
        world.sprout.tick()
    assert not dms(world, "U0NY") and not dms(world, FAC.user_id)
    with world.sprout.engine.connect() as conn:
        assert sorted(conn.execute(select(OutboxMessage.status)).scalars()) == ["cancelled", "sent", "sent"]
    assert count(world, AuditEntry, AuditEntry.action == "announcement_cancel") == 2
    assert "No announcements are waiting" in command(world, FAC.user_id, "announce list")


def test_audiences_by_team_and_by_a_channels_members(world):
    ids = roster(world, [("U0A", "Ann", "learner", "ops", "UTC"), ("U0B", "Bob", "learner", "ops", "UTC"),
                         ("U0C", "Cy", "learner", "ops", "UTC"), ("U0D", "Di", "learner", "sales", "UTC")])
    with world.sprout.engine.begin() as conn:
        conn.execute(update(Learner).where(Learner.id == ids["U0C"]).values(active=False))
    world.emulator.add_user("U0NEW", name="Newcomer", tz="Asia/Kolkata")  # in Slack, not yet in Sprout
    world.emulator.add_user("U0OTHERBOT", name="otherbot", is_bot=True)
    channel = world.emulator.add_channel("general", members=["U0A", "U0C", "U0D", "U0NEW", "U0OTHERBOT"])
    world.sprout.facilitation.announcements.directory.page_size = 2  # conversations.members, paginated

    form = choose(world, open_form(world), AUDIENCE_ACTION, "team")
    submitted(world, form, {"message": {"text": "Ops only"}, "team": {"team": "ops"}})
    form = choose(world, open_form(world), AUDIENCE_ACTION, "channel")
    assert next(b for b in form["blocks"] if b.get("block_id") == "channel")["element"]["type"] == \
        "conversations_select"
    submitted(world, form, {"message": {"text": "General folks"}, "channel": {"channel": channel}})
    world.emulator.wait_for(lambda: count(world, Announcement, Announcement.status == "sent") == 2)
    world.sprout.tick()

    got = {u: sorted(m["blocks"][1]["text"]["text"] for m in dms(world, u))
           for u in ("U0A", "U0B", "U0C", "U0D", "U0NEW")}
    assert got == {"U0A": ["General folks", "Ops only"], "U0B": ["Ops only"], "U0C": [], "U0D": ["General folks"],
                   "U0NEW": ["General folks"]}, "inactive people and bots are skipped; newcomers become learners"
    assert world.sprout.store.learner("U0NEW").name == "Newcomer"
    assert world.sprout.store.learner("U0OTHERBOT") is None
    assert len(world.emulator.calls("conversations.members")) >= 3, "paged through the channel's members"
    status = command(world, FAC.user_id, "announce status")
    assert "the members of <#" in status and "No acknowledgement was asked for." in status


def test_every_privileged_path_is_refused_to_a_plain_learner(world, caplog):
    caplog.set_level(logging.WARNING, logger="bot.service")
    roster(world, [("U0LEA", "Lee", "learner", None, "UTC"), ("U0MAN", "Max", "manager", None, "UTC")])
    channel = world.emulator.add_channel("community", members=["U0LEA"])
    watched = (Announcement, AnnouncementReceipt, AuditEntry, DiscussionPrompt, OutboxMessage)
    before = {m: count(world, m) for m in watched}
    for user in ("U0LEA", "U0MAN"):
        for text in ("announce", "announce help", "announce status", "announce status 1", "announce list",
                     "announce cancel 1", "announce remind 1", f"prompt <#{channel}|community> mon 10:00 Hello",
                     "prompt #community mon 10:00 pack security-basics", "prompt list", "prompt stop 1", "prompt"):
            reply = command(world, user, text)
            assert "Only facilitators can" in reply and "an admin can change it" in reply, (user, text, reply)
        assert world.emulator.open_views(user) == []
    assert {m: count(world, m) for m in watched} == before, "nothing written"
    assert sum("refused" in r.getMessage() for r in caplog.records) >= 24

    # Demoted between opening the form and submitting it: refused in the form, nothing written.
    form = open_form(world)
    with world.sprout.engine.begin() as conn:
        conn.execute(update(Learner).where(Learner.slack_user_id == FAC.user_id).values(role="learner"))
    refused = world.driver.submit_view(FAC.user_id, form, {"message": {"text": "Sneaky"}})
    assert "Only facilitators can send announcements" in refused.view_errors["message"]
    # …and changing a choice in the form is refused too.
    world.driver.select(FAC.user_id, world.emulator.view(form["id"]), AUDIENCE_ACTION, "team")
    world.emulator.wait_for(lambda: world.emulator.view(form["id"])["title"]["text"] == "Not allowed")
    assert {m: count(world, m) for m in watched} == before


def test_got_it_on_someone_elses_copy_is_refused(world):
    roster(world, [("U0A", "Ann", "learner", "ops", "UTC"), ("U0B", "Bob", "learner", "sales", "UTC")])
    form = choose(world, open_form(world), AUDIENCE_ACTION, "team")
    submitted(world, form, {"message": {"text": "Read me"}, "team": {"team": "ops"}, "ack": {"ack": ["ack"]}})
    world.sprout.tick()
    copy = dms(world, "U0A")[0]
    world.driver.click("U0B", copy, action_id=ACK_ACTION)  # a forged click from someone else
    reply = world.emulator.wait_for(lambda: world.emulator.ephemerals("U0B"))[-1]["text"]
    assert "sent to someone else" in reply
    assert count(world, AnnouncementReceipt, AnnouncementReceipt.acked_at.is_not(None)) == 0


def test_the_form_and_the_copies_pass_slacks_limits_in_every_state():
    many = FormChoices(cohorts=tuple(f"Cohort {i} <&>" for i in range(150)), teams=("ops", "x" * 100),
                       zone="America/Argentina/ComodRivadavia", today=date(2026, 11, 30), everyone=5000)
    none = FormChoices(cohorts=(), teams=(), zone="UTC", today=date(2026, 11, 30), everyone=0)
    for choices in (many, none):
        for audience in ("everyone", "cohort", "team", "channel"):
            for when in ("now", "local", "mine"):
                modal = announce_modal(choices, audience=audience, when=when)
                assert blockkit.validate_view(modal) == [], (audience, when)
    huge = AnnouncementView(1, 1, "<Fay>", "U0FAC", ("& < > " * 500)[:3000], "everyone", None, SUNDAY, False, True,
                            "sent", None, SUNDAY)
    for acked in (False, True):
        message = copy_message(huge, acked=acked)
        assert blockkit.validate_blocks(message.blocks) == [] and len(message.blocks) <= 50
        assert "&lt;Fay&gt;" in message.blocks[0]["elements"][0]["text"]


def test_copies_are_due_at_the_wall_time_in_each_zone_and_never_in_the_past():
    wall = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    a = AnnouncementView(1, None, "", None, "x", "everyone", None, wall, True, False, "scheduled", None, SUNDAY)
    people = [Recipient(i, f"U{i}", "", f"U{i}", tz, None) for i, tz in
              enumerate(["Pacific/Kiritimati", "Asia/Kolkata", "America/St_Johns", "Pacific/Pago_Pago"])]
    people.append(Recipient(9, "U9", "", "U9", None, None))  # no zone known: the default
    people.append(Recipient(10, "U10", "", "U10", "UTC", None, active=False))
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    due = {c.learner_id: c.not_before for c in copy_times(a, people, now=now, default_timezone="Europe/Berlin")}
    assert due == {0: datetime(2026, 11, 30, 19, 0, tzinfo=UTC), 1: datetime(2026, 12, 1, 3, 30, tzinfo=UTC),
                   2: datetime(2026, 12, 1, 12, 30, tzinfo=UTC), 3: datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
                   9: datetime(2026, 12, 1, 8, 0, tzinfo=UTC)}
    late = copy_times(a, people[:1], now=datetime(2026, 11, 30, 20, 0, tzinfo=UTC), default_timezone="UTC")
    assert late[0].not_before == datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "a wall time already past: now"
    assert timedelta(0) <= due[0] - a.first_due


def test_got_it_is_kept_before_the_ack_and_drawn_later_when_slack_refused(world, caplog):
    roster(world, [("U1AAA", "Ann Able", "learner", "crew", "Europe/Berlin")])
    form = choose(world, open_form(world), AUDIENCE_ACTION, "team")
    submitted(world, form, {"message": {"text": "Read me"}, "team": {"team": "crew"}, "ack": {"ack": ["ack"]}})
    world.emulator.wait_for(lambda: count(world, AnnouncementReceipt) == 1)
    world.sprout.tick()
    copy = dms(world, "U1AAA")[0]
    world.emulator.set_failure_rate(1.0, methods=["chat.update"])
    assert world.driver.click("U1AAA", copy, action_id=ACK_ACTION).status == 200
    assert count(world, AnnouncementReceipt, AnnouncementReceipt.acked_at.is_not(None)) == 1, "kept before the ack"
    world.emulator.wait_for(lambda: any("the redraw job will" in r.getMessage() for r in caplog.records))

    def shown() -> str:
        return json.dumps(world.emulator.message(copy["channel"], copy["ts"])["blocks"])

    assert "announcement-acked" not in shown()
    world.emulator.set_failure_rate(0)
    redrawer = world.sprout.redrawer
    assert redrawer.run(world.clock() + redrawer.lease * 2).drawn == 1
    assert "announcement-acked" in shown() and "announcement-ack\"" not in shown()

