"""Pacing sends to Slack's published rate limits, shared by every sender thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` saved. ``pause(seconds)`` stops everyone (a 429)."""

    def __init__(self, rate: float, burst: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._last = monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it."""
        with self._lock:
            now = self._monotonic()
            self._refill(now)
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, self._paused_until - now)

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a token on this thread (the asynchronous dispatcher uses ``reserve``)."""
        wait = self.reserve()
        if wait > 0:
            if stop is not None:
                return not stop.wait(wait)
            time.sleep(wait)
        return True

    def pause(self, seconds: float) -> None:
        with self._lock:
            now = self._monotonic()
            self._paused_until = max(self._paused_until, now + seconds)
            # Tokens handed out before the 429 are spent: start again from empty after the pause.
            self._tokens = min(self._tokens, 0.0)
            self._last = max(self._last, now)
