"""Finding Slack's workspace limit: additive increase while Slack accepts, multiplicative decrease on a 429."""

from __future__ import annotations

import pytest

from scheduler.pacing import START_PER_MINUTE, AdaptiveBucket, AdaptiveRate, workspace_pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def send_for(pace: AdaptiveRate, clock: Clock, seconds: float) -> None:
    """Calls at the pace, each accepted, for ``seconds``."""
    end = clock.now + seconds
    while clock.now + 1 / pace.rate <= end + 1e-9:
        clock.now += 1 / pace.rate
        pace.accepted()
    clock.now = end


def test_calls_slower_than_the_pace_do_not_raise_it():
    """The retries trickling in at the end of a fan-out are accepted, but they test nothing about the limit:
    the rate kept for the next start must not grow with them."""
    clock = Clock()
    pace = AdaptiveRate(start=40, monotonic=clock)
    for _ in range(60):  # a call every two seconds for two minutes
        clock.now += 2
        pace.accepted()
    assert pace.rate == 40


def test_the_rate_grows_while_slack_accepts():
    clock = Clock()
    pace = AdaptiveRate(start=10, monotonic=clock)
    send_for(pace, clock, 3)
    assert pace.rate == pytest.approx(40, rel=0.01)  # the quick start: its starting rate more each second
    before = pace.rate
    send_for(pace, clock, 1)
    assert pace.rate > before


def test_a_429_cuts_the_rate_and_the_probe_after_it_is_gentle():
    clock = Clock()
    pace = AdaptiveRate(start=40, learned=True, decrease=0.85, probe=0.01, monotonic=clock)
    send_for(pace, clock, 3)
    asked = pace.rate
    assert pace.rate_limited(retry_after=1) == 1.0
    assert pace.rate == pytest.approx(asked * 0.85, rel=0.01)  # Slack took the whole pace: cut from it
    cut = pace.rate
    clock.now += 1  # the Retry-After
    send_for(pace, clock, 10)
    assert pace.rate == pytest.approx(cut * 1.1, rel=0.01)  # 1% of the cut rate a second: ten seconds, 10%


def test_a_cut_starts_from_what_slack_took_not_from_a_pace_nobody_reached():
    """The quick start asks for more each second; by its first 429 it asks well above what Slack took (the
    burst Slack allows hid the limit for a moment). A cut from the pace asked for would stay above the limit
    and draw a second 429, and a second pause for every sender."""
    clock = Clock()
    pace = AdaptiveRate(start=10, monotonic=clock)
    send_for(pace, clock, 2)  # asks 30/s now; took 10 + 20 in its two seconds
    asked = pace.rate
    for _ in range(12):  # then Slack takes 12 calls in the next second, whatever the pace
        clock.now += 1 / 12
        pace.accepted()
    pace.rate_limited(retry_after=1)
    assert asked > 12
    assert pace.rate == pytest.approx(12 * 0.85, rel=0.05)


def test_the_429s_of_calls_already_on_their_way_cut_once():
    clock = Clock()
    pace = AdaptiveRate(start=40, monotonic=clock)
    for _ in range(8):  # eight sends in flight all come back 429
        pace.rate_limited(retry_after=1)
    assert pace.rate == pytest.approx(34) and pace.cuts == 1
    clock.now += 1.5
    pace.rate_limited(retry_after=1)  # a 429 after the pause is news: cut again
    assert pace.cuts == 2 and pace.rate == pytest.approx(34 * 0.85)


def test_the_rate_never_goes_above_a_configured_ceiling():
    clock = Clock()
    pace = AdaptiveRate(start=10, ceiling=40, monotonic=clock)
    send_for(pace, clock, 60)
    assert pace.rate == 40


def test_time_without_sending_does_not_raise_the_rate():
    clock = Clock()
    pace = AdaptiveRate(start=10, monotonic=clock)
    pace.accepted()
    clock.now += 8 * 3600  # a night without lessons
    pace.accepted()
    assert pace.rate <= 10 + 10 * AdaptiveRate.MAX_STEP


def test_the_pause_of_retry_after_is_not_counted_as_time_spent_sending():
    clock = Clock()
    pace = AdaptiveRate(start=20, monotonic=clock)
    pace.rate_limited(retry_after=30)
    cut = pace.rate
    clock.now += 30
    pace.accepted()
    assert pace.rate == pytest.approx(cut)


def test_a_429_pauses_every_caller_for_retry_after_and_slows_the_bucket():
    clock = Clock()
    bucket = AdaptiveBucket(AdaptiveRate(start=40, monotonic=clock), 2, monotonic=clock)
    bucket.rate_limited(retry_after=3)
    assert bucket.reserve() >= 3.0  # nobody calls before Retry-After has passed
    assert bucket.rate == pytest.approx(34)
    bucket.set_share(1 / 2)  # two instances sending: each at half of what was learned
    assert bucket.rate == pytest.approx(17)
    assert bucket.learned_per_minute() == pytest.approx(34 * 60)


def test_where_a_workspace_starts():
    assert workspace_pace(ceiling_per_minute=None, learned_per_minute=None, burst=2).rate == START_PER_MINUTE / 60
    assert workspace_pace(ceiling_per_minute=2400, learned_per_minute=None, burst=2).rate == 40
    learned = workspace_pace(ceiling_per_minute=None, learned_per_minute=2100, burst=2)
    assert learned.rate == 35
    assert workspace_pace(ceiling_per_minute=1200, learned_per_minute=2100, burst=2).rate == 20  # the ceiling holds
