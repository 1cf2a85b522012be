"""The sandbox's simulated time (the demo, the sandbox page, tests, ``tick --at``).

Sprout itself takes ``now`` as an argument everywhere; the real clock is the edge's
(``scheduler.runner.wall_clock``, which ``app.py`` passes in).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SimulatedClock:
    """A clock that stands still until moved (the demo, the sandbox, tests).

    With ``running=True`` it also flows with real time from the moment it was last set,
    which is what ``tick --at`` wants: records carry the simulated instant plus the
    seconds the tick really took.
    """

    def __init__(self, start: datetime, *, running: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._lock = threading.Lock()
        self._base = start.astimezone(UTC)
        self._running = running
        self._set_at = time.monotonic()

    def __call__(self) -> datetime:
        with self._lock:
            if self._running:
                return self._base + timedelta(seconds=time.monotonic() - self._set_at)
            return self._base

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        with self._lock:
            self._base = when.astimezone(UTC)
            self._set_at = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._base += delta
            return self._base
