"""Pacing calls to Slack's published rate limits, shared by every sender of this process.

Slack's limits hold per method, per workspace and app, whatever the number of processes
making the calls: each instance paces at its share (``set_share``), one over the number of
instances sending at the moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

# Slack's Web API tiers for the methods the dispatcher calls besides chat.postMessage (which has a
# workspace bucket of its own, SLACK_RATE_PER_MINUTE): calls a minute, per method, per workspace and app.
# conversations.history and .replies are Tier 3 for Marketplace and internal apps (a new commercially
# distributed app outside the Marketplace gets one a minute; set its rate here to match).
SLACK_METHOD_RATES: Mapping[str, float] = {
    "conversations.open": 50,
    "conversations.history": 50,
    "conversations.replies": 50,
    "files.getUploadURLExternal": 100,
    "files.completeUploadExternal": 100,
}
HISTORY_METHODS = ("conversations.history", "conversations.replies")
# Messages asked for in a look-up: Tier 1's most (15). A look-up reads from the moment the send began,
# when a DM holds only the message looked for and what came after it, so one page is enough.
HISTORY_LIMIT = 15


def method_rates(*, history_per_minute: float) -> dict[str, float]:
    """Slack's rates for the methods the dispatcher calls, with the history methods at ``history_per_minute``."""
    return {**SLACK_METHOD_RATES, **{method: history_per_minute for method in HISTORY_METHODS}}


def history_bursts(tier: int) -> dict[str, int]:
    """Tier 1 is one call a minute with no burst: a look-up waits for its minute rather than drawing a 429."""
    return {method: 1 for method in HISTORY_METHODS} if tier == 1 else {}


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` saved. ``pause(seconds)`` stops everyone (a 429)."""

    def __init__(self, rate: float, burst: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.full_rate, self.full_burst = rate, burst
        self.share = 1.0
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

    def set_share(self, share: float) -> None:
        """Pace at ``share`` of the full rate (and burst): this process's part of a shared limit."""
        share = min(1.0, max(share, 1e-6))
        with self._lock:
            if share == self.share:
                return
            self._refill(self._monotonic())
            self.share = share
            self.rate = self.full_rate * share
            self.burst = max(1, int(self.full_burst * share))
            self._tokens = min(self._tokens, float(self.burst))


class MethodPacer:
    """One token bucket per Web API method, each at its Slack tier; methods not listed are not paced here."""

    def __init__(
        self,
        per_minute: Mapping[str, float] = SLACK_METHOD_RATES,
        *,
        burst: int = 20,
        bursts: Mapping[str, int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        bursts = bursts or {}
        self._buckets = {
            method: TokenBucket(rate / 60.0, bursts.get(method, burst), monotonic=monotonic)
            for method, rate in per_minute.items()
        }

    def paces(self, method: str) -> bool:
        return method in self._buckets

    def reserve(self, method: str) -> float:
        """Take a turn at ``method``; how long to wait before making the call (0 for a method not paced)."""
        bucket = self._buckets.get(method)
        return bucket.reserve() if bucket is not None else 0.0

    def pause(self, method: str, seconds: float) -> None:
        """Slack answered ``method`` with 429 and Retry-After: nobody calls it before that."""
        bucket = self._buckets.get(method)
        if bucket is not None:
            bucket.pause(seconds)

    def set_share(self, share: float) -> None:
        for bucket in self._buckets.values():
            bucket.set_share(share)

    def rate_per_minute(self, method: str) -> float:
        bucket = self._buckets.get(method)
        return bucket.rate * 60 if bucket is not None else float("inf")
