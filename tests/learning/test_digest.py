"""The digest's rules: which week, when it is due, who needs attention, what changed, what it cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from learning.digest import (
    Change,
    DigestCommandError,
    MemberWeek,
    Money,
    Outcome,
    TeamWeek,
    attention_reasons,
    chart_weeks,
    digest_key,
    digest_schedule,
    due_digest,
    figures,
    finished_week,
    needs_attention,
    parse_digest_command,
    parse_money,
    time_cost,
    week_so_far,
)

BERLIN = "Europe/Berlin"


def test_a_finished_week_is_seven_local_days_from_midnight():
    week = finished_week(date(2026, 11, 30), BERLIN)  # the Monday the digest goes out
    assert week.start_local == date(2026, 11, 23) and week.last_local == date(2026, 11, 29)
    assert week.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert week.prev_start == datetime(2026, 11, 15, 23, 0, tzinfo=UTC) and week.prev_end == week.start
    assert week.as_of == week.end and not week.so_far


def test_a_week_across_the_clock_change_has_the_extra_hour():
    week = finished_week(date(2026, 10, 26), BERLIN)  # clocks went back on Sunday 25 October
    assert week.end - week.start == timedelta(hours=169)  # 7 × 24 + the hour given back
    assert week.start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_this_week_so_far_compares_with_the_same_stretch_last_week():
    now = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)  # Wednesday 14:30 in Berlin
    week = week_so_far(now, BERLIN)
    assert week.so_far and week.start_local == date(2026, 11, 30)
    assert week.start == datetime(2026, 11, 29, 23, 0, tzinfo=UTC) and week.end == now
    assert week.prev_start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert week.prev_end == now - timedelta(days=7)
    wednesday_start = week_so_far(now, BERLIN, week_starts="wed")
    assert wednesday_start.start_local == date(2026, 12, 2)


def test_the_digest_is_due_from_its_local_time_until_the_end_of_that_day():
    monday_0800_berlin = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert due_digest(monday_0800_berlin - timedelta(minutes=1), zone_name=BERLIN, day=None, at=None) is None
    week = due_digest(monday_0800_berlin, zone_name=BERLIN, day=None, at=None)
    assert week is not None and week.start_local == date(2026, 11, 23)
    late = due_digest(datetime(2026, 11, 30, 22, 59, tzinfo=UTC), zone_name=BERLIN, day="mon", at="08:00")
    assert late == week, "a process that was down at 08:00 catches up the same local day"
    assert due_digest(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), zone_name=BERLIN, day="mon", at="08:00") is None
    assert due_digest(monday_0800_berlin, zone_name="America/New_York", day="mon", at="08:00") is None
    assert due_digest(datetime(2026, 11, 30, 13, 0, tzinfo=UTC), zone_name="America/New_York", day="mon",
                      at="08:00") is not None
    friday = due_digest(datetime(2026, 12, 4, 16, 0, tzinfo=UTC), zone_name=BERLIN, day="fri", at="17:00")
    assert friday is not None and friday.start_local == date(2026, 11, 27)


def test_stored_settings_that_do_not_parse_fall_back_to_monday_eight():
    assert digest_schedule(None, None) == ("mon", time(8, 0))
    assert digest_schedule("Friday", "25:00") == ("fri", time(8, 0))
    assert digest_schedule("xyz", "07:45") == ("mon", time(7, 45))


def test_the_dedupe_key_names_the_manager_and_the_week():
    assert digest_key(42, finished_week(date(2026, 11, 30), BERLIN)) == "digest:42:2026-11-23"


def test_chart_weeks_are_the_eight_weeks_up_to_the_digest():
    weeks = chart_weeks(finished_week(date(2026, 11, 30), BERLIN))
    assert len(weeks) == 8
    assert weeks[-1].start_local == date(2026, 11, 23) and weeks[0].start_local == date(2026, 10, 5)
    assert all(a.end == b.start for a, b in zip(weeks, weeks[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "action", "day", "at"),
    [
        ("", "show", None, None),
        ("off", "off", None, None),
        ("ON", "on", None, None),
        ("mon 08:00", "schedule", "mon", time(8, 0)),
        ("07:30 friday", "schedule", "fri", time(7, 30)),
        ("Tue", "schedule", "tue", None),
        ("9:15", "schedule", None, time(9, 15)),
    ],
)
def test_digest_subcommands(text, action, day, at):
    command = parse_digest_command(text)
    assert (command.action, command.day, command.at) == (action, day, at)


def test_team_and_cost_subcommands():
    assert parse_digest_command("team Customer Support").team == "Customer Support"
    assert parse_digest_command("cost 45 USD").cost == Money(45.0, "USD")
    assert parse_digest_command("cost eur 38,50").cost == Money(38.5, "EUR")


@pytest.mark.parametrize("text", ["mon 25:00", "someday", "team", "cost 45", "mon tue"])
def test_bad_subcommands_say_what_to_type(text):
    with pytest.raises(DigestCommandError) as raised:
        parse_digest_command(text)
    assert "/learn digest" in raised.value.message


def test_each_figure_changes_against_the_week_before():
    current = TeamWeek(members=10, enrolled=9, active=6, delivered=40, answered=30, answers=80, correct=60,
                       ratings=5, rating_sum=21, certificates=2)
    previous = TeamWeek(members=10, enrolled=8, active=7, delivered=40, answered=20, answers=50, correct=40,
                        ratings=0, rating_sum=0, certificates=0)
    f = figures(current, previous)
    assert (f.enrolled.delta, f.active.delta, f.delivered.delta) == (1, -1, 0)
    assert f.delivered.direction == "same" and f.active.direction == "down"
    assert f.completion.current == 0.75 and f.completion.delta == pytest.approx(0.25)
    assert f.accuracy.delta == pytest.approx(0.75 - 0.8)
    assert f.rating.current == 4.2 and f.rating.previous is None and f.rating.direction == "new"
    assert Change(None, None).direction == "none"


AS_OF = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)


def member(name, *, enrolled_days=30, answers=0, correct=0, paused_until=None, expires=None):
    return MemberWeek(hash(name) % 1000, f"U{name.upper()}", name,
                      None if enrolled_days is None else AS_OF - timedelta(days=enrolled_days),
                      paused_until, answers, correct, expires, "Habits certificate" if expires else None)


def test_attention_rules():
    assert attention_reasons(member("quiet"), AS_OF) == ("silent",)
    assert attention_reasons(member("new", enrolled_days=3), AS_OF) == (), "enrolled three days ago"
    assert attention_reasons(member("week", enrolled_days=7), AS_OF) == ("silent",), "exactly seven days"
    assert attention_reasons(member("done", enrolled_days=None), AS_OF) == (), "nothing in progress"
    assert attention_reasons(member("resting", paused_until=AS_OF + timedelta(days=3)), AS_OF) == ()
    assert attention_reasons(member("back", paused_until=AS_OF - timedelta(days=1)), AS_OF) == ("silent",)
    assert attention_reasons(member("struggling", answers=4, correct=1), AS_OF) == ("accuracy",)
    assert attention_reasons(member("half", answers=4, correct=2), AS_OF) == (), "50% is not below 50%"
    assert attention_reasons(member("two", answers=2, correct=0), AS_OF) == (), "too few answers to judge"
    assert attention_reasons(member("soon", answers=5, correct=5, expires=AS_OF + timedelta(days=29)),
                             AS_OF) == ("expiring",)
    assert attention_reasons(member("later", answers=5, correct=5, expires=AS_OF + timedelta(days=30)),
                             AS_OF) == ()
    assert attention_reasons(member("both", answers=3, correct=0, expires=AS_OF + timedelta(days=1)),
                             AS_OF) == ("accuracy", "expiring")


def test_attention_lists_expiring_certificates_first():
    people = [member("Zoe"), member("Amy", answers=3, correct=0),
              member("Bob", answers=5, correct=5, expires=AS_OF + timedelta(days=20)),
              member("Cat", answers=5, correct=5, expires=AS_OF + timedelta(days=2)), member("Fine", answers=3,
                                                                                             correct=3)]
    assert [a.member.name for a in needs_attention(people, AS_OF)] == ["Cat", "Bob", "Zoe", "Amy"]


def test_money_and_cost_per_outcome():
    assert parse_money("45 USD") == Money(45.0, "USD")
    assert parse_money("USD 12.5") == Money(12.5, "USD")
    with pytest.raises(ValueError):
        parse_money("45")
    hourly = Money(60.0, "EUR")
    spent = time_cost([(3, 10), (5, 4)], hourly)  # 30 + 20 = 50 minutes
    assert spent == Money(50.0, "EUR")
    outcome = Outcome(Money(250.0, "EUR"), spent, active_learners=6, completed_lessons=14, certificates=0)
    assert outcome.total == Money(300.0, "EUR")
    assert outcome.per_active_learner == Money(50.0, "EUR")
    assert outcome.per_completed_lesson.amount == pytest.approx(300 / 14)
    assert outcome.per_certificate is None
    assert Outcome(Money(1, "USD"), spent, 1, 1, 1).total is None, "no sum across currencies"
    assert time_cost([(3, 10)], None) is None
