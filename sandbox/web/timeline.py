"""Moving the sandbox's simulated clock without skipping anything that falls due on the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

STEPS: dict[str, timedelta] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
MAX_TICKS = 2000  # a week of every-15-minute slots for a large roster; a guard, not a limit anyone meets


@dataclass
class ClockMove:
    started: datetime
    now: datetime
    ticks: list[datetime] = field(default_factory=list)
    sent: int = 0

    @property
    def moved(self) -> bool:
        return self.now != self.started


def move_clock(
    step: str,
    *,
    clock: Any,
    tick: Callable[[datetime], Any],
    next_due: Callable[[datetime], datetime | None],
) -> ClockMove:
    """Move ``clock`` by ``step`` ("next", "hour", "day" or "week"), ticking Sprout on the way.

    "next" jumps to the next instant a lesson falls due and ticks there (or stays put when
    nothing is scheduled). The others tick at every due instant up to the target, in order,
    then at the target itself: a planner that sends only what is due *now* sees each slot
    at its own time, as it would with a scheduler ticking every minute.
    """
    started = clock()
    move = ClockMove(started=started, now=started)

    def tick_at(when: datetime) -> None:
        clock.set(when)
        result = tick(when)
        move.ticks.append(when)
        move.sent += int(getattr(result, "sent", 0) or 0)
        move.now = when

    if step == "next":
        due = next_due(started)
        if due is not None and due > started:
            tick_at(due)
        return move
    if step not in STEPS:
        raise ValueError(f"unknown clock step {step!r}; use next, {', '.join(STEPS)}")
    target = started + STEPS[step]
    current = started
    while len(move.ticks) < MAX_TICKS:
        due = next_due(current)
        if due is None or due > target or due <= current:
            break
        tick_at(due)
        current = due
    tick_at(target)
    return move
