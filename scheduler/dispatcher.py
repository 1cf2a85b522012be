"""The dispatcher sends what the outbox holds: exactly once, paced to Slack's limits.

Exactly once: a message is claimed ("sending", with this dispatcher's id), marked as handed to
Slack just before its call, and "sent" after it. Each dispatcher keeps a heartbeat row alive
while it runs. If a process dies in between, its heartbeat stops; after the lease the next
dispatcher gives its claims back: a message that was only claimed is simply due again, one
that had been handed over may be in Slack and is looked for first — every message carries its
outbox id in Slack message metadata, found with conversations.history, or for a thread reply
conversations.replies — and only sent if Slack does not have it. The same look-up follows a
5xx or a dropped connection, which may also have reached Slack. Only a short window of messages
is handed over ahead of the sends, so a crash leaves few to look up.

Pacing: one token bucket for new messages across the workspace (Slack: several hundred a
minute), a gentler one per channel (about one message a second), one per other Web API method
at its Slack tier (look-ups are Tier 3: about 50 a minute), and a 429's Retry-After pauses every
caller of that method at once instead of each one finding out for itself. A rate limit is never
counted against a message: only real failures bring it nearer to giving up. Slack's limits hold
for the whole workspace, so instances sending at the same time each take an equal share.

Sends run as coroutines on one event loop (a thread of the dispatcher's own), a bounded
number at a time, over keep-alive connections; the database work stays on the calling
thread (claims, rendering) and on a recorder thread (marking what was sent, in bulk).
Look-ups run beside the sends, not in front of them: a fan-out goes on while they wait
their turn.

Stopping (SIGTERM): ``stop`` takes no new work at once, wakes every sender waiting for its
turn, lets calls already made finish, and gives everything not handed to Slack back to the
outbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.engine import database_unavailable
from db.pacing import LearnedPaces
from db.store import OutboxItem, Store
from scheduler.pacing import AdaptiveBucket, MethodPacer, TokenBucket
from scheduler.runner import wall_clock
from scheduler.sending import (
    METADATA_EVENT_TYPE,
    Interrupted,
    OutgoingMessage,
    Sender,
    SendError,
    SentMessage,
)

log = logging.getLogger(__name__)

Renderer = Callable[[Sequence[OutboxItem]], list[OutgoingMessage | None]]
Clock = Callable[[], datetime]

AMBIGUOUS = "ambiguous: "
INTERRUPTED = AMBIGUOUS + "interrupted"  # handed to Slack by a process that died before hearing back
LOOK_BACK = timedelta(days=2)  # how far back to look for a message whose hand-over time is not recorded
# Slack's clock and ours differ by a little: a look-up starts this long before the recorded hand-over.
CLOCK_SKEW = timedelta(seconds=60)


POST_METHOD = "chat.postMessage"  # the method of the workspace bucket (``bucket``)


def _maybe_in_slack(item: OutboxItem) -> bool:
    return (item.last_error or "").startswith(AMBIGUOUS)


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    rate_limited: int = 0  # 429s answered
    looked_up: int = 0  # messages looked for in Slack before sending again
    released: int = 0  # given back unsent (stopping)

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.recovered += other.recovered
        self.rate_limited += other.rate_limited
        self.looked_up += other.looked_up
        self.released += other.released


class _Unwritten:
    """Records the database could not take while it was away (a restart, a failover), kept in order and
    written as soon as it answers again, before any new work.

    Without this, a message sent during an outage would stay "being sent" by a process that is still
    alive, which no instance ever takes over: Slack has it, the records would never say so.
    """

    def __init__(self) -> None:
        self._writes: deque[tuple[str, Callable[[], object]]] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._writes)

    def write(self, what: str, write: Callable[[], object]) -> None:
        """``write()`` now, or, while the database is away (or earlier writes still wait), later."""
        with self._lock:
            behind = bool(self._writes)
        if not behind:
            try:
                write()
                return
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                log.warning("the database is unavailable; %s kept to record when it is back: %s", what, exc)
        with self._lock:
            self._writes.append((what, write))

    def settle(self) -> bool:
        """Write what is owed, oldest first; True when nothing is left to write."""
        while True:
            with self._lock:
                if not self._writes:
                    return True
                what, write = self._writes[0]
            try:
                write()
            except Exception as exc:
                if database_unavailable(exc):
                    return False
                log.exception("could not record %s; dropped", what)  # a bug, not an outage: never block on it
            else:
                log.info("recorded %s after the database came back", what)
            with self._lock:
                self._writes.popleft()


class _Recorder:
    """Marks sent messages in bulk, a few times a second, from its own thread.

    Between a send and its mark, a crash leaves the message "sending" (handed over); recovery
    then finds it in Slack, so batching the marks costs nothing in correctness and saves one
    transaction per message. Marking often keeps the number to look up (Tier 3) small.
    """

    def __init__(self, store: Store, clock: Clock, unwritten: _Unwritten, *, every: float = 0.05) -> None:
        self.store, self.clock, self.every, self.unwritten = store, clock, every, unwritten
        self._pending: list[tuple[OutboxItem, str, str]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sprout-recorder", daemon=True)
        self._thread.start()

    def add(self, item: OutboxItem, channel: str, ts: str) -> None:
        with self._lock:
            self._pending.append((item, channel, ts))

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            now = self.clock()
            try:
                self.unwritten.write(f"{len(batch)} sent messages",
                                     lambda: self.store.mark_sent_many(batch, now=now))
            except Exception:
                log.exception("could not record %d sent messages; recovery will find them in Slack", len(batch))

    def _run(self) -> None:
        while not self._done.wait(self.every):
            self._flush()

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        self._flush()


class _Window:
    """How many claimed messages may be handed to Slack ahead of their sends finishing.

    Only handed messages need looking up after a crash, so keeping this small keeps recovery
    quick (look-ups are Tier 3), while still rendering far enough ahead to keep every sender busy.
    """

    def __init__(self, size: int) -> None:
        self._free = threading.Semaphore(size)

    def take(self, n: int, stop: threading.Event) -> bool:
        taken = 0
        while taken < n:
            if self._free.acquire(timeout=0.1):
                taken += 1
            elif stop.is_set():
                for _ in range(taken):
                    self._free.release()
                return False
        return True

    def give(self, _future: object = None) -> None:
        self._free.release()


class _Run:
    """One ``dispatch`` call: its recorder, its look-ups in flight, what it gives back when stopping."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.recorder = _Recorder(dispatcher.store, dispatcher.clock, dispatcher.unwritten)
        # Fixed for the run, together: a chunk must always fit in the window (the rate may change meanwhile,
        # as instances start and stop sending).
        rate = dispatcher.rate()
        self.chunk = dispatcher.chunk_size(rate)
        self.window = _Window(dispatcher.window_size(rate))
        self.lookups: list[Future] = []
        self._released: list[int] = []
        self._lock = threading.Lock()

    def release(self, items: Sequence[OutboxItem]) -> None:
        with self._lock:
            self._released.extend(item.id for item in items)

    def take_released(self) -> list[int]:
        with self._lock:
            ids, self._released = self._released, []
        return ids


