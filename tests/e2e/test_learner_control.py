"""Learners steer their own schedule, and an unanswered lesson gets one nudge — over signed HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import BERLIN, NEW_YORK


def command(world, person, text):
    before = len(world.emulator.ephemerals(person.user_id))
    world.driver.command(person.user_id, "/learn", text)
    return world.emulator.wait_for(lambda: world.emulator.ephemerals(person.user_id)[before:])[-1]["text"]


def lessons(world, person):
    return [m for m in world.emulator.dm_messages(person.user_id)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"]


def run_days(world, clock, start: datetime, days: int, step=timedelta(hours=1)):
    """Tick through the days: every hour, and exactly at each instant a lesson falls due."""
    clock.set(start)
    end = start + timedelta(days=days)
    while clock() < end:
        world.sprout.tick()
        due = world.sprout.next_due(clock())
        clock.set(min(clock() + step, due or end, end) if due and due > clock() else min(clock() + step, end))


MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def test_pause_keeps_the_place_and_resume_picks_it_up(world, clock):
    command(world, BERLIN, "enroll security-basics")
    run_days(world, clock, MONDAY, 1)
    assert len(lessons(world, BERLIN)) == 1
    reply = command(world, BERLIN, "pause 2 days")
    assert "Paused until *Thu 03 Dec, 01:00* (Europe/Berlin)" in reply  # two days from Tue 01:00 local
    run_days(world, clock, clock(), 2)
    assert len(lessons(world, BERLIN)) == 1, "nothing while paused"
    run_days(world, clock, clock(), 1)  # Thursday: the pause is over
    titles = [m["blocks"][0]["text"]["text"] for m in lessons(world, BERLIN)]
    assert len(titles) == 2 and titles[0] != titles[1], "the next lesson, not the one missed"

    assert "until you resume" in command(world, BERLIN, "pause")
    run_days(world, clock, clock(), 3)
    assert len(lessons(world, BERLIN)) == 2
    assert "Welcome back" in command(world, BERLIN, "resume")
    run_days(world, clock, clock(), 4)
    assert len(lessons(world, BERLIN)) >= 3


def test_time_and_days_move_the_lessons(world, clock):
    command(world, NEW_YORK, "enroll security-basics")
    assert "07:15" in command(world, NEW_YORK, "time 07:15")
    reply = command(world, NEW_YORK, "days tue,thu")
    assert "tue, thu" in reply and "Tue 01 Dec, 07:15" in reply
    run_days(world, clock, MONDAY, 7)
    sent = [datetime.fromtimestamp(float(m["ts"]), UTC) for m in lessons(world, NEW_YORK)]
    local = [t.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")) for t in sent]
    assert [t.strftime("%a %H:%M") for t in local] == ["Tue 07:15", "Thu 07:15"]


def test_bad_schedule_commands_explain_and_change_nothing(world):
    command(world, BERLIN, "enroll security-basics")
    assert "24-hour time" in command(world, BERLIN, "time 25:99")
    assert "not a weekday" in command(world, BERLIN, "days funday")
    assert "Say how long" in command(world, BERLIN, "pause forever and ever")
    learner = world.sprout.store.learner(BERLIN.user_id)
    assert (learner.delivery_time, learner.delivery_days, learner.paused_until) == (None, None, None)


def test_one_reminder_then_after_three_missed_lessons_an_offer_to_pause(world, clock):
    command(world, BERLIN, "enroll security-basics")
    run_days(world, clock, MONDAY, 3)  # Mon, Tue, Wed lessons, none answered
    messages = world.emulator.dm_messages(BERLIN.user_id)
    reminders = [m for m in messages if "still waiting" in (m.get("text") or "")]
    offers = [m for m in messages if any(b.get("block_id") == "pause-offer" for b in m.get("blocks") or [])]
    assert len(lessons(world, BERLIN)) == 3
    assert len(reminders) == 2 and all(m.get("thread_ts") for m in reminders), "one nudge each, in the thread"
    assert len(offers) == 1, "the third miss brings an offer to pause instead of a third nudge"
    run_days(world, clock, clock(), 2)  # Thu, Fri: still nothing answered → no more nagging
    messages = world.emulator.dm_messages(BERLIN.user_id)
    assert len([m for m in messages if "still waiting" in (m.get("text") or "")]) == 2
    assert len([m for m in messages if "Pause for a week" in str(m.get("blocks"))]) == 1

    world.driver.click(BERLIN.user_id, offers[0], action_id="pause_offer:7")
    world.emulator.wait_for(lambda: "Paused until" in str(world.emulator.message(offers[0]["channel"],
                                                                                 offers[0]["ts"])["blocks"]))
    assert world.sprout.store.learner(BERLIN.user_id).paused_until is not None


def test_slack_time_zone_is_used_when_the_roster_has_none_and_refreshed_daily(world, clock):
    command(world, BERLIN, "enroll security-basics")
    learner = world.sprout.store.learner(BERLIN.user_id)
    assert learner.slack_timezone == "Europe/Berlin" and learner.timezone is None
    world.emulator.add_user(BERLIN.user_id, name=BERLIN.name, tz="Asia/Tokyo")  # they moved
    clock.set(MONDAY)
    world.sprout.tick()
    assert world.sprout.store.learner(BERLIN.user_id).slack_timezone == "Europe/Berlin", "not before a day"
    clock.set(MONDAY + timedelta(days=1, hours=1))
    world.sprout.tick()
    assert world.sprout.store.learner(BERLIN.user_id).slack_timezone == "Asia/Tokyo"
    calls = len(world.emulator.calls("users.info"))
    world.sprout.tick()
    assert len(world.emulator.calls("users.info")) == calls, "at most daily"


def test_slack_locale_is_asked_for_and_refreshed_with_the_time_zone(world, clock):
    world.emulator.set_user_locale(BERLIN.user_id, "de-DE")
    command(world, BERLIN, "enroll security-basics")
    assert world.sprout.store.learner(BERLIN.user_id).slack_locale == "de-DE"
    assert any(call["params"].get("include_locale") in (True, "true", "1", 1) for call in world.emulator.calls("users.info"))
    world.emulator.set_user_locale(BERLIN.user_id, "en-GB")
    clock.set(MONDAY + timedelta(days=1, hours=1))
    world.sprout.tick()
    assert world.sprout.store.learner(BERLIN.user_id).slack_locale == "en-GB"


NASTY = ["<!channel>", "<https://evil.example|x>", "<@U0BOSS> & co"]


def test_what_a_person_typed_comes_back_escaped(world):
    """Nothing typed after /learn can ping a channel or hide a link in Sprout's reply."""
    command(world, BERLIN, "enroll security-basics")
    for typed in NASTY:
        for verb in ("enroll", "next", "days", "time", "pause", "search", typed):
            before = len(world.emulator.ephemerals(BERLIN.user_id))
            world.driver.command(BERLIN.user_id, "/learn", f"{verb} {typed}")
            reply = world.emulator.wait_for(lambda b=before: world.emulator.ephemerals(BERLIN.user_id)[b:])[-1]
            shown = reply.get("text", "") + json.dumps(reply.get("blocks") or [], ensure_ascii=False)
            for control in ("<!", "<http", "<@", "& "):
                assert control not in shown, (verb, typed, shown)
    replies = [e.get("text", "") for e in world.emulator.ephemerals(BERLIN.user_id)]
    assert any("There is no pack called `&lt;!channel&gt;`" in r for r in replies)
    assert any("&lt;https://evil.example|x&gt;" in r for r in replies)
    assert any("'&lt;!c' is not a weekday" in r for r in replies)


