from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from learning.schedule import (
    due_slot,
    local_instant,
    next_slot,
    parse_days,
    parse_hhmm,
    resolve_zone,
    zone,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        ("Europe/Berlin", date(2026, 12, 1), datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 12, 1), datetime(2026, 12, 1, 14, 30, tzinfo=UTC)),
        ("Asia/Kolkata", date(2026, 12, 1), datetime(2026, 12, 1, 4, 0, tzinfo=UTC)),
        ("Asia/Kathmandu", date(2026, 12, 1), datetime(2026, 12, 1, 3, 45, tzinfo=UTC)),
        ("Pacific/Kiritimati", date(2026, 12, 1), datetime(2026, 11, 30, 19, 30, tzinfo=UTC)),
        ("Pacific/Pago_Pago", date(2026, 12, 1), datetime(2026, 12, 1, 20, 30, tzinfo=UTC)),
        # The days clocks change: 09:30 local is still 09:30 local.
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 7, 30, tzinfo=UTC)),
        ("Europe/Berlin", date(2026, 10, 25), datetime(2026, 10, 25, 8, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 13, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 14, 30, tzinfo=UTC)),
        ("Australia/Sydney", date(2026, 10, 4), datetime(2026, 10, 3, 22, 30, tzinfo=UTC)),
    ],
)
def test_half_past_nine_is_local_in_every_zone(tz, day, expected_utc):
    assert local_instant(day, time(9, 30), zone(tz)) == expected_utc
    assert local_instant(day, time(9, 30), zone(tz)).astimezone(zone(tz)).strftime("%H:%M") == "09:30"


def test_a_time_inside_the_spring_gap_is_late_by_the_gap_never_skipped():
    # 02:30 does not exist in New York on 2026-03-08; it becomes 03:30 EDT.
    instant = local_instant(date(2026, 3, 8), time(2, 30), zone("America/New_York"))
    assert instant.astimezone(zone("America/New_York")).strftime("%H:%M") == "03:30"


def test_a_time_that_happens_twice_in_autumn_is_its_first_occurrence():
    instant = local_instant(date(2026, 11, 1), time(1, 30), zone("America/New_York"))
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST


def walk(tz: str, at: time, days, start: datetime, hours: int, step_minutes: int = 5):
    """Run the planner's rule every few minutes, recording the slots it releases."""
    released = []
    last = None
    now = start
    while now < start + timedelta(hours=hours):
        slot = due_slot(now, tz=zone(tz), at=at, days=days, not_before=start, last_local_date=last)
        if slot is not None:
            released.append((slot, now))
            last = slot.local_date
        now += timedelta(minutes=step_minutes)
    return released


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("Europe/Berlin", datetime(2026, 3, 27, tzinfo=UTC)),  # spring forward on Sunday 29th
        ("Europe/Berlin", datetime(2026, 10, 23, tzinfo=UTC)),  # fall back on Sunday 25th
        ("America/New_York", datetime(2026, 3, 6, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 10, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", datetime(2026, 12, 1, tzinfo=UTC)),
        ("Pacific/Kiritimati", datetime(2026, 12, 1, tzinfo=UTC)),
        ("Pacific/Pago_Pago", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_every_day_exactly_one_lesson_at_local_half_past_nine(tz, start):
    released = walk(tz, time(9, 30), ALL_DAYS, start, hours=24 * 5)
    local_dates = [slot.local_date for slot, _ in released]
    assert len(local_dates) == len(set(local_dates)), "never twice on one local day"
    assert len(local_dates) >= 4, "never a skipped day"
    for slot, released_at in released:
        assert slot.due_at.astimezone(zone(tz)).strftime("%H:%M") == "09:30"
        assert timedelta(0) <= released_at - slot.due_at < timedelta(minutes=5)
    consecutive = [b - a for a, b in zip(local_dates, local_dates[1:], strict=False)]
    assert all(gap == timedelta(days=1) for gap in consecutive)


def test_weekdays_are_the_learners_local_weekdays():
    # Monday 09:30 in Kiritimati (UTC+14) is Sunday 19:30 UTC.
    released = walk("Pacific/Kiritimati", time(9, 30), ("mon",), datetime(2026, 11, 29, tzinfo=UTC), hours=48)
    assert len(released) == 1
    slot, _ = released[0]
    assert slot.local_date == date(2026, 11, 30) and slot.local_date.weekday() == 0
    assert slot.due_at == datetime(2026, 11, 29, 19, 30, tzinfo=UTC)


def test_a_slot_before_enrolment_is_not_due():
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    enrolled = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    kw = dict(tz=zone("UTC"), at=time(9, 30), days=ALL_DAYS, last_local_date=None)
    assert due_slot(now, not_before=enrolled, **kw) is None
    tomorrow = due_slot(datetime(2026, 12, 2, 9, 30, tzinfo=UTC), not_before=enrolled, **kw)
    assert tomorrow is not None and tomorrow.local_date == date(2026, 12, 2)


def test_a_late_process_catches_up_the_same_day_but_not_the_next():
    kw = dict(tz=zone("Europe/Berlin"), at=time(9, 30), days=ALL_DAYS, not_before=LONG_AGO)
    late = due_slot(datetime(2026, 12, 1, 20, 0, tzinfo=UTC), last_local_date=None, **kw)
    assert late is not None and late.local_date == date(2026, 12, 1)
    # Nothing yet at 00:30 local on the 2nd, and the 1st is not made up.
    assert due_slot(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), last_local_date=date(2026, 11, 30), **kw) is None


def test_weekends_are_skipped():
    kw = dict(tz=zone("UTC"), at=time(9, 30), days=WEEKDAYS, not_before=LONG_AGO, last_local_date=None)
    assert due_slot(datetime(2026, 12, 5, 10, 0, tzinfo=UTC), **kw) is None  # Saturday
    assert due_slot(datetime(2026, 12, 7, 10, 0, tzinfo=UTC), **kw) is not None  # Monday


def test_next_slot_is_strictly_after():
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    slot = next_slot(friday_evening, tz=zone("UTC"), at=time(9, 30), days=WEEKDAYS)
    assert slot.due_at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    exactly = next_slot(slot.due_at, tz=zone("UTC"), at=time(9, 30), days=WEEKDAYS)
    assert exactly.due_at == datetime(2026, 12, 8, 9, 30, tzinfo=UTC)


def test_parsing_times_and_days():
    assert parse_hhmm("09:30") == time(9, 30)
    assert parse_hhmm("7:05") == time(7, 5)
    for bad in ("24:00", "9.30", "09:3", "noon", ""):
        with pytest.raises(ValueError):
            parse_hhmm(bad)
    assert parse_days("fri, Mon,wed") == ("mon", "wed", "fri")
    assert parse_days("monday tuesday") == ("mon", "tue")
    with pytest.raises(ValueError):
        parse_days("funday")


def test_zone_resolution_prefers_the_roster_then_slack_then_the_default():
    assert resolve_zone("Asia/Kolkata", "Europe/Berlin", default="UTC") == "Asia/Kolkata"
    assert resolve_zone(None, "Europe/Berlin", default="UTC") == "Europe/Berlin"
    assert resolve_zone("Mars/Olympus", None, default="Europe/Paris") == "Europe/Paris"
