"""How far ahead of Slack the dispatcher renders and hands over: small at Slack's rates, larger unpaced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.dispatcher import Dispatcher
from scheduler.pacing import TokenBucket


class NeverCalled:
    """The dispatcher is only asked how it would chunk; nothing is sent."""

    async def send(self, message, *, pace=None):
        raise AssertionError("nothing is sent here")

    async def find_sent(self, channel, *, outbox_id, since, thread_ts=None, pace=None, limit=15):
        raise AssertionError("nothing is looked up here")

    async def aclose(self) -> None:
        return None


def dispatcher(store, bucket: TokenBucket | None) -> Dispatcher:
    now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    return Dispatcher(store=store, sender=NeverCalled(), render=lambda items: [], clock=lambda: now, workers=8,
                      bucket=bucket)


@pytest.mark.parametrize(("per_minute", "ahead"), [(600, 25), (1200, 25), (2400, 40), (6000, 50)])
def test_at_slacks_rates_a_crash_leaves_about_a_second_of_sends_to_look_up(store, per_minute, ahead):
    d = dispatcher(store, TokenBucket(per_minute / 60, 20))
    try:
        assert d.chunk_size() == Dispatcher.RENDER_CHUNK
        # Handed over ahead of the sends: the senders' own, and about a second of sending (one chunk at least,
        # two at most).
        assert d.window_size() == 8 + ahead
    finally:
        d.close()


def test_sending_much_faster_shares_each_chunks_database_work_among_more_messages(store):
    fast = dispatcher(store, TokenBucket(2_000, 10_000))  # a raised limit: 2,000 messages a second
    unpaced = dispatcher(store, None)
    try:
        assert fast.chunk_size() == unpaced.chunk_size() == Dispatcher.MAX_RENDER_CHUNK
        # Two chunks ahead keep every sender busy while the next one renders; never more.
        assert unpaced.window_size() == 8 + 2 * Dispatcher.MAX_RENDER_CHUNK
        assert fast.window_size() == unpaced.window_size()
        middling = dispatcher(store, TokenBucket(500, 1_000))  # 500 a second: a tenth of a second is 50
        try:
            assert middling.chunk_size() == 50
            assert middling.window_size() == 8 + 100
        finally:
            middling.close()
    finally:
        fast.close()
        unpaced.close()


@given(per_second=st.floats(min_value=0.01, max_value=1e7, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_a_chunk_always_fits_in_the_window_beside_the_senders(per_second):
    # A run fixes both from one reading of the rate; a chunk larger than its window would wait forever.
    d = Dispatcher.__new__(Dispatcher)  # only the sizing rules: no loop, no database
    d.workers, d.bucket = 8, None
    chunk, window = d.chunk_size(per_second), d.window_size(per_second)
    assert Dispatcher.RENDER_CHUNK <= chunk <= Dispatcher.MAX_RENDER_CHUNK
    assert chunk <= window - d.workers <= 2 * chunk