def answer_latest(world, person):
    """Answer the first question of the latest lesson (any answer counts for the streak)."""
    message = lessons(world, person)[-1]
    world.driver.click(person.user_id, message, action_id="answer:0")
    world.emulator.wait_for(lambda: any(str(b.get("block_id", "")).startswith("result:")
                                        for b in world.emulator.message(message["channel"], message["ts"])["blocks"]))


def streak(world, person):
    """The streak the Home tab shows, drawn after everything so far."""
    published = len(world.emulator.calls("views.publish"))
    world.driver.app_home_opened(person.user_id)
    world.emulator.wait_for(lambda: len(world.emulator.calls("views.publish")) > published)
    text = json.dumps(world.emulator.home_view(person.user_id)["blocks"], ensure_ascii=False)
    return int(text.split("Streak: *", 1)[1].split("*", 1)[0])


def berlin(day: int, hhmm: str) -> datetime:
    from zoneinfo import ZoneInfo

    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 11, 30, hours, minutes, tzinfo=ZoneInfo("Europe/Berlin")) + timedelta(days=day)


EVERY_4H = timedelta(hours=4)


def test_the_streak_through_real_lessons_a_pause_a_weekend_and_a_missed_day(world, clock):
    command(world, BERLIN, "enroll security-basics")
    run_days(world, clock, berlin(0, "00:00"), 0.5, step=EVERY_4H)  # Monday's lesson at 09:30
    answer_latest(world, BERLIN)
    assert streak(world, BERLIN) == 1
    run_days(world, clock, clock(), 1, step=EVERY_4H)  # Tuesday's
    answer_latest(world, BERLIN)
    assert streak(world, BERLIN) == 2
    assert "Paused until" in command(world, BERLIN, "pause 2 days")  # Tuesday noon to Thursday noon
    run_days(world, clock, clock(), 3, step=EVERY_4H)  # Wednesday, Thursday: no lesson; Friday's
    assert len(lessons(world, BERLIN)) == 3
    answer_latest(world, BERLIN)
    assert streak(world, BERLIN) == 3, "paused days had no lesson, so they do not break the streak"
    run_days(world, clock, clock(), 3, step=EVERY_4H)  # the weekend, then Monday's
    assert len(lessons(world, BERLIN)) == 4
    assert streak(world, BERLIN) == 3, "Monday's lesson, not answered yet, does not break it while Monday lasts"
    answer_latest(world, BERLIN)
    assert streak(world, BERLIN) == 4, "a weekend does not break it"
    run_days(world, clock, clock(), 1, step=EVERY_4H)  # Tuesday's lesson comes, and stays unanswered
    run_days(world, clock, clock(), 1, step=EVERY_4H)  # Wednesday's
    assert len(lessons(world, BERLIN)) == 6
    assert streak(world, BERLIN) == 0, "Tuesday's lesson went unanswered"
    answer_latest(world, BERLIN)
    assert streak(world, BERLIN) == 1
