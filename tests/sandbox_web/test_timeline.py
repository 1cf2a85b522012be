"""Moving the clock: every due instant on the way gets its own tick, in order, and nothing is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from sandbox.clock import SimulatedClock
from sandbox.web.timeline import move_clock

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class Schedule:
    """Lessons due at fixed instants; ``tick`` sends those due and not yet sent, like the planner."""

    def __init__(self, *due: datetime) -> None:
        self.due = sorted(due)
        self.sent: list[datetime] = []
        self.ticks: list[datetime] = []

    def next_due(self, now: datetime) -> datetime | None:
        return next((d for d in self.due if d > now), None)

    def tick(self, now: datetime) -> SimpleNamespace:
        self.ticks.append(now)
        # A planner that only looks at "now" sends one slot per person per tick, the latest.
        ready = [d for d in self.due if d <= now and d not in self.sent]
        self.sent.extend(ready[-1:])
        return SimpleNamespace(sent=len(ready[-1:]))


def hours(n: float) -> datetime:
    return START + timedelta(hours=n)


def test_next_jumps_to_the_next_due_instant_and_ticks_there():
    schedule = Schedule(hours(11), hours(20))
    clock = SimulatedClock(START)
    move = move_clock("next", clock=clock, tick=schedule.tick, next_due=schedule.next_due)
    assert clock() == hours(11) and move.ticks == [hours(11)] and move.sent == 1


def test_next_with_nothing_scheduled_stays_put():
    clock = SimulatedClock(START)
    schedule = Schedule()
    move = move_clock("next", clock=clock, tick=schedule.tick, next_due=schedule.next_due)
    assert clock() == START and not move.moved and schedule.ticks == []


@pytest.mark.parametrize(
    ("step", "delta"),
    [("hour", timedelta(hours=1)), ("day", timedelta(days=1)), ("week", timedelta(weeks=1))],
)
def test_a_step_ticks_at_every_due_instant_on_the_way_then_at_the_target(step, delta):
    due = [hours(0.5), hours(11), hours(11), hours(20), hours(30), hours(24 * 6), hours(24 * 8)]
    schedule = Schedule(*due)
    clock = SimulatedClock(START)
    move = move_clock(step, clock=clock, tick=schedule.tick, next_due=schedule.next_due)
    target = START + delta
    expected = sorted({d for d in due if d <= target})
    assert schedule.ticks == [*expected, target]
    assert clock() == target and move.now == target
    assert schedule.sent == expected, "each slot was seen at its own time"
    assert move.sent == len(expected)


def test_a_stuck_next_due_does_not_loop():
    clock = SimulatedClock(START)
    ticks = []
    move = move_clock("day", clock=clock, tick=ticks.append, next_due=lambda now: START)
    assert move.ticks == [START + timedelta(days=1)] and ticks == move.ticks


def test_unknown_steps_are_refused():
    with pytest.raises(ValueError):
        move_clock("month", clock=SimulatedClock(START), tick=lambda now: None, next_due=lambda now: None)
