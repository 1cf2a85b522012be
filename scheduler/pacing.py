"""Pacing calls to Slack's published rate limits, shared by every sender of this process.

Slack's limits hold per method, per workspace and app, whatever the number of processes
making the calls: each instance paces at its share (``set_share``), one over the number of
instances sending at the moment.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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


class AdaptiveRate:
    """Slack's workspace limit for chat.postMessage, found rather than guessed: additive increase while Slack
    accepts, multiplicative decrease on a 429 (AIMD, as TCP finds a link's capacity).

    ``rate`` is calls a second for the whole workspace (instances take their share of it). Until the first
    429 it rises by ``start`` a second of sending (a quick start: 10/s reaches 40/s in three seconds); after a
    429 it is cut to ``decrease`` of the rate that drew it and then probes upwards by ``probe`` of that rate
    a second, so it spends its time just under the limit rather than bouncing off it. It never goes above
    ``ceiling`` (a configured SLACK_RATE_PER_MINUTE) nor below ``floor``. Time is the ``monotonic`` clock
    passed in; only time spent sending counts (a gap between calls counts for at most ``MAX_STEP`` seconds),
    so an idle night does not turn into a burst in the morning.

    >>> clock = [0.0]
    >>> pace = AdaptiveRate(start=10, monotonic=lambda: clock[0])
    >>> for n in range(1, 11): clock[0] = n / 10; rate = pace.accepted()  # ten calls in a second, at the pace
    >>> round(pace.rate, 1)
    20.0
    >>> clock[0] = 60.0; round(pace.accepted(), 1)  # a call a minute later tested nothing: no rise
    20.0
    >>> pace.rate_limited(retry_after=2)  # cut, and wait two seconds before calling again
    2.0
    >>> pace.rate
    17.0
    """

    MAX_STEP = 1.0
    WINDOW = 1.0  # seconds of accepted calls that say what Slack took when a 429 comes

    def __init__(
        self,
        *,
        start: float,
        ceiling: float | None = None,
        floor: float = 0.2,
        decrease: float = 0.85,
        probe: float = 0.01,
        learned: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start <= 0 or not 0 < decrease < 1:
            raise ValueError("start must be positive and decrease between 0 and 1")
        self.ceiling = ceiling
        self.floor = floor
        self.decrease, self.probe = decrease, probe
        self._monotonic = monotonic
        self.rate = self._bounded(start)
        self._quick = start  # the quick start's step; after a 429 (or from a learned rate) the probe's
        self._step = self.rate * probe if learned else start
        self._last = monotonic()
        self._calm_from = self._last  # 429s before this answer calls made before the last cut: cut once
        self._taken: deque[float] = deque()  # when Slack accepted each call of the last ``WINDOW`` seconds
        self.cuts = 0

    def _bounded(self, rate: float) -> float:
        rate = max(self.floor, rate)
        return min(rate, self.ceiling) if self.ceiling is not None else rate

    def accepted(self) -> float:
        """Slack accepted a call: the rate grows with the time spent sending since the last one."""
        now = self._monotonic()
        # Only time spent sending at the pace counts: a call more than two of the pace's intervals after the
        # one before did not find the pace limiting, and raises nothing. Otherwise the sparse retries at the
        # end of a fan-out, each "accepted", would raise a rate nothing was testing, and the rate kept for
        # the next start with it.
        gap = max(now - self._last, 0.0)
        elapsed = min(gap, self.MAX_STEP) if gap <= 2.0 / self.rate else 0.0
        self._last = now
        self._taken.append(now)
        while self._taken and self._taken[0] <= now - self.WINDOW:
            self._taken.popleft()
        self.rate = self._bounded(self.rate + self._step * elapsed)
        return self.rate

    def rate_limited(self, retry_after: float | None) -> float:
        """Slack answered 429: cut the rate (once for the calls already on their way) and return how long
        nobody may call — Slack's Retry-After, or a second when it gave none."""
        wait = float(retry_after) if retry_after and retry_after > 0 else 1.0
        now = self._monotonic()
        if now >= self._calm_from:
            # Cut from what Slack took over the last second when that is less than the pace asked for: a
            # quick start overshoots the limit by the burst Slack allows before its first 429, and a cut from
            # the overshoot stays above the limit and draws a second 429 and a second pause.
            taken = len(self._taken) / self.WINDOW if self._taken and now - self._taken[0] >= 0.5 else self.rate
            self.rate = self._bounded(min(self.rate, taken) * self.decrease)
            self._step = self.rate * self.probe
            self.cuts += 1
            # Calls in flight when the limit was hit come back 429 too: they do not cut again.
            self._calm_from = now + wait
        self._last = max(self._last, now + wait)  # the pause is not time spent sending
        return wait


class AdaptiveBucket(TokenBucket):
    """A token bucket whose full rate is an ``AdaptiveRate``: ``accepted`` after each call Slack took,
    ``rate_limited`` on a 429 (which also pauses every caller for Retry-After). ``set_share`` applies to
    the learned rate as to a fixed one."""

    def __init__(self, pace: AdaptiveRate, burst: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(pace.rate, burst, monotonic=monotonic)
        self.pace = pace

    def _follow(self) -> None:
        with self._lock:
            self._refill(self._monotonic())
            self.full_rate = self.pace.rate
            self.rate = self.full_rate * self.share

    def accepted(self) -> None:
        self.pace.accepted()
        self._follow()

    def rate_limited(self, retry_after: float | None) -> float:
        wait = self.pace.rate_limited(retry_after)
        self._follow()
        self.pause(wait)
        return wait

    def learned_per_minute(self) -> float:
        """The workspace's rate as learned so far (not this instance's share)."""
        return self.pace.rate * 60


# Where a workspace with nothing learned yet starts: 10 messages a second, which Slack has always accepted
# ("several hundred a minute") — the old fixed default.
START_PER_MINUTE = 600.0


def workspace_pace(*, ceiling_per_minute: float | None, learned_per_minute: float | None, burst: int) -> AdaptiveBucket:
    """The chat.postMessage pace for a workspace. From the rate learned before (a restart, another instance),
    probing gently from there; else from a configured ceiling, which the admin says Slack allows; else from
    ``START_PER_MINUTE``, rising quickly until the first 429. Never above the ceiling."""
    ceiling = ceiling_per_minute / 60 if ceiling_per_minute else None
    if learned_per_minute:
        start = learned_per_minute / 60
    else:
        start = ceiling if ceiling is not None else START_PER_MINUTE / 60
    start = min(start, ceiling) if ceiling is not None else start
    return AdaptiveBucket(AdaptiveRate(start=start, ceiling=ceiling, learned=bool(learned_per_minute)), burst)
