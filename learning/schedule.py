"""When a learner's lesson is due, in their own time zone.

Everything takes ``now`` (aware, any zone) and returns aware UTC datetimes, so the
rules can be tested at any instant without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from learning.errors import Invalid

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class UnknownTimeZone(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UnknownTimeZone(f"unknown time zone {name!r}") from None


def is_time_zone(name: str) -> bool:
    try:
        zone(name)
    except UnknownTimeZone:
        return False
    return True


def resolve_zone(*candidates: str | None, default: str = "UTC") -> str:
    """The first candidate that names a real IANA zone (roster's, then Slack's), else ``default``."""
    for name in candidates:
        if name and is_time_zone(name):
            return name
    return default


def parse_hhmm(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) in (1, 2)):
        raise Invalid("not_a_time", f"{text[:20]!r} is not a time like 09:30", text=repr(text[:20]))
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise Invalid("not_a_time", f"{text[:20]!r} is not a time like 09:30", text=repr(text[:20]))
    return time(h, m)


def parse_days(text: str) -> tuple[str, ...]:
    days = []
    for part in text.replace(" ", ",").split(","):
        part = part.strip().lower()[:3]
        if not part:
            continue
        if part not in WEEKDAYS:
            raise Invalid("not_a_weekday", f"{part!r} is not a weekday (use mon, tue, wed, thu, fri, sat, sun)",
                          text=repr(part))
        if part not in days:
            days.append(part)
    if not days:
        raise Invalid("no_weekday", "name at least one weekday")
    return tuple(sorted(days, key=WEEKDAYS.index))


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``.

    On the day clocks go back, a time that happens twice means its first occurrence
    (fold=0). On the day clocks go forward, a time that does not exist means the same
    number of minutes after the gap (02:30 in a 02:00→03:00 gap is 03:30), so a lesson
    is late by the gap but never skipped.
    """
    # PEP 495: fold=0 picks the first of two ambiguous times and, for a time inside a
    # gap, the offset from before the gap, which lands after the gap once converted.
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    """One scheduled delivery: the learner's local date and the UTC instant it is due."""

    local_date: date
    due_at: datetime


def todays_slot(now: datetime, *, tz: ZoneInfo, at: time, days: tuple[str, ...]) -> Slot | None:
    """The learner's slot on their current local date, or None if today is not a lesson day."""
    local_today = now.astimezone(tz).date()
    if WEEKDAYS[local_today.weekday()] not in days:
        return None
    return Slot(local_today, local_instant(local_today, at, tz))


def next_slot(after: datetime, *, tz: ZoneInfo, at: time, days: tuple[str, ...]) -> Slot:
    """The first slot strictly after ``after``."""
    if not days:
        raise ValueError("no lesson days")
    day = after.astimezone(tz).date()
    for offset in range(0, 9):
        candidate = day + timedelta(days=offset)
        if WEEKDAYS[candidate.weekday()] not in days:
            continue
        due = local_instant(candidate, at, tz)
        if due > after:
            return Slot(candidate, due)
    raise AssertionError("a weekly schedule always has a slot within 8 days")


def due_slot(
    now: datetime,
    *,
    tz: ZoneInfo,
    at: time,
    days: tuple[str, ...],
    not_before: datetime,
    last_local_date: date | None,
) -> Slot | None:
    """The slot to deliver at ``now``, if any.

    A slot is due from its instant until the end of the learner's local day, so a
    process that was down at 09:30 catches up when it comes back the same day; a day
    missed entirely is not made up (two lessons the next morning would be worse).
    ``not_before`` is when the learner enrolled or resumed: a 09:30 slot is not due
    for someone who enrolled at 15:00. At most one slot per local date.
    """
    slot = todays_slot(now, tz=tz, at=at, days=days)
    if slot is None or slot.due_at > now or slot.due_at < not_before:
        return None
    if last_local_date is not None and last_local_date >= slot.local_date:
        return None
    return slot


def next_due_at(
    after: datetime,
    *,
    tz: ZoneInfo,
    at: time,
    days: tuple[str, ...],
    not_before: datetime,
    last_local_date: date | None,
    starts_on: date | None = None,
) -> datetime:
    """The first instant after ``after`` at which ``due_slot`` (with these same inputs) returns a slot.

    Until then nothing can fall due, so the planner need not look at the enrollment before it; a
    slot already past at ``after`` that was not due then will not become due later the same day,
    because nothing it was refused for (``not_before``, ``last_local_date``, ``starts_on``) moves
    without the stored instant being cleared.

    >>> from datetime import UTC
    >>> friday = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    >>> next_due_at(friday, tz=ZoneInfo("UTC"), at=time(9, 30), days=("mon", "fri"),
    ...             not_before=friday, last_local_date=date(2026, 12, 4)).isoformat()
    '2026-12-07T09:30:00+00:00'
    """
    start = max(after, not_before - timedelta(microseconds=1))  # next_slot is strictly after its argument
    first_day = max(last_local_date + timedelta(days=1) if last_local_date else date.min, starts_on or date.min)
    if first_day > date.min:
        start = max(start, local_instant(first_day, time(0, 0), tz) - timedelta(microseconds=1))
    while True:
        slot = next_slot(start, tz=tz, at=at, days=days)
        if slot.local_date >= first_day:
            return slot.due_at
        start = slot.due_at