class ChannelPacer:
    """About one message a second per channel: a fan-out to many DMs is unaffected, a burst into one
    channel (announcements, prompts) is spread out instead of drawing 429s."""

    def __init__(self, rate: float = 1.0, burst: int = 3) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def reserve(self, channel: str) -> float:
        with self._lock:
            bucket = self._buckets.get(channel)
            if bucket is None:
                if len(self._buckets) > 50_000:
                    self._buckets.clear()  # idle buckets are full anyway; forgetting them changes nothing
                bucket = self._buckets[channel] = TokenBucket(self.rate, self.burst)
        return bucket.reserve()


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        sender: Sender,
        render: Renderer,
        clock: Clock,
        workers: int = 8,
        batch_size: int = 500,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 8,
        bucket: TokenBucket | None = None,
        channel_pacer: ChannelPacer | None = None,
        method_pacer: MethodPacer | None = None,
        worker_id: str | None = None,
        lease_clock: Clock = wall_clock,
        retry_base: float = 1.0,
        history_limit: int = 15,
        learned_paces: LearnedPaces | None = None,
    ) -> None:
        self.store = store
        self.history_limit = history_limit  # messages a look-up asks for (Tier 1 allows 15)
        self.learned_paces = learned_paces  # where an adaptive pace keeps what it learned
        self._kept_pace: float | None = None
        self.sender = sender
        self.render = render
        self.clock = clock
        self.workers = workers  # sends in flight at once
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.bucket = bucket
        self.channel_pacer = channel_pacer
        self.method_pacer = method_pacer if method_pacer is not None else MethodPacer()
        self.lease_clock = lease_clock
        self.retry_base = retry_base  # seconds before the first retry; doubles each time, up to five minutes
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.senders = 1  # instances sending now, this one included: each paces at its share
        self.stopping = threading.Event()
        self.unwritten = _Unwritten()  # what the database could not take while it was away
        self._heartbeat_thread: threading.Thread | None = None
        self._heartbeat_lock = threading.Lock()
        self._dispatch_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="sprout-send", daemon=True)
        self._loop_thread.start()
        self._slots, self._stop_event = self._on_loop(_loop_primitives(workers))
        self._beat()

    def _on_loop(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- lifecycle -----------------------------------------------------------------------

    def _beat(self) -> None:
        """Say this dispatcher is alive, and take its share of Slack's limits among those sending now."""
        now = self.lease_clock()
        self.store.heartbeat(self.worker_id, host=socket.gethostname(), pid=os.getpid(), now=now)
        senders = self.store.active_senders(alive_since=now - self.lease, including=self.worker_id,
                                            exclude_kinds=self.NOT_FOR_SLACK)
        if senders != self.senders:
            log.info("%d instances sending: pacing at 1/%d of Slack's limits", senders, senders)
            self.senders = senders
        for bucket in (self.bucket, self.method_pacer):
            if bucket is not None:
                bucket.set_share(1 / senders)
        self._keep_pace(now)

    def _keep_pace(self, now: datetime) -> None:
        """Keep the rate an adaptive pace has learned, when it moved, for a restart or another instance."""
        if not isinstance(self.bucket, AdaptiveBucket) or self.learned_paces is None:
            return
        learned = self.bucket.learned_per_minute()
        if self._kept_pace is not None and abs(learned - self._kept_pace) < 0.01 * self._kept_pace:
            return
        self.learned_paces.keep(POST_METHOD, learned, now=now)
        self._kept_pace = learned

    def start_heartbeat(self) -> None:
        """Keep this dispatcher's claims (and its share of the limits) fresh from a background thread.

        Started by the first ``dispatch``: a batch can take longer than the lease, and claims that
        look dead would be taken over by another instance while this one still sends them.
        """
        with self._heartbeat_lock:
            if self._heartbeat_thread is not None or self.stopping.is_set():
                return

            def beat() -> None:
                # Often enough that instances joining or leaving a fan-out re-share the limits within seconds.
                interval = min(max(self.lease.total_seconds() / 3, 0.2), 2.0)
                while not self.stopping.wait(interval):
                    try:
                        self._beat()
                    except Exception as exc:
                        if database_unavailable(exc):
                            log.warning("heartbeat: the database is unavailable")
                        else:
                            log.exception("heartbeat failed")

            self._heartbeat_thread = threading.Thread(target=beat, name="sprout-heartbeat", daemon=True)
            self._heartbeat_thread.start()

    def stop(self) -> None:
        """Take no new work from now on (SIGTERM): senders waiting for their turn give their messages
        back to the outbox, calls already made finish, and ``dispatch`` returns as soon as they have."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop_event.set)

    def close(self) -> None:
        """Stop: messages not yet handed to Slack go back to the outbox; sends in flight finish."""
        self.stop()
        with self._dispatch_lock:  # a dispatch in progress finishes (releasing what it did not send)
            pass
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=5)
        if self._loop.is_running():
            try:
                self._on_loop(self.sender.aclose(), timeout=10)
            except Exception:
                log.debug("closing the sender failed", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=5)
        try:
            self.store.retire_worker(self.worker_id)
        except Exception:
            log.debug("could not retire worker %s", self.worker_id, exc_info=True)

    # -- the loop ------------------------------------------------------------------------

    # Outbox kinds sent elsewhere than Slack (the LRS forwarder claims its own).
    NOT_FOR_SLACK: tuple[str, ...] = ("xapi",)

    def dispatch(self, *, ids: Sequence[int] | None = None) -> DispatchResult:
        """Send every message due now (or just ``ids``), until none is left that is due."""
        total = DispatchResult()
        with self._dispatch_lock if ids is None else nullcontext():
            if self.stopping.is_set():
                return total
            self.start_heartbeat()
            if not self.unwritten.settle():
                log.warning("the database is still unavailable: nothing sent until it is back")
                return total
            total.recovered = self.recover()
            run = _Run(self)
            try:
                while not self.stopping.is_set():
                    try:
                        self._beat()
                        items = [] if ids is not None else self._claim(limit=self.batch_size,
                                                                       error_prefix=AMBIGUOUS)
                        items += self._claim(limit=self._claim_size() if ids is None else self.batch_size, ids=ids)
                    except Exception as exc:
                        if not database_unavailable(exc):
                            raise
                        log.warning("the database is unavailable; sending stops until it is back: %s", exc)
                        break
                    if items:
                        total.add(self._send_batch(items, run))
                    if ids is not None or (not items and not self._await_lookups(run, timeout=1.0)):
                        break
                self._await_lookups(run, timeout=None)
            finally:
                total.add(self._finish(run))
        return total

    def _claim(self, *, limit: int, ids: Sequence[int] | None = None, error_prefix: str | None = None):
        return self.store.claim_outbox(self.clock(), worker=self.worker_id, limit=limit, claimed_at=self.lease_clock(),
                                       ids=ids, exclude_kinds=self.NOT_FOR_SLACK, error_prefix=error_prefix)

    CLAIM_SECONDS = 5.0

    def _claim_size(self) -> int:
        """About five seconds of sending at the paced rate (the whole batch when unpaced), so a batch ends
        every few seconds and messages to look up in Slack, taken ahead of the queue at each claim, start
        their (Tier 3) look-ups within seconds instead of all together at the end of a fan-out."""
        if self.bucket is None:
            return self.batch_size
        return max(self.workers * 4, min(self.batch_size, int(self.bucket.rate * self.CLAIM_SECONDS)))

    def _await_lookups(self, run: _Run, *, timeout: float | None) -> bool:
        """Wait for the look-ups in flight (for at most ``timeout``, and not once stopping); True if any was."""
        pending = [future for future in run.lookups if not future.done()]
        busy = bool(pending)
        deadline = None if timeout is None else time.monotonic() + timeout
        while pending and not self.stopping.is_set():
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                break
            pending = list(futures_wait(pending, timeout=left).not_done)
        return busy

    def _finish(self, run: _Run) -> DispatchResult:
        """Wait for every coroutine of this run (stopping makes them quick), record, give back the rest."""
        result = DispatchResult()
        for future in run.lookups:
            try:
                result.add(future.result())
            except Exception:
                log.exception("a look-up failed")
        run.lookups.clear()
        run.recorder.close()
        released = run.take_released()
        if released:
            self.unwritten.write(f"{len(released)} unsent messages given back",
                                 lambda: self.store.release_many(released))
            result.released = len(released)
            log.info("gave %d unsent messages back to the outbox", len(released))
        self.unwritten.settle()
        return result

    def drain(self, *, timeout: float, poll: float = 0.2) -> DispatchResult:
        """Dispatch until nothing is pending, waiting out retry delays (benchmarks, tests, the demo)."""
        total = DispatchResult()
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set() and time.monotonic() < deadline:
            total.add(self.dispatch())
            counts = self.store.outbox_counts()
            if not counts.get("pending") and not counts.get("sending"):
                break
            self.stopping.wait(poll)
        return total

    def recover(self) -> int:
        """Give back what dead dispatchers left "being sent"; what they had handed to Slack is looked up
        (at Slack's pace for look-ups, beside the sends) before it is sent again."""
        return self.store.release_stale(alive_since=self.lease_clock() - self.lease, exclude=self.worker_id,
                                        maybe_sent_error=INTERRUPTED, exclude_kinds=self.NOT_FOR_SLACK)

    # -- a batch of messages -------------------------------------------------------------

    RENDER_CHUNK = 25  # messages rendered and handed over together at Slack's rates ...
    MAX_RENDER_CHUNK = 100  # ... and at most, when sending much faster

    def rate(self) -> float:
        """New messages a second this instance may send now (its share of the workspace's limit); for an
        adaptive pace, what it may reach within a run (four times now, up to its ceiling), so that the
        window sized from it does not hold back a rate that grows."""
        if isinstance(self.bucket, AdaptiveBucket):
            ceiling = self.bucket.pace.ceiling
            reach = self.bucket.rate * 4
            return min(reach, ceiling * self.bucket.share) if ceiling is not None else reach
        return self.bucket.rate if self.bucket is not None else float("inf")

    def chunk_size(self, rate: float | None = None) -> int:
        """Messages rendered and handed over together: ``RENDER_CHUNK`` at Slack's rates; sending faster
        (a raised limit, the emulator) about a tenth of a second of sends, up to ``MAX_RENDER_CHUNK``, so
        that a chunk's database work (reading its records, marking it handed over) is shared by more
        messages instead of costing as much as their sends."""
        rate = self.rate() if rate is None else rate
        return int(min(max(rate / 10, self.RENDER_CHUNK), self.MAX_RENDER_CHUNK))

    def window_size(self, rate: float | None = None) -> int:
        """How many messages may be handed to Slack ahead of their sends finishing: the senders' own,
        plus about a second of sending (one render chunk at least, two at most). Paced at Slack's
        rates that is one chunk, so a crash leaves some thirty to look up; unpaced, the second chunk
        keeps every sender busy while the next one renders."""
        rate = self.rate() if rate is None else rate
        chunk = self.chunk_size(rate)
        return self.workers + int(min(max(rate, chunk), 2 * chunk))

    def _send_batch(self, items: Sequence[OutboxItem], run: _Run) -> DispatchResult:
        """Render in small chunks on this thread while the event loop sends. A chunk is handed over
        (marked, then given to the loop) only as far ahead of the sends as the window allows; look-ups
        go on beside, awaited by ``dispatch``."""
        total = DispatchResult()
        sends = []
        away = False  # the database went away: what is left of the batch goes back unsent
        for start in range(0, len(items), run.chunk):
            chunk = items[start : start + run.chunk]
            if self.stopping.is_set() or away:
                run.release(chunk)
                continue
            try:
                messages: list[OutgoingMessage | None | Exception] = list(self.render(chunk))
            except Exception as exc:
                if database_unavailable(exc):
                    away = True
                    run.release(chunk)
                    continue
                log.exception("rendering outbox %s failed", [i.id for i in chunk])
                messages = [exc] * len(chunk)
            fresh = []
            for item, message in zip(chunk, messages, strict=True):
                if _maybe_in_slack(item):
                    run.lookups.append(asyncio.run_coroutine_threadsafe(self._deliver(item, message, run), self._loop))
                else:
                    fresh.append((item, message))
            if self.stopping.is_set() or not run.window.take(len(fresh), self.stopping):
                run.release([item for item, _ in fresh])
                continue
            try:
                at = self.lease_clock()
                self.store.mark_handed([item.id for item, _ in fresh], at=at, began=min(at, self.clock()))
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                away = True  # not handed, so not sent: back to the outbox with the rest
                for _ in fresh:
                    run.window.give()
                run.release([item for item, _ in fresh])
                continue
            sends.append(asyncio.run_coroutine_threadsafe(self._deliver_chunk(fresh, run), self._loop))
        for future in sends:
            total.add(future.result())
        return total

    async def _deliver_chunk(
        self, handed: Sequence[tuple[OutboxItem, OutgoingMessage | None | Exception]], run: _Run
    ) -> DispatchResult:
        """A chunk's messages, each sent by a task of its own (``workers`` at a time), each giving its place
        in the window back as it ends; handed to the loop at once rather than one call per message."""

        async def deliver(item: OutboxItem, message: OutgoingMessage | None | Exception) -> DispatchResult:
            try:
                return await self._deliver(item, message, run)
            finally:
                run.window.give()

        total = DispatchResult()
        for result in await asyncio.gather(*(deliver(item, message) for item, message in handed)):
            total.add(result)
        return total

    async def _deliver(self, item: OutboxItem, message: OutgoingMessage | None | Exception, run: _Run) -> DispatchResult:
        result = DispatchResult()
        try:
            if isinstance(message, Exception):
                raise message
            if _maybe_in_slack(item):
                # The last attempt may have reached Slack: look before sending again.
                result.looked_up += 1
                found = await self._look_up(item, message, result)
                if found is None:
                    return result  # the look-up failed and the message was put back for later
                if isinstance(found, SentMessage):
                    run.recorder.add(item, found.channel, found.ts)
                    result.sent += 1
                    log.info("outbox %s was already in Slack (%s); not sending it again", item.id, found.ts)
                    return result
            if message is None:
                self.unwritten.write(f"outbox {item.id} cancelled",
                                     lambda: self.store.mark_cancelled(item, reason="nothing to send"))
                result.cancelled += 1
                return result
            async with self._slots:
                if self.stopping.is_set():
                    raise Interrupted
                await self._send(item, message, run, result)
        except Interrupted:
            run.release([item])  # given back (and counted) when the run finishes
        except Exception:  # one broken message never stops the others
            log.exception("outbox %s: unexpected error", item.id)
            later = self.clock() + timedelta(minutes=5)
            self.unwritten.write(f"outbox {item.id} to retry",
                                 lambda: self.store.mark_retry(item, error="internal error", not_before=later))
            result.retried += 1
        return result

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` unless the dispatcher stops first; False if it is stopping."""
        if seconds > 0 and not self.stopping.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), seconds)
        return not self.stopping.is_set()

    async def _pace(self, method: str) -> None:
        """The sender awaits this before each Web API call: a turn under that method's Slack tier."""
        if not await self._sleep(self.method_pacer.reserve(method)):
            raise Interrupted

    async def _look_up(
        self, item: OutboxItem, message: OutgoingMessage | None, result: DispatchResult
    ) -> SentMessage | bool | None:
        """The message in Slack (a SentMessage), False if Slack does not have it, None if the look-up failed
        (the message is then due again later, still to be looked up)."""
        channel = message.channel if message is not None else item.channel
        thread_ts = message.thread_ts if message is not None else None
        # From the moment it was first handed over: a window that holds the message and little else, so one
        # page of Tier 1's 15 is enough. Leases are wall-clock, Slack's ts follow ``clock``: the earlier of both.
        if item.handed_at is not None:
            since = item.handed_at - CLOCK_SKEW
        else:
            since = min(self.lease_clock(), self.clock()) - LOOK_BACK
        while True:
            try:
                found = await self.sender.find_sent(channel, outbox_id=item.id, since=since, thread_ts=thread_ts,
                                                    pace=self._pace, limit=self.history_limit)
            except SendError as exc:
                if exc.rate_limited:
                    # Everyone waits out Retry-After for this method (the pace does), then this one asks again.
                    result.rate_limited += 1
                    self.method_pacer.pause(exc.method or "conversations.history", exc.retry_after or 1.0)
                    continue
                log.warning("cannot look for outbox %s in Slack: %s", item.id, exc.reason)
                self._failed_attempt(item, SendError(exc.reason, ambiguous=True), result)
                return None
            return found if found is not None else False

    async def _send(self, item: OutboxItem, message: OutgoingMessage, run: _Run, result: DispatchResult) -> None:
        message = OutgoingMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": item.id, "kind": item.kind}},
            file=message.file,
        )
        while True:
            if self.bucket is not None and not await self._sleep(self.bucket.reserve()):
                raise Interrupted
            if self.channel_pacer is not None and not await self._sleep(self.channel_pacer.reserve(message.channel)):
                raise Interrupted
            try:
                sent = await self.sender.send(message, pace=self._pace)
            except SendError as exc:
                if exc.rate_limited:
                    # A 429: every caller of that method waits out Retry-After, then this message goes again.
                    result.rate_limited += 1
                    if exc.method is not None and self.method_pacer.paces(exc.method):
                        self.method_pacer.pause(exc.method, exc.retry_after or 1.0)
                        continue
                    if isinstance(self.bucket, AdaptiveBucket):
                        self.bucket.rate_limited(exc.retry_after)  # slower from now on, after Retry-After
                        continue
                    if self.bucket is not None:
                        self.bucket.pause(exc.retry_after or 1.0)
                        continue
                self._failed_attempt(item, exc, result)
                return
            if isinstance(self.bucket, AdaptiveBucket):
                self.bucket.accepted()
            run.recorder.add(item, sent.channel, sent.ts)
            result.sent += 1
            return

    def _failed_attempt(self, item: OutboxItem, exc: SendError, result: DispatchResult) -> None:
        now = self.clock()
        error = (AMBIGUOUS if exc.ambiguous else "") + exc.reason
        if exc.rate_limited:
            # Slack asked us to wait: not the message's failure, so never counted towards giving up.
            later = now + timedelta(seconds=exc.retry_after or 1.0)
            self.unwritten.write(f"outbox {item.id} to retry", lambda: self.store.mark_retry(
                item, error=error, not_before=later, count_attempt=False))
            result.retried += 1
            return
        if exc.permanent or item.attempts + 1 >= self.max_attempts:
            log.warning("outbox %s to %s failed for good: %s", item.id, item.channel, exc.reason)
            self.unwritten.write(f"outbox {item.id} failed",
                                 lambda: self.store.mark_failed(item, reason=exc.reason, now=now))
            result.failed += 1
            return
        # Exponential backoff with jitter: a flaky minute never turns into a retry storm.
        delay = min(self.retry_base * 2**item.attempts, 300) * (0.5 + random.random())
        later = now + timedelta(seconds=delay)
        self.unwritten.write(f"outbox {item.id} to retry",
                             lambda: self.store.mark_retry(item, error=error, not_before=later))
        result.retried += 1


async def _loop_primitives(size: int) -> tuple[asyncio.Semaphore, asyncio.Event]:
    return asyncio.Semaphore(size), asyncio.Event()
